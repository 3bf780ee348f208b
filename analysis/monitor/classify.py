"""Vectorised MPG classification of household-year registry data (pure pandas/NumPy, no Django).

Domain brief, "Who counts as a multi-problem family": a household is in scope with at least one
adult and one child 0-17 in the reporting year Y; it has a problem in core domain d when any
indicator of that domain is above zero (``moves`` only at 2 or more; indicators without a domain
do not classify); MVP = problems in all three domains; MPG = MVP and support (any
``chronic_support`` indicator above zero) in both Y-1 and Y-2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.monitor.catalogue import Catalogue, load_catalogue

#: Columns every household-year extract carries besides the indicators.
HOUSEHOLD_COLUMNS = ["household_id", "year", "municipality", "wijk", "n_adults", "n_children"]
DOMAINS = (1, 2, 3)


def _column(df: pd.DataFrame, code: str) -> np.ndarray:
    """One indicator column as a NumPy array, missing values as 0."""
    column = df[code]
    if pd.api.types.is_integer_dtype(column) and not isinstance(column.dtype, pd.ArrowDtype):
        return column.to_numpy()
    return column.to_numpy(dtype=np.float64, na_value=0.0)


def problem_matrix(
    df: pd.DataFrame, codes: list[str], catalogue: Catalogue, rows: np.ndarray | None = None
) -> np.ndarray:
    """Boolean matrix (rows x codes): does the indicator mark a problem in that row.

    Built column by column (no mixed-dtype copy of the frame); ``rows`` selects rows by a mask.
    """
    n = len(df) if rows is None else int(rows.sum())
    flags = np.empty((n, len(codes)), dtype=bool)
    for j, code in enumerate(codes):
        values = _column(df, code)
        if rows is not None:
            values = values[rows]
        flags[:, j] = values >= catalogue.get(code).problem_threshold
    return flags


def support_flags(df: pd.DataFrame, catalogue: Catalogue) -> np.ndarray:
    """Per row: any chronic-support indicator above zero."""
    support = np.zeros(len(df), dtype=bool)
    for code in catalogue.support_codes:
        support |= _column(df, code) > 0
    return support


def classify_households(
    df: pd.DataFrame,
    year: int,
    catalogue: Catalogue | None = None,
    with_indicators: bool = False,
) -> pd.DataFrame:
    """One row per household present in ``year`` with its scope, domain, MVP and MPG flags.

    ``df`` is a household-year frame (``HOUSEHOLD_COLUMNS`` plus the catalogue's indicator
    columns) holding at least ``year``; rows of ``year - 1`` and ``year - 2`` give the support
    history (a household absent in a preceding year had no support there). With
    ``with_indicators`` the frame also gets ``ind_<code>`` flags (problem per indicator).
    """
    catalogue = catalogue or load_catalogue()
    years = df["year"].to_numpy()
    now = years == year
    all_ids = df["household_id"].to_numpy()
    ids = all_ids[now]
    out = pd.DataFrame(
        {
            "household_id": ids,
            "municipality": df["municipality"].array[now],
            "wijk": df["wijk"].array[now],
        }
    )
    out["in_scope"] = (df["n_adults"].to_numpy()[now] >= 1) & (
        df["n_children"].to_numpy()[now] >= 1
    )
    classifying = [c for c in catalogue.codes if catalogue.get(c).mpg_domain is not None]
    flags = problem_matrix(df, classifying, catalogue, rows=now)
    domain_of = np.array([catalogue.get(c).mpg_domain for c in classifying])
    for domain in DOMAINS:
        out[f"domain{domain}"] = flags[:, domain_of == domain].any(axis=1)
    out["mvp"] = out["in_scope"] & out["domain1"] & out["domain2"] & out["domain3"]
    support = support_flags(df, catalogue)
    id_index = pd.Index(ids)
    for lag in (1, 2):
        supported = pd.Index(all_ids[(years == year - lag) & support])
        out[f"support_y{lag}"] = id_index.isin(supported)
    out["mpg"] = out["mvp"] & out["support_y1"] & out["support_y2"]
    if with_indicators:
        out = pd.concat(
            [out, pd.DataFrame(flags, columns=[f"ind_{c}" for c in classifying], index=out.index)],
            axis=1,
        )
    return out
