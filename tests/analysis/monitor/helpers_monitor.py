"""Builders of hand-made household-year frames for the monitor tests."""

import numpy as np
import pandas as pd

from analysis.monitor import runner, services
from analysis.monitor.catalogue import load_catalogue


def household_rows(rows: list[dict]) -> pd.DataFrame:
    """Household-year frame: every indicator 0 unless the row dict sets it."""
    codes = load_catalogue().codes
    base = {"municipality": "Almelo", "wijk": "Binnenstad", "n_adults": 2, "n_children": 1}
    records = [{**base, **dict.fromkeys(codes, 0), **row} for row in rows]
    return pd.DataFrame.from_records(records)


def three_years(household_id, year=2014, y0=None, y1=None, y2=None, **common) -> list[dict]:
    """Rows for Y, Y-1, Y-2 of one household; y0/y1/y2 hold that year's indicator values."""
    rows = []
    for offset, values in enumerate((y0, y1, y2)):
        if values is False:
            continue  # household absent in that year
        rows.append(
            {"household_id": household_id, "year": year - offset, **common, **(values or {})}
        )
    return rows


YEAR = 2014


def random_extract(seed: int, households: int = 3000, text_ids: bool = False) -> pd.DataFrame:
    """Several municipalities and wijken, sparse random indicators, households missing in some
    years, other years mixed in, rows shuffled within each municipality."""
    rng = np.random.default_rng(seed)
    catalogue = load_catalogue()
    municipalities = ["Almelo", "Borne", "Hengelo", "Delden", "Enschede"]
    home = rng.integers(0, len(municipalities), households)
    frames = []
    for year in (YEAR - 3, YEAR - 2, YEAR - 1, YEAR):
        present = rng.random(households) < 0.9
        n = int(present.sum())
        ids = np.flatnonzero(present)
        frame = {
            "household_id": [f"hh{i:05d}" for i in ids] if text_ids else ids * 7 + 11,
            "year": np.full(n, year),
            "municipality": np.asarray(municipalities, dtype=object)[home[ids]],
            "wijk": np.asarray([f"W{k}" for k in range(6)], dtype=object)[
                (ids * 13 + rng.integers(0, 2, n)) % 6
            ],
            "n_adults": rng.integers(0, 3, n),
            "n_children": rng.choice([0, 1, 2], n, p=[0.3, 0.4, 0.3]),
        }
        for indicator in catalogue.indicators:
            hit = rng.random(n) < 0.25
            top = int(min(indicator.max, 4))
            frame[indicator.code] = np.where(hit, rng.integers(1, top + 1, n), 0)
        frames.append(pd.DataFrame(frame))
    data = pd.concat(frames, ignore_index=True)
    order = np.lexsort((rng.random(len(data)), data["municipality"].to_numpy()))
    return data.iloc[order].reset_index(drop=True)


def reports_saved(*, path, year: int = YEAR, **options):
    """Count the extract with the monitor's runner and store its reports (as --save does)."""
    combined = runner.monitor_count(path=path, year=year)
    return services.monitor_reports_save(path=path, year=year, combined=combined, **options)


def stored_reports(tmp_path, households: int = 400, seed: int = 7):
    """Store monitor reports (Almelo, Borne, ...) from a small random extract; none published."""
    path = tmp_path / "extract.csv"
    random_extract(seed, households=households).to_csv(path, index=False)
    return {r.municipality: r for r in reports_saved(path=path, year=YEAR)}


def shown_counts(table: dict) -> list:
    """Every count a display table shows (without its share)."""
    return [cell["count"] for row in table["rows"] for cell in row["cells"]]
