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
#: Columns of the classified frame, in order (indicator flags ``ind_<code>`` follow if asked).
CLASSIFIED_COLUMNS = [
    "household_id",
    "municipality",
    "wijk",
    "in_scope",
    "domain1",
    "domain2",
    "domain3",
    "mvp",
    "support_y1",
    "support_y2",
    "mpg",
]


def problem_matrix(df: pd.DataFrame, codes: list[str], catalogue: Catalogue) -> np.ndarray:
    """Boolean matrix (rows x codes): does the indicator mark a problem or support in that row."""
    values = df[codes].to_numpy(dtype=np.float64, na_value=0.0)
    thresholds = np.array([catalogue.get(c).problem_threshold for c in codes], dtype=np.float64)
    return values >= thresholds


def support_flags(df: pd.DataFrame, catalogue: Catalogue) -> np.ndarray:
    """Per row: any chronic-support indicator above zero."""
    codes = catalogue.support_codes
    values = df[codes].to_numpy(dtype=np.float64, na_value=0.0)
    return (values > 0).any(axis=1)


def _households_with_support(df: pd.DataFrame, year: int, catalogue: Catalogue) -> pd.Index:
    rows = df[df["year"].to_numpy() == year]
    return pd.Index(rows["household_id"].to_numpy()[support_flags(rows, catalogue)])


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
    current = df[df["year"].to_numpy() == year]
    ids = current["household_id"].to_numpy()
    out = current[["household_id", "municipality", "wijk"]].reset_index(drop=True)
    out["in_scope"] = (current["n_adults"].to_numpy() >= 1) & (
        current["n_children"].to_numpy() >= 1
    )
    for domain in DOMAINS:
        codes = catalogue.domain_codes(domain)
        out[f"domain{domain}"] = problem_matrix(current, codes, catalogue).any(axis=1)
    out["mvp"] = out["in_scope"] & out["domain1"] & out["domain2"] & out["domain3"]
    id_index = pd.Index(ids)
    out["support_y1"] = id_index.isin(_households_with_support(df, year - 1, catalogue))
    out["support_y2"] = id_index.isin(_households_with_support(df, year - 2, catalogue))
    out["mpg"] = out["mvp"] & out["support_y1"] & out["support_y2"]
    if with_indicators:
        codes = [c for c in catalogue.codes if catalogue.get(c).mpg_domain is not None]
        flags = problem_matrix(current, codes, catalogue)
        out = pd.concat(
            [out, pd.DataFrame(flags, columns=[f"ind_{c}" for c in codes], index=out.index)],
            axis=1,
        )
    return out
