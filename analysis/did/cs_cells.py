"""The input and the 2x2 cells of a Callaway & Sant'Anna analysis: unit-by-period arrays from a
long panel, and one 2x2 comparison (with its influence function) per group and period."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.did.panel import PanelError, show, validate_panel


@dataclass
class CsPanel:
    units: np.ndarray  # unit ids, length n
    periods: np.ndarray  # sorted periods, length T
    cohort: np.ndarray  # float, inf = comparison (never treated)
    y: np.ndarray  # n x T, NaN = not observed
    x: np.ndarray  # n x T x k (k >= 1, first column the intercept), NaN = missing
    cluster: np.ndarray  # integer cluster code per unit
    n_obs: int


def cs_panel(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    covariates: Sequence[str],
    cluster: str | None,
    control: str,
) -> tuple[CsPanel, list[str]]:
    """Unit-by-period arrays; cohorts 0, empty or after the last period become comparison units."""
    notes: list[str] = []
    if cluster is not None and cluster not in df.columns:
        raise PanelError(f"column(s) not found in the panel: {cluster}")
    checked = validate_panel(
        df,
        unit=unit,
        time=time,
        cohort=cohort,
        outcomes=(outcome,),
        covariates=covariates,
        control=control,
    )
    data = pd.DataFrame(
        {
            "_u": checked[unit].to_numpy(),
            "_t": checked[time].to_numpy(dtype=float),
            "_g": checked[cohort].to_numpy(dtype=float),
            "_y": checked[outcome].to_numpy(dtype=float),
        }
    )
    for j, c in enumerate(covariates):
        data[f"_x{j}"] = checked[c].to_numpy(dtype=float)
    if cluster:
        data["_c"] = checked[cluster].to_numpy()
        per_unit = data.groupby("_u", sort=False)["_c"].nunique(dropna=False)
        if (per_unit > 1).any():
            bad_unit = per_unit.index[per_unit > 1][0]
            raise PanelError(f"unit {show(bad_unit)} lies in more than one '{cluster}' cluster")

    periods = np.sort(data["_t"].unique())
    last = periods[-1]
    g = data["_g"].to_numpy()
    g = np.where((g == 0) | (g > last), np.inf, g)
    if np.any((data["_g"].to_numpy() > last) & np.isfinite(data["_g"].to_numpy())):
        notes.append(
            "cohorts starting after the last period are used as not (yet) treated comparison units"
        )
    data["_g"] = g

    units = np.sort(data["_u"].unique())
    u_idx = np.searchsorted(units, data["_u"].to_numpy())
    t_idx = np.searchsorted(periods, data["_t"].to_numpy())
    n, T = len(units), len(periods)
    y = np.full((n, T), np.nan)
    y[u_idx, t_idx] = data["_y"].to_numpy()
    x = np.ones((n, T, 1 + len(covariates)))
    x[:, :, 1:] = np.nan
    for j in range(len(covariates)):
        x[u_idx, t_idx, 1 + j] = data[f"_x{j}"].to_numpy()
    cohort_u = np.full(n, np.nan)
    cohort_u[u_idx] = data["_g"].to_numpy()
    if cluster:
        codes = np.zeros(n, dtype=int)
        codes[u_idx] = pd.factorize(data["_c"])[0]
    else:
        codes = np.arange(n)
    return CsPanel(units, periods, cohort_u, y, x, codes, int(len(data))), notes


# --------------------------------------------------------------------------- 2x2 cells


@dataclass
class Cell:
    group: float
    time: float
    base: float
    att: float
    inf: np.ndarray  # length n, rescaled to the full sample
    n_treated: int
    n_control: int


def two_by_two(method: str, y1: np.ndarray, y0: np.ndarray, d: np.ndarray, x: np.ndarray):
    from moderndid import drdid_panel, reg_did_panel, std_ipw_did_panel

    fn = {"dr": drdid_panel, "ipw": std_ipw_did_panel, "reg": reg_did_panel}[method]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fn(y1=y1, y0=y0, d=d, covariates=x, i_weights=None, influence_func=True)
    return float(res.att), np.asarray(res.att_inf_func, dtype=float)


def group_time_cells(
    panel: CsPanel, *, control: str, base_period: str, method: str, notes: list[str]
) -> list[Cell]:
    periods, cohort = panel.periods, panel.cohort
    n, T = panel.y.shape
    groups = np.unique(cohort[np.isfinite(cohort)])
    universal = base_period == "universal"
    cells: list[Cell] = []
    for g in groups:
        pre = np.flatnonzero(periods < g)
        g_base = pre[-1]
        for t_i in range(T) if universal else range(1, T):
            if universal:
                b_i = g_base
            else:
                b_i = g_base if periods[t_i] >= g else t_i - 1
            t, b = periods[t_i], periods[b_i]
            if universal and t_i == b_i:
                cells.append(Cell(g, t, b, 0.0, np.zeros(n), 0, 0))
                continue
            treated = cohort == g
            if control == "never":
                comp = np.isinf(cohort)
            else:
                comp = (cohort > max(t, b)) & ~treated
            x_cell = panel.x[:, min(t_i, b_i), :]
            seen = (
                ~np.isnan(panel.y[:, t_i])
                & ~np.isnan(panel.y[:, b_i])
                & ~np.isnan(x_cell).any(axis=1)
            )
            keep = (treated | comp) & seen
            n_t, n_c = int((treated & keep).sum()), int((comp & keep).sum())
            label = f"ATT({period_label(g)},{period_label(t)})"
            if n_t == 0 or n_c == 0:
                notes.append(f"{label}: no treated or no comparison units observed: not estimated")
                cells.append(Cell(g, t, b, math.nan, np.full(n, math.nan), n_t, n_c))
                continue
            try:
                att, inf = two_by_two(
                    method,
                    panel.y[keep, t_i],
                    panel.y[keep, b_i],
                    treated[keep].astype(float),
                    x_cell[keep],
                )
            except (ValueError, np.linalg.LinAlgError, RuntimeError) as exc:
                notes.append(f"{label}: the 2x2 estimator failed ({exc}): not estimated")
                att, inf = math.nan, None
            full = np.full(n, math.nan) if inf is None else np.zeros(n)
            if inf is not None:
                full[keep] = (n / keep.sum()) * inf
            cells.append(Cell(g, t, b, att, full, n_t, n_c))
    return cells


def period_label(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)
