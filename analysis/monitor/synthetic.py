"""Synthetic household-year populations calibrated to the Almelo 2014 tables, scalable to the country.

Pure NumPy/pandas, seeded, vectorised per municipality (no Python loop per household).

How a municipality is built (reporting year Y, plus Y-1 and Y-2): domain flags per wijk,
indicators within each domain and support in the preceding years, each calibrated to the tables
(the steps are in analysis/monitor/synthetic_calibration.py). Preceding years copy the reporting
year's other indicators.

Known simplifications: no households move in or out between years; a suppressed cell ("*") is
calibrated as 5; the Almelo per-wijk table gives 3,719 socio-economic households where the
overlap table says 3,779, and the generator follows the per-wijk table.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.monitor.catalogue import Catalogue, load_catalogue
from analysis.monitor.report_columns import DOMAIN_COLUMNS, REPORT_COLUMNS
from analysis.monitor.synthetic_calibration import (
    ALMELO_OVERLAP,
    ALMELO_SUPPORT_MVP,
    UnitTarget,
    assign_domains,
    fill_domain_indicators,
    fitted_domain_tables,
    indicator_values,
    largest_remainder,
    support_plan,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
ALMELO_TABLE = DATA_DIR / "almelo_wijken_2014.csv"
OVERIJSSEL_TABLE = DATA_DIR / "overijssel_mpg_2014.csv"

ALMELO_TOTAL_HOUSEHOLDS = 31_392
NATIONAL_HOUSEHOLDS = 7_590_229
NATIONAL_MPG = 25_896
NATIONAL_MUNICIPALITIES = 342

#: Shares of households without children with an indicator (not classified; for realism).
CHILDLESS_RATES = {
    "bijstand": 0.05,
    "ww": 0.04,
    "disability_benefit": 0.08,
    "other_benefit": 0.02,
    "low_income": 0.03,
    "adult_ggz_basic_eur": 0.03,
    "adult_ggz_specialised_eur": 0.04,
    "adult_police_property": 0.01,
}


@dataclass
class MunicipalitySpec:
    """What to generate for one municipality."""

    name: str
    total_households: int
    units: list[UnitTarget]
    mvp: int | None = None  # fix the number with all three domains (None: from the overlap table)
    mpg: int | None = None  # fix the number of MPG (None: Almelo's support shares)
    wijk_names: list[str] = field(default_factory=list)  # split units into these wijken at random


def _cell(value: str) -> int:
    return 5 if value.strip() == "*" else int(value)


def almelo_targets(path: str | Path = ALMELO_TABLE) -> tuple[list[UnitTarget], UnitTarget]:
    """The Almelo per-wijk table as targets ('*' = 5): the wijken and the 'totaal' row."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    units = []
    for row in rows:
        units.append(
            UnitTarget(
                name=row["wijk"],
                households_with_child=_cell(row["households_with_child"]),
                domain_counts={d: _cell(row[col]) for d, col in DOMAIN_COLUMNS.items()},
                indicator_counts={col: _cell(row[col]) for col in REPORT_COLUMNS},
            )
        )
    total = next(u for u in units if u.name.lower().endswith("totaal"))
    return [u for u in units if u is not total], total


def almelo_spec() -> MunicipalitySpec:
    """Almelo as in 2014: 12 wijken, 8,555 households with a child, 31,392 households."""
    wijken, _ = almelo_targets()
    return MunicipalitySpec(name="Almelo", total_households=ALMELO_TOTAL_HOUSEHOLDS, units=wijken)


# --- assembling a municipality ---------------------------------------------------------------


def _empty_values(catalogue: Catalogue, n: int) -> dict[str, np.ndarray]:
    return {code: np.zeros(n, dtype=np.int32) for code in catalogue.codes}


def generate_municipality(
    spec: MunicipalitySpec,
    year: int,
    seed: int | np.random.Generator = 0,
    catalogue: Catalogue | None = None,
    id_offset: int = 0,
) -> pd.DataFrame:
    """Household-year rows (years Y-2, Y-1, Y) for one municipality."""
    rng = np.random.default_rng(seed)
    catalogue = catalogue or load_catalogue()
    n_child = sum(u.households_with_child for u in spec.units)
    n_total = max(spec.total_households, n_child)
    values = _empty_values(catalogue, n_total)
    domains = np.zeros((n_total, 3), dtype=bool)
    wijk = np.empty(n_total, dtype=object)
    tables = fitted_domain_tables(spec.units, rounds=30 if len(spec.units) > 1 else 0)
    start = 0
    for unit, table in zip(spec.units, tables, strict=True):
        n = unit.households_with_child
        if spec.mvp is not None and len(spec.units) == 1:
            table = _with_triple(table, spec.mvp)
        flags = assign_domains(rng, n, unit.domain_counts, table)
        domains[start : start + n] = flags
        wijk[start : start + n] = unit.name
        for d in (1, 2, 3):
            positions = start + np.flatnonzero(flags[:, d - 1])
            fill_domain_indicators(rng, values, positions, d, unit.indicator_counts, catalogue)
        start += n
    _mild_moves(rng, values, n_total)
    _childless_indicators(rng, values, n_child, n_total)
    if spec.wijk_names:
        wijk[:] = np.asarray(spec.wijk_names, dtype=object)[
            rng.integers(0, len(spec.wijk_names), n_total)
        ]
    else:
        names = [u.name for u in spec.units]
        wijk[n_child:] = np.asarray(names, dtype=object)[
            rng.integers(0, len(names), n_total - n_child)
        ]
    mvp = np.asarray(domains.all(axis=1))[:n_child]
    weight = np.where(domains[:n_child, 1] | domains[:n_child, 2], 10.0, 1.0)
    y1, y2 = support_plan(rng, mvp, weight, n_child, spec.mpg)
    n_adults = np.where(rng.random(n_total) < 0.25, 1, 2).astype(np.int8)
    n_children = np.zeros(n_total, dtype=np.int8)
    n_children[:n_child] = rng.choice([1, 2, 3, 4], n_child, p=[0.4, 0.4, 0.15, 0.05])
    base = pd.DataFrame(
        {
            "household_id": np.arange(n_total, dtype=np.int64) + id_offset,
            "year": np.int32(year),
            "municipality": spec.name,
            "wijk": wijk.astype(str),
            "n_adults": n_adults,
            "n_children": n_children,
        }
    )
    frames = [pd.concat([base, pd.DataFrame(values)], axis=1)]
    for lag, support in ((1, y1), (2, y2)):
        frames.append(_preceding_year(base, values, catalogue, year - lag, support, n_child))
    return pd.concat(frames[::-1], ignore_index=True)


def _with_triple(table: np.ndarray, mvp: int) -> np.ndarray:
    """Move expected mass so the all-three cell equals ``mvp`` (margins kept approximately)."""
    table = table.copy()
    delta = mvp - table[1, 1, 1]
    table[1, 1, 1] = mvp
    for idx in ((1, 1, 0), (1, 0, 1), (0, 1, 1)):
        table[idx] = max(table[idx] - delta / 3, 0)
    return table


def _mild_moves(rng, values, n_total) -> None:
    """One move in the year (not a problem) for some households without high mobility."""
    if "moves" not in values:
        return
    one = (rng.random(n_total) < 0.08) & (values["moves"] == 0)
    values["moves"][one] = 1


def _childless_indicators(rng, values, n_child, n_total) -> None:
    n = n_total - n_child
    for code, rate in CHILDLESS_RATES.items():
        if code in values and n > 0:
            hit = n_child + np.flatnonzero(rng.random(n) < rate)
            values[code][hit] = (
                1 if code in ("low_income",) else indicator_values(rng, "count_persons", len(hit))
            )
    if n > 0 and "debt_help" in values:
        values["debt_help"][n_child + np.flatnonzero(rng.random(n) < 0.02)] = 1


def _preceding_year(base, values, catalogue, year, support, n_child) -> pd.DataFrame:
    """A preceding year: the same households and indicators, support as planned."""
    support_codes = catalogue.support_codes
    prior = {code: column.copy() for code, column in values.items()}
    had = np.zeros(len(base), dtype=bool)
    for code in support_codes:
        had |= prior[code] > 0
    plan = had.copy()
    plan[:n_child] = support
    for code in support_codes:
        prior[code][~plan] = 0
    # Households with planned support but no support indicator this year get ambulant youth care.
    need = plan & ~had
    fallback = (
        "child_youth_care_ambulant" if "child_youth_care_ambulant" in prior else support_codes[0]
    )
    prior[fallback][need] = 1
    frame = base.copy()
    frame["year"] = np.int32(year)
    return pd.concat([frame, pd.DataFrame(prior)], axis=1)


def generate_almelo(
    year: int = 2014, seed: int = 2014, catalogue: Catalogue | None = None
) -> pd.DataFrame:
    """Almelo's synthetic population for ``year`` and the two years before it."""
    return generate_municipality(almelo_spec(), year=year, seed=seed, catalogue=catalogue)


# --- the country -----------------------------------------------------------------------------


def _scaled_unit(name: str, n_child: int, profile: UnitTarget) -> UnitTarget:
    f = n_child / profile.households_with_child
    return UnitTarget(
        name=name,
        households_with_child=n_child,
        domain_counts={d: int(round(c * f)) for d, c in profile.domain_counts.items()},
        indicator_counts={k: int(round(c * f)) for k, c in profile.indicator_counts.items()},
    )


def national_specs(seed: int = 0, municipalities: int | None = None) -> list[MunicipalitySpec]:
    """Specs for the country: Overijssel's 25 municipalities from the table, the rest synthetic.

    Totals: 7,590,229 households in 342 municipalities with 25,896 MPG (0.34 %). Almelo keeps its
    wijk table; other municipalities get the Almelo profile scaled to their size, with their MPG
    count fixed. ``municipalities`` keeps only the first n (Almelo first) for quick runs.
    """
    rng = np.random.default_rng(seed)
    with OVERIJSSEL_TABLE.open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if "(total)" not in r["region"]]
    known = [(r["region"], int(r["total_households"]), int(r["mpg_households"])) for r in rows]
    n_other = NATIONAL_MUNICIPALITIES - len(known)
    rest_households = NATIONAL_HOUSEHOLDS - sum(k[1] for k in known)
    rest_mpg = NATIONAL_MPG - sum(k[2] for k in known)
    sizes = rng.lognormal(0.0, 0.9, n_other)
    households = largest_remainder(sizes, rest_households, np.full(n_other, rest_households))
    rate = (
        households
        * rng.lognormal(0.0, 0.25, n_other)
        * (1 + 0.3 * (households > np.median(households)))
    )
    mpg = largest_remainder(rate, rest_mpg, households // 20)
    others = [
        (f"Gemeente {i + 1:03d}", int(h), int(g))
        for i, (h, g) in enumerate(zip(households, mpg, strict=True))
    ]
    _, profile = almelo_targets()
    specs = []
    for name, total, g in known + others:
        if name == "Almelo":
            specs.append(almelo_spec())
            continue
        share = rng.uniform(0.24, 0.31)
        n_child = int(round(total * share))
        mvp = int(round(g * ALMELO_OVERLAP["123"] / ALMELO_SUPPORT_MVP[0]))
        n_wijken = int(np.clip(total // 2500, 1, 60))
        specs.append(
            MunicipalitySpec(
                name=name,
                total_households=total,
                units=[_scaled_unit(name, n_child, profile)],
                mvp=mvp,
                mpg=g,
                wijk_names=[f"{name} wijk {w + 1:02d}" for w in range(n_wijken)],
            )
        )
    return specs[:municipalities] if municipalities else specs


def iter_population(
    specs: Iterable[MunicipalitySpec], year: int, seed: int = 0, catalogue: Catalogue | None = None
) -> Iterator[pd.DataFrame]:
    """One household-year frame per municipality, seeded per municipality (order-independent)."""
    catalogue = catalogue or load_catalogue()
    for i, spec in enumerate(specs):
        yield generate_municipality(
            spec,
            year=year,
            seed=np.random.default_rng([seed, i]),
            catalogue=catalogue,
            id_offset=i * 10_000_000,
        )


def write_population(frames: Iterable[pd.DataFrame], path: str | Path) -> int:
    """Stream frames to CSV or Parquet (one row group per frame); returns the number of rows."""
    path = Path(path)
    rows = 0
    if path.suffix.lower() == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer = None
        try:
            for frame in frames:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema, compression="zstd")
                writer.write_table(table)
                rows += len(frame)
        finally:
            if writer is not None:
                writer.close()
        return rows
    if path.suffix.lower() != ".csv":
        raise ValueError(f"{path}: output must end in .csv or .parquet")
    with path.open("w", newline="", encoding="utf-8") as handle:
        for i, frame in enumerate(frames):
            frame.to_csv(handle, index=False, header=i == 0)
            rows += len(frame)
    return rows
