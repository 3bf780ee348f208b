"""Checks and cleaning of a long panel (one row per unit and period) before any DiD estimator runs,
and the preparation every regression-based estimator shares: the estimation sample of one outcome
as arrays (:func:`prepare`). Results leave the package through :func:`json_safe`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.did.linear import codes

MIN_TREATED_UNITS = 2
MIN_CONTROL_UNITS = 2


class PanelError(ValueError):
    """The panel cannot be analysed; the message says what is wrong and where."""


def show(value: Any) -> str:
    """A value as a user would write it (8001, 2006, 'a'), not as numpy prints it."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return repr(value) if isinstance(value, str) else str(value)


def numeric_column(df: pd.DataFrame, col: str, *, allow_missing: bool) -> pd.Series:
    """Column ``col`` as floats, refusing text and (unless allowed) empty cells, naming the row."""
    raw = df[col]
    if raw.dtype == bool:
        raw = raw.astype(float)
    try:
        values = pd.to_numeric(raw, errors="coerce")
    except (TypeError, ValueError):  # e.g. nested objects pandas cannot even try to parse
        values = pd.Series(np.nan, index=raw.index)
    values = values.astype(float)
    bad = values.isna() & raw.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise PanelError(
            f"column '{col}' must be numeric; data row {row + 1} has {show(raw.iloc[row])}"
        )
    if np.isinf(values.to_numpy()).any():
        row = int(np.flatnonzero(np.isinf(values.to_numpy()))[0])
        raise PanelError(f"column '{col}' has an infinite value in data row {row + 1}")
    if not allow_missing and values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise PanelError(f"column '{col}' is empty in data row {row + 1}")
    return values


def _check_columns(df: pd.DataFrame, needed: Sequence[str]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise PanelError("the panel must be a table (pandas DataFrame)")
    missing = [c for c in dict.fromkeys(needed) if c not in df.columns]
    if missing:
        raise PanelError(f"column(s) not found in the panel: {', '.join(missing)}")
    if len(df) == 0:
        raise PanelError("the panel has no rows")


def _check_units(out: pd.DataFrame, unit: str, time: str, cohort: str) -> None:
    if out[unit].isna().any():
        row = int(np.flatnonzero(out[unit].isna().to_numpy())[0])
        raise PanelError(f"column '{unit}' is empty in data row {row + 1}")
    dup = out.duplicated([unit, time])
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise PanelError(
            f"unit {show(out[unit].iloc[row])} has more than one row for period"
            f" {show(out[time].iloc[row])} (data row {row + 1})"
        )
    per_unit = out.groupby(unit, sort=False)[cohort].nunique()
    if (per_unit > 1).any():
        bad = per_unit.index[per_unit > 1][0]
        values = sorted(out.loc[out[unit] == bad, cohort].unique())
        raise PanelError(
            f"unit {show(bad)} changes cohort over time (column '{cohort}' has"
            f" {', '.join(show(v) for v in values)}); the cohort must be the same in every row"
        )
    if (out[cohort] < 0).any():
        row = int(np.flatnonzero((out[cohort] < 0).to_numpy())[0])
        raise PanelError(f"column '{cohort}' is negative in data row {row + 1}")


def _check_treatment(out: pd.DataFrame, unit: str, time: str, cohort: str, treatment: str) -> None:
    d = numeric_column(out, treatment, allow_missing=False)
    if not d.isin([0.0, 1.0]).all():
        row = int(np.flatnonzero((~d.isin([0.0, 1.0])).to_numpy())[0])
        raise PanelError(
            f"column '{treatment}' must be 0 or 1; data row {row + 1} has {show(d.iloc[row])}"
        )
    ordered = pd.DataFrame(
        {"u": out[unit].to_numpy(), "t": out[time].to_numpy(), "d": d.to_numpy()}
    )
    ordered = ordered.sort_values(["u", "t"], kind="stable")
    step = ordered.groupby("u", sort=False)["d"].diff()
    if (step < 0).any():
        where = ordered.loc[step < 0].iloc[0]
        raise PanelError(
            f"treatment switches off for unit {show(where['u'])} in period {show(where['t'])};"
            " once treated, a unit must stay treated"
        )
    expected = ((out[cohort] > 0) & (out[time] >= out[cohort])).astype(float).to_numpy()
    mismatch = expected != d.to_numpy()
    if mismatch.any():
        row = int(np.flatnonzero(mismatch)[0])
        raise PanelError(
            f"column '{treatment}' disagrees with cohort '{cohort}' for unit"
            f" {show(out[unit].iloc[row])} in period {show(out[time].iloc[row])} (data row {row + 1})"
        )


def _check_groups(out: pd.DataFrame, unit: str, time: str, cohort: str, control: str) -> None:
    per_unit = out.groupby(unit, sort=False)[cohort].first()
    n_treated = int((per_unit > 0).sum())
    if n_treated < MIN_TREATED_UNITS:
        raise PanelError(
            f"at least {MIN_TREATED_UNITS} treated units are needed (cohort > 0); found {n_treated}"
        )
    if control == "notyet":
        first = per_unit[per_unit > 0].min()
        n_control = int(((per_unit == 0) | (per_unit > first)).sum())
        what = "never-treated or later-treated"
    else:
        n_control = int((per_unit == 0).sum())
        what = "never-treated (comparison)"
    if n_control < MIN_CONTROL_UNITS:
        raise PanelError(
            f"at least {MIN_CONTROL_UNITS} {what} units are needed (cohort 0 or empty);"
            f" found {n_control}"
        )
    treated_rows = out[out[cohort] > 0]
    earliest = treated_rows.groupby(cohort)[time].min()
    for g, t0 in earliest.items():
        if not t0 < g:
            raise PanelError(
                f"cohort {show(g)} has no period before treatment in the data"
                f" (its earliest period is {show(t0)}); a DiD needs a pre-period"
            )


def validate_panel(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcomes: Sequence[str],
    covariates: Sequence[str] = (),
    treatment: str | None = None,
    control: str = "never",
) -> pd.DataFrame:
    """A checked, cleaned copy of a long panel, or a PanelError saying what is wrong and where.

    Cohort is the first treated period; empty or 0 means never treated (stored as 0). Time,
    cohort, outcomes and covariates become floats; empty outcome or covariate cells are kept
    (estimators drop them per analysis), so unbalanced panels pass. ``control="notyet"`` accepts
    later-treated units as the comparison group instead of requiring 2 never-treated units.
    Rows are sorted by unit and time.
    """
    if isinstance(outcomes, str):
        outcomes = (outcomes,)
    if isinstance(covariates, str):
        covariates = (covariates,)
    needed = [unit, time, cohort, *outcomes, *covariates] + ([treatment] if treatment else [])
    _check_columns(df, needed)
    if not outcomes:
        raise PanelError("no outcome column given")
    out = df.copy()
    out[time] = numeric_column(df, time, allow_missing=False)
    out[cohort] = numeric_column(df, cohort, allow_missing=True).fillna(0.0)
    for col in dict.fromkeys([*outcomes, *covariates]):
        out[col] = numeric_column(df, col, allow_missing=True)
    out = out.reset_index(drop=True)
    _check_units(out, unit, time, cohort)
    if treatment:
        _check_treatment(out, unit, time, cohort, treatment)
    for col in outcomes:
        if out[col].notna().sum() == 0:
            raise PanelError(f"outcome column '{col}' has no values")
    _check_groups(out, unit, time, cohort, control)
    try:
        out = out.sort_values([unit, time], kind="stable")
    except TypeError as exc:
        raise PanelError(f"column '{unit}' mixes numbers and text; use one kind of id") from exc
    return out.reset_index(drop=True)


def treatment_indicator(df: pd.DataFrame, time: str, cohort: str) -> pd.Series:
    """1 for rows of treated units at or after their cohort period, else 0."""
    g = pd.to_numeric(df[cohort], errors="coerce").fillna(0.0)
    t = pd.to_numeric(df[time], errors="coerce")
    return ((g > 0) & (t >= g)).astype(int).rename("treated")


def json_safe(value: Any) -> Any:
    """Replace NaN/inf by None and numpy scalars by Python ones, recursively."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


@dataclass
class PreparedPanel:
    """The estimation sample of one outcome: arrays plus the cleaned frame."""

    data: pd.DataFrame
    y: np.ndarray
    unit_codes: np.ndarray
    time_codes: np.ndarray
    cohort_by_unit: np.ndarray
    weights: np.ndarray | None
    notes: list[str]


def prepare(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    covariates: Sequence[str] = (),
    weights: str | None = None,
) -> PreparedPanel:
    """Validate, drop rows with an empty outcome/covariate/weight, and code units and periods."""
    clean = validate_panel(
        df, unit=unit, time=time, cohort=cohort, outcomes=[outcome], covariates=covariates
    )
    notes: list[str] = []
    needed = [outcome, *covariates]
    if weights is not None:
        if weights not in clean.columns:
            raise PanelError(f"column(s) not found in the panel: {weights}")
        w = pd.to_numeric(clean[weights], errors="coerce")
        if (w < 0).any():
            raise PanelError(f"column '{weights}' has negative weights")
        clean[weights] = w
        needed.append(weights)
    keep = clean[needed].notna().all(axis=1)
    if weights is not None:
        keep &= clean[weights] > 0
    dropped = int((~keep).sum())
    if dropped:
        notes.append(f"{dropped} row(s) without {', '.join(needed)} left out")
    data = clean.loc[keep].reset_index(drop=True)
    # re-check group sizes on the estimation sample
    validate_panel(
        data, unit=unit, time=time, cohort=cohort, outcomes=[outcome], covariates=covariates
    )
    u = codes(data[unit])
    g = np.zeros(u.max() + 1)
    g[u] = data[cohort].to_numpy()
    return PreparedPanel(
        data=data,
        y=data[outcome].to_numpy(dtype=float),
        unit_codes=u,
        time_codes=codes(data[time]),
        cohort_by_unit=g,
        weights=None if weights is None else data[weights].to_numpy(dtype=float),
        notes=notes,
    )
