"""Builders of hand-made household-year frames for the monitor tests."""

import pandas as pd

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
