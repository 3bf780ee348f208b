"""The estimation sample of the intake-aligned design: checks, cleaning and integer codes.

One row per family and calendar year with the family's arm (1 intervention, 0 comparison) and
intake year (the calendar year of its T0); event time is year minus intake year. The checks name
the column and row that is wrong (:class:`analysis.did.panel.PanelError`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.did.inference import codes
from analysis.did.panel import (
    MIN_CONTROL_UNITS,
    MIN_TREATED_UNITS,
    PanelError,
    numeric_column,
    show,
)


def dense_codes(values: np.ndarray) -> np.ndarray:
    """Codes 0..K-1 of a numeric array's distinct values, sorted (fast path of ``codes``)."""
    return np.unique(values, return_inverse=True)[1].astype(int).ravel()


@dataclass
class AlignedPanel:
    """One outcome's estimation sample as arrays: codes 0..K-1, arm 0/1, event time per row."""

    y: np.ndarray
    unit: np.ndarray
    year: np.ndarray
    arm: np.ndarray
    event: np.ndarray
    intake: np.ndarray
    weights: np.ndarray | None = None
    data: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def n_units(self) -> int:
        return int(self.unit.max()) + 1

    def subset(self, rows: np.ndarray) -> AlignedPanel:
        """The rows ``rows`` (boolean mask) with units and years re-coded."""
        return AlignedPanel(
            y=self.y[rows],
            unit=dense_codes(self.unit[rows]),
            year=dense_codes(self.year[rows]),
            arm=self.arm[rows],
            event=self.event[rows],
            intake=self.intake[rows],
            weights=None if self.weights is None else self.weights[rows],
            data=None if self.data is None else self.data.loc[rows].reset_index(drop=True),
            notes=list(self.notes),
        )

    def unit_arm(self) -> np.ndarray:
        """Arm (0/1) of each unit code."""
        out = np.zeros(self.n_units)
        out[self.unit] = self.arm
        return out


def panel_from_arrays(
    y: np.ndarray,
    unit: np.ndarray,
    year: np.ndarray,
    arm: np.ndarray,
    intake: np.ndarray,
    weights: np.ndarray | None = None,
) -> AlignedPanel:
    """An :class:`AlignedPanel` from clean arrays (no checks; simulations and tests)."""
    year = np.asarray(year)
    intake = np.asarray(intake)
    return AlignedPanel(
        y=np.asarray(y, dtype=float),
        unit=dense_codes(np.asarray(unit)),
        year=dense_codes(year),
        arm=np.asarray(arm, dtype=float),
        event=np.rint(year - intake).astype(int),
        intake=intake.astype(float),
        weights=None if weights is None else np.asarray(weights, dtype=float),
    )


def _required(out: pd.DataFrame, col: str) -> None:
    empty = out[col].isna()
    if empty.any():
        raise PanelError(f"column '{col}' is empty in data row {int(np.flatnonzero(empty)[0]) + 1}")


def _constant_within_unit(out: pd.DataFrame, unit: str, col: str) -> None:
    per_unit = out.groupby(unit, sort=False)[col].nunique()
    if (per_unit > 1).any():
        bad = per_unit.index[per_unit > 1][0]
        values = sorted(out.loc[out[unit] == bad, col].unique())
        raise PanelError(
            f"unit {show(bad)} changes column '{col}' over time"
            f" ({', '.join(show(v) for v in values)}); it must be the same in every row"
        )


def _clean_frame(
    df: pd.DataFrame, unit: str, time: str, arm: str, intake: str, outcome: str
) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise PanelError("the panel must be a table (pandas DataFrame)")
    missing = [c for c in dict.fromkeys([unit, time, arm, intake, outcome]) if c not in df]
    if missing:
        raise PanelError(f"column(s) not found in the panel: {', '.join(missing)}")
    if len(df) == 0:
        raise PanelError("the panel has no rows")
    out = df.reset_index(drop=True).copy()
    for col in (time, arm, intake, outcome):
        out[col] = numeric_column(out, col, allow_missing=True)
    for col in (unit, time, arm, intake):
        _required(out, col)
    if not out[arm].isin([0.0, 1.0]).all():
        row = int(np.flatnonzero(~out[arm].isin([0.0, 1.0]))[0])
        raise PanelError(
            f"column '{arm}' must be 1 (intervention) or 0 (comparison);"
            f" data row {row + 1} has {show(out[arm].iloc[row])}"
        )
    dup = out.duplicated([unit, time])
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise PanelError(
            f"unit {show(out[unit].iloc[row])} has more than one row for period"
            f" {show(out[time].iloc[row])} (data row {row + 1})"
        )
    _constant_within_unit(out, unit, arm)
    _constant_within_unit(out, unit, intake)
    rel = out[time] - out[intake]
    if not np.allclose(rel, np.round(rel)):
        row = int(np.flatnonzero(~np.isclose(rel, np.round(rel)))[0])
        raise PanelError(
            f"years since intake must be whole years: '{time}' minus '{intake}' is"
            f" {show(rel.iloc[row])} in data row {row + 1}"
        )
    try:
        return out.sort_values([unit, time], kind="stable").reset_index(drop=True)
    except TypeError as exc:
        raise PanelError(f"column '{unit}' mixes numbers and text; use one kind of id") from exc


def _weights(out: pd.DataFrame, weights: str | None) -> pd.Series | None:
    if weights is None:
        return None
    if weights not in out.columns:
        raise PanelError(f"column(s) not found in the panel: {weights}")
    w = numeric_column(out, weights, allow_missing=True)
    if (w < 0).any():
        raise PanelError(f"column '{weights}' has negative weights")
    return w


def check_arms(arm_of_unit: np.ndarray, what: str = "") -> None:
    """At least two intervention and two comparison families, or a PanelError."""
    n_t, n_c = int((arm_of_unit == 1).sum()), int((arm_of_unit == 0).sum())
    where = f" {what}" if what else ""
    if n_c < MIN_CONTROL_UNITS:
        raise PanelError(
            f"at least {MIN_CONTROL_UNITS} comparison families (arm 0) are needed{where};"
            f" found {n_c}"
        )
    if n_t < MIN_TREATED_UNITS:
        raise PanelError(
            f"at least {MIN_TREATED_UNITS} intervention families (arm 1) are needed{where};"
            f" found {n_t}"
        )


def prepare_aligned(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    arm: str,
    intake: str,
    outcome: str,
    weights: str | None = None,
) -> AlignedPanel:
    """Check the panel, drop rows without outcome (or weight), and code it for estimation."""
    out = _clean_frame(df, unit, time, arm, intake, outcome)
    w = _weights(out, weights)
    keep = out[outcome].notna()
    if w is not None:
        keep &= w.notna() & (w > 0)
    notes = []
    if (~keep).any():
        what = outcome if weights is None else f"{outcome} or a positive {weights}"
        notes.append(f"{int((~keep).sum())} row(s) without {what} left out")
    if not keep.any():
        raise PanelError(f"outcome column '{outcome}' has no values")
    data = out.loc[keep].reset_index(drop=True)
    panel = AlignedPanel(
        y=data[outcome].to_numpy(dtype=float),
        unit=codes(data[unit]),
        year=codes(data[time]),
        arm=data[arm].to_numpy(dtype=float),
        event=np.rint(data[time] - data[intake]).to_numpy().astype(int),
        intake=data[intake].to_numpy(dtype=float),
        weights=None if w is None else w[keep].to_numpy(dtype=float),
        data=data,
        notes=notes,
    )
    check_arms(panel.unit_arm())
    return panel
