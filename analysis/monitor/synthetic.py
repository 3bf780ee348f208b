"""Synthetic household-year populations calibrated to the Almelo 2014 tables, scalable to the country.

Pure NumPy/pandas, seeded, vectorised per municipality (no Python loop per household).

How a municipality is built (reporting year Y, plus Y-1 and Y-2):

1. Households with a child get the three domain flags. The joint 2x2x2 distribution starts from
   the Almelo overlap table (domain brief) and is fitted per wijk to the wijk's domain counts by
   iterative proportional fitting; domain counts per wijk are then realised exactly.
2. Within each domain every indicator reaches its table count exactly: each household with a
   problem first gets one indicator (so the domain count holds), the rest of each indicator's
   count is spread over the other households of that domain. Indicators the report does not show
   (AWBZ, addiction and outreach care) fill the gap between the shown indicators and the domain.
3. Support in Y-1 and Y-2 follows the brief's counts (2012: 2,046 / 181 MVP; 2013: 2,097 / 199;
   both 1,975 / 174), so the MPG count is designed, not left to chance. Preceding years copy the
   reporting year's other indicators.

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
from analysis.monitor.report_columns import ADULT_POLICE_CODES, DOMAIN_COLUMNS, REPORT_COLUMNS

DATA_DIR = Path(__file__).resolve().parent / "data"
ALMELO_TABLE = DATA_DIR / "almelo_wijken_2014.csv"
OVERIJSSEL_TABLE = DATA_DIR / "overijssel_mpg_2014.csv"

ALMELO_TOTAL_HOUSEHOLDS = 31_392
NATIONAL_HOUSEHOLDS = 7_590_229
NATIONAL_MPG = 25_896
NATIONAL_MUNICIPALITIES = 342

#: Overlap of the domains among Almelo's households with a child (domain brief). The number with
#: all three (MVP) is not published; 230 is our assumption, consistent with 199 MVP having support
#: in 2013 and 174 MPG.
ALMELO_OVERLAP = {"1": 3719, "2": 1289, "3": 1139, "12": 947, "13": 602, "23": 301, "123": 230}

#: Support in the two preceding years, MVP and other households with a child (domain brief):
#: (both years, Y-1 only, Y-2 only).
ALMELO_SUPPORT_MVP = (174, 199 - 174, 181 - 174)
ALMELO_SUPPORT_OTHER = (1975 - 174, 2097 - 1975 - (199 - 174), 2046 - 1975 - (181 - 174))
ALMELO_HOUSEHOLDS_WITH_CHILD = 8555

#: Indicators the report does not show, as a share of the domain's households (assumption).
FILLER_RATES: dict[int, dict[str, float]] = {
    2: {
        "adult_awbz_psychosocial": 0.08,
        "adult_awbz_intellectual": 0.04,
        "adult_awbz_physical": 0.06,
        "adult_addiction_care": 0.07,
        "adult_outreach_care": 0.03,
    },
    3: {
        "child_awbz_psychosocial": 0.03,
        "child_awbz_intellectual": 0.02,
        "child_awbz_physical": 0.02,
    },
}

#: Offence type of an adult police suspect (shares of suspects; assumption).
POLICE_TYPE_SHARES = np.array([0.005, 0.015, 0.35, 0.2, 0.08, 0.15, 0.06, 0.02, 0.08, 0.04])

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
class UnitTarget:
    """Calibration targets of one unit (a wijk, or a whole municipality split into wijken)."""

    name: str
    households_with_child: int
    domain_counts: dict[int, int]
    indicator_counts: dict[str, int]  # report column -> households


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


# --- step 1: domain flags -------------------------------------------------------------------


def _overlap_seed() -> np.ndarray:
    """2x2x2 counts (d1, d2, d3) implied by the Almelo overlap figures."""
    o = ALMELO_OVERLAP
    t = np.zeros((2, 2, 2))
    t[1, 1, 1] = o["123"]
    t[1, 1, 0] = o["12"] - o["123"]
    t[1, 0, 1] = o["13"] - o["123"]
    t[0, 1, 1] = o["23"] - o["123"]
    t[1, 0, 0] = o["1"] - o["12"] - o["13"] + o["123"]
    t[0, 1, 0] = o["2"] - o["12"] - o["23"] + o["123"]
    t[0, 0, 1] = o["3"] - o["13"] - o["23"] + o["123"]
    t[0, 0, 0] = ALMELO_HOUSEHOLDS_WITH_CHILD - t.sum()
    return t


def _fit_margins(
    seed: np.ndarray, n: int, margins: dict[int, int], iterations: int = 50
) -> np.ndarray:
    """Iterative proportional fitting of a 2x2x2 table to n and the three 'yes' margins."""
    table = seed / seed.sum() * n
    for _ in range(iterations):
        for axis, d in enumerate((1, 2, 3)):
            target = np.array([n - margins[d], margins[d]], dtype=float)
            current = table.sum(axis=tuple(a for a in range(3) if a != axis))
            factor = np.divide(target, current, out=np.zeros(2), where=current > 0)
            shape = [1, 1, 1]
            shape[axis] = 2
            table = table * factor.reshape(shape)
    return table


def fitted_domain_tables(units: list[UnitTarget], rounds: int = 30) -> list[np.ndarray]:
    """Expected 2x2x2 tables per unit whose sum over units matches the Almelo overlap figures."""
    seed = _overlap_seed()
    target = _overlap_seed()
    for _ in range(rounds):
        tables = [_fit_margins(seed, u.households_with_child, u.domain_counts) for u in units]
        total = np.sum(tables, axis=0)
        # Nudge the interactions: pairs and the triple towards the brief's overlap figures.
        for cells in (((1, 1, 0),), ((1, 0, 1),), ((0, 1, 1),), ((1, 1, 1),)):
            idx = cells[0]
            if total[idx] > 0:
                seed[idx] *= target[idx] / total[idx]
    return [_fit_margins(seed, u.households_with_child, u.domain_counts) for u in units]


def _largest_remainder(weights: np.ndarray, total: int, caps: np.ndarray) -> np.ndarray:
    """Integers summing to ``total`` (when caps allow), proportional to weights, each <= cap."""
    weights = np.maximum(np.asarray(weights, dtype=float), 0)
    caps = np.asarray(caps, dtype=np.int64)
    total = int(min(total, caps.sum()))
    if total <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    if weights.sum() <= 0:
        weights = caps.astype(float)
    raw = weights / weights.sum() * total
    out = np.minimum(np.floor(raw).astype(np.int64), caps)
    while out.sum() < total:
        room = caps - out
        score = np.where(room > 0, raw - out, -np.inf)
        out[int(np.argmax(score))] += 1
    return out


def _assign_domains(
    rng: np.random.Generator, n: int, margins: dict[int, int], expected: np.ndarray
) -> np.ndarray:
    """(n, 3) boolean domain flags with exactly the given margins and about the expected overlaps."""
    flags = np.zeros((n, 3), dtype=bool)
    m1, m2, m3 = (min(margins[d], n) for d in (1, 2, 3))
    flags[rng.choice(n, m1, replace=False), 0] = True
    k12 = int(round(expected[1, 1, :].sum()))
    k12 = min(max(k12, m1 + m2 - n, 0), m1, m2)
    in1 = np.flatnonzero(flags[:, 0])
    out1 = np.flatnonzero(~flags[:, 0])
    flags[rng.choice(in1, k12, replace=False), 1] = True
    flags[rng.choice(out1, m2 - k12, replace=False), 1] = True
    groups = [
        np.flatnonzero((flags[:, 0] == a) & (flags[:, 1] == b)) for a in (0, 1) for b in (0, 1)
    ]
    weights = np.array([expected[a, b, 1] for a in (0, 1) for b in (0, 1)])
    counts = _largest_remainder(weights, m3, np.array([len(g) for g in groups]))
    for members, k in zip(groups, counts, strict=True):
        flags[rng.choice(members, int(k), replace=False), 2] = True
    return flags


# --- step 2: indicators ---------------------------------------------------------------------


def _domain_targets(domain: int, n_domain: int, counts: dict[str, int]) -> dict[str, int]:
    """Households per report column (plus fillers) among the domain's n households; sum >= n."""
    targets = {
        col: min(counts.get(col, 0), n_domain)
        for col, (d, _) in REPORT_COLUMNS.items()
        if d == domain
    }
    fillers = FILLER_RATES.get(domain, {})
    if fillers:
        shown = sum(targets.values())
        scale = max(1.0, (n_domain * 1.05 - shown) / max(sum(fillers.values()) * n_domain, 1e-9))
        for code, rate in fillers.items():
            targets[code] = min(int(round(rate * scale * n_domain)), n_domain)
    short = n_domain - sum(targets.values())
    if short > 0 and targets:
        biggest = max(targets, key=lambda c: targets[c])
        targets[biggest] = min(targets[biggest] + short, n_domain)
    return targets


def _spread_indicators(
    rng: np.random.Generator, members: np.ndarray, targets: dict[str, int]
) -> dict[str, np.ndarray]:
    """For each target, the positions (subset of members) that have it; every member gets one."""
    n = len(members)
    names = list(targets)
    if n == 0 or not names:
        return dict.fromkeys(names, members[:0])
    wanted = np.array([targets[c] for c in names], dtype=np.int64)
    primary = _largest_remainder(wanted.astype(float), n, wanted)
    owner = np.repeat(np.arange(len(names)), primary)
    order = rng.permutation(n)[: len(owner)]
    has = np.zeros((n, len(names)), dtype=bool)
    has[order, owner] = True
    for k in range(len(names)):
        extra = int(wanted[k] - primary[k])
        if extra > 0:
            free = np.flatnonzero(~has[:, k])
            has[rng.choice(free, min(extra, len(free)), replace=False), k] = True
    return {name: members[has[:, k]] for k, name in enumerate(names)}


def _values(rng: np.random.Generator, kind: str, size: int) -> np.ndarray:
    """Plausible positive values of an indicator of this kind."""
    if kind == "flag":
        return np.ones(size, dtype=np.int32)
    if kind in ("count_persons", "count_trajectories"):
        return 1 + (rng.random(size) < 0.15).astype(np.int32)
    if kind == "count_offences":
        return 1 + rng.poisson(0.5, size).astype(np.int32)
    if kind == "days":
        return rng.integers(14, 366, size, dtype=np.int32)
    if kind == "euros":
        return np.maximum(50, rng.lognormal(7.0, 1.0, size)).astype(np.int32)
    return np.ones(size, dtype=np.int32)


def _set_column(
    rng, values: dict[str, np.ndarray], code: str, rows: np.ndarray, catalogue: Catalogue
) -> None:
    if code not in values or len(rows) == 0:
        return
    indicator = catalogue.get(code)
    if code == "moves":
        values[code][rows] = rng.integers(2, 5, len(rows), dtype=np.int32)
    else:
        values[code][rows] = _values(rng, indicator.kind, len(rows))


def _fill_domain_indicators(rng, values, positions, domain, counts, catalogue) -> None:
    targets = _domain_targets(domain, len(positions), counts)
    for name, rows in _spread_indicators(rng, positions, targets).items():
        if name == "adult_police_suspect":
            kinds = rng.choice(len(ADULT_POLICE_CODES), size=len(rows), p=POLICE_TYPE_SHARES)
            for k, code in enumerate(ADULT_POLICE_CODES):
                _set_column(rng, values, code, rows[kinds == k], catalogue)
        elif name in REPORT_COLUMNS:
            for code in REPORT_COLUMNS[name][1]:
                _set_column(rng, values, code, rows, catalogue)
        else:
            _set_column(rng, values, name, rows, catalogue)


# --- step 3: support in the preceding years -------------------------------------------------


def _support_plan(rng, mvp: np.ndarray, other_weight: np.ndarray, n_child: int, mpg: int | None):
    """Booleans (support in Y-1, support in Y-2) for households with a child."""
    y1 = np.zeros(len(mvp), dtype=bool)
    y2 = np.zeros(len(mvp), dtype=bool)
    mvp_rows = rng.permutation(np.flatnonzero(mvp))
    n_mvp = len(mvp_rows)
    both, only1, only2 = ALMELO_SUPPORT_MVP
    if mpg is None:
        share = np.array([both, only1, only2]) / ALMELO_OVERLAP["123"]
        k = np.floor(share * n_mvp + 0.5).astype(int)
    else:
        rest = max(n_mvp - mpg, 0)
        k = np.array(
            [min(mpg, n_mvp), *np.floor(np.array([only1, only2]) / 56 * rest + 0.5).astype(int)]
        )
    k = np.minimum(k, n_mvp)
    cut = np.cumsum(k)
    y1[mvp_rows[: cut[1]]] = True
    y2[mvp_rows[: cut[0]]] = True
    y2[mvp_rows[cut[1] : cut[2]]] = True
    # Other households with a child: weighted sampling without replacement (Efraimidis-Spirakis),
    # households with a psychosocial problem about ten times as likely to have support.
    others = np.flatnonzero(~mvp)
    scale = n_child / ALMELO_HOUSEHOLDS_WITH_CHILD
    m = np.floor(np.array(ALMELO_SUPPORT_OTHER) * scale + 0.5).astype(int)
    keys = rng.random(len(others)) ** (1.0 / other_weight[others])
    chosen = others[np.argsort(-keys)[: m.sum()]]
    cut = np.cumsum(m)
    y1[chosen[: cut[1]]] = True
    y2[chosen[: cut[0]]] = True
    y2[chosen[cut[1] : cut[2]]] = True
    return y1, y2


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
        flags = _assign_domains(rng, n, unit.domain_counts, table)
        domains[start : start + n] = flags
        wijk[start : start + n] = unit.name
        for d in (1, 2, 3):
            positions = start + np.flatnonzero(flags[:, d - 1])
            _fill_domain_indicators(rng, values, positions, d, unit.indicator_counts, catalogue)
        start += n
    _mild_moves(rng, values, n_child, n_total)
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
    mvp = domains.all(axis=1)[:n_child]
    weight = np.where(domains[:n_child, 1] | domains[:n_child, 2], 10.0, 1.0)
    y1, y2 = _support_plan(rng, mvp, weight, n_child, spec.mpg)
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
        frames.append(_preceding_year(rng, base, values, catalogue, year - lag, support, n_child))
    return pd.concat(frames[::-1], ignore_index=True)


def _with_triple(table: np.ndarray, mvp: int) -> np.ndarray:
    """Move expected mass so the all-three cell equals ``mvp`` (margins kept approximately)."""
    table = table.copy()
    delta = mvp - table[1, 1, 1]
    table[1, 1, 1] = mvp
    for idx in ((1, 1, 0), (1, 0, 1), (0, 1, 1)):
        table[idx] = max(table[idx] - delta / 3, 0)
    return table


def _mild_moves(rng, values, n_child, n_total) -> None:
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
                1 if code in ("low_income",) else _values(rng, "count_persons", len(hit))
            )
    if n > 0 and "debt_help" in values:
        values["debt_help"][n_child + np.flatnonzero(rng.random(n) < 0.02)] = 1


def _preceding_year(rng, base, values, catalogue, year, support, n_child) -> pd.DataFrame:
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
    households = _largest_remainder(sizes, rest_households, np.full(n_other, rest_households))
    rate = (
        households
        * rng.lognormal(0.0, 0.25, n_other)
        * (1 + 0.3 * (households > np.median(households)))
    )
    mpg = _largest_remainder(rate, rest_mpg, households // 20)
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
