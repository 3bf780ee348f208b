"""The baseline report's tables from classified households: counts per wijk and municipality (pure).

Counts are additive (a municipality is the sum of its wijken, the country the sum of its
municipalities), so chunks and Celery tasks return raw counts and the tables are built and
suppressed only at the end.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.effects.disclosure import percentage, suppress_table
from analysis.monitor.catalogue import Catalogue, load_catalogue
from analysis.monitor.report_columns import DOMAIN_COLUMNS, indicator_columns

KEYS = ["municipality", "wijk"]
#: Count columns besides the indicators, in table order.
SUMMARY_COLUMNS = [
    "households",
    "households_with_child",
    "domain1",
    "domain2",
    "domain3",
    "domain12",
    "domain13",
    "domain23",
    "mvp",
    "support_y1",
    "support_y2",
    "support_both",
    "mvp_support_y1",
    "mvp_support_y2",
    "mpg",
]
#: The columns the monitor command prints.
HEADLINE_COLUMNS = ["households_with_child", "domain1", "domain2", "domain3", "mvp", "mpg"]


def wijk_counts(classified: pd.DataFrame, catalogue: Catalogue | None = None) -> pd.DataFrame:
    """Raw counts per municipality and wijk from ``classify_households(..., with_indicators=True)``.

    ``households`` counts every household; every other column counts households in scope (at
    least one adult and one child) with that characteristic.
    """
    catalogue = catalogue or load_catalogue()
    scope = classified["in_scope"].to_numpy()
    d1, d2, d3 = (classified[f"domain{d}"].to_numpy() & scope for d in (1, 2, 3))
    s1 = classified["support_y1"].to_numpy() & scope
    s2 = classified["support_y2"].to_numpy() & scope
    mvp = classified["mvp"].to_numpy()
    data = {
        "households": np.ones(len(classified), dtype=np.int64),
        "households_with_child": scope,
        "domain1": d1,
        "domain2": d2,
        "domain3": d3,
        "domain12": d1 & d2,
        "domain13": d1 & d3,
        "domain23": d2 & d3,
        "mvp": mvp,
        "support_y1": s1,
        "support_y2": s2,
        "support_both": s1 & s2,
        "mvp_support_y1": mvp & s1,
        "mvp_support_y2": mvp & s2,
        "mpg": classified["mpg"].to_numpy(),
    }
    for name, (_, codes) in indicator_columns(catalogue).items():
        flags = classified[[f"ind_{c}" for c in codes]].to_numpy().any(axis=1)
        data[name] = flags & scope
    # Group codes of (municipality, wijk) once, then one bincount per count column.
    municipality = pd.Categorical(classified["municipality"].array)
    wijk = pd.Categorical(classified["wijk"].array)
    code = municipality.codes.astype(np.int64) * max(len(wijk.categories), 1) + wijk.codes
    groups, inverse = np.unique(code, return_inverse=True)
    counts = pd.DataFrame(
        {
            "municipality": [
                str(m) for m in municipality.categories[groups // max(len(wijk.categories), 1)]
            ],
            "wijk": [str(w) for w in wijk.categories[groups % max(len(wijk.categories), 1)]],
        }
    )
    for name, values in data.items():
        weights = np.asarray(values, dtype=np.float64)
        counts[name] = np.rint(np.bincount(inverse, weights=weights, minlength=len(groups))).astype(
            np.int64
        )
    return counts.sort_values(KEYS, ignore_index=True)


def combine_counts(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Sum count frames from several chunks (a wijk split over chunks is added up)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=KEYS)
    frame = pd.concat(parts, ignore_index=True)
    return frame.groupby(KEYS, sort=True).sum().reset_index()


def municipality_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """Counts per municipality (the sum of its wijken)."""
    cols = [c for c in counts.columns if c not in KEYS]
    return counts.groupby("municipality", sort=True)[cols].sum().reset_index()


def _with_shares(table: pd.DataFrame, share_cols: list[str]) -> pd.DataFrame:
    """Add pct_<col>: share of households with a child, '*' counted as 5 (the report's rule)."""
    out = table.copy()
    for col in share_cols:
        out[f"pct_{col}"] = [
            percentage(n, d) for n, d in zip(out[col], out["households_with_child"], strict=True)
        ]
    return out


def report_table(counts: pd.DataFrame, by: str = "wijk", suppress: bool = True) -> pd.DataFrame:
    """The report's table per wijk (``by="wijk"``) or per municipality, with shares.

    With ``suppress`` counts 1-9 become "*" plus secondary suppression within each column,
    because the total row (the municipality, or all municipalities) is shown as well. Shares
    are computed from the printed counts.
    """
    if by == "municipality":
        table = municipality_counts(counts)
        groups = [table]
    elif by == "wijk":
        table = counts.copy()
        groups = [g for _, g in table.groupby("municipality", sort=True)]
    else:
        raise ValueError(f"by must be 'wijk' or 'municipality', not {by!r}")
    cols = [c for c in table.columns if c not in KEYS]
    if suppress:
        table = pd.concat([suppress_table(g, cols, totals="columns") for g in groups])
    share_cols = [c for c in cols if c not in ("households", "households_with_child")]
    return _with_shares(table, share_cols).reset_index(drop=True)


def report_columns_renamed(table: pd.DataFrame) -> pd.DataFrame:
    """Rename domain columns to the baseline report's names (se_any_socio_economic, ...)."""
    mapping = {f"domain{d}": col for d, col in DOMAIN_COLUMNS.items()}
    mapping.update({f"pct_domain{d}": f"pct_{col}" for d, col in DOMAIN_COLUMNS.items()})
    return table.rename(columns=mapping)
