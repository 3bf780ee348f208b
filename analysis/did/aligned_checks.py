"""Outcomes without a full pre-period, and the checks of the intake alignment.

* **Only T0 precedes treatment** (surveys measured from the intake visit): the aligned DiD with
  T0 as the reference (:func:`analysis.did.aligned.aligned_did` with ``t0="baseline"``), and
  :func:`ancova_t0` as a bracketing check: the post-intake outcome on arm, the family's own T0
  level and years-since-intake and calendar-year effects, clustered by family (CR2,
  Satterthwaite). Under regression to the mean the DiD and the ANCOVA lie on either side of the
  truth (Angrist & Pischke 2009, sec. 5.4): when they disagree about the verdict, the verdict
  depends on an assumption the data cannot check (:func:`bracket_check`). Parallel trends
  cannot be tested with one pre-period.
* **Nothing precedes treatment** (contact-based measures): :func:`level_comparison`, the
  difference of the arms' means over the post-intake years (``y ~ 1 + arm`` on those rows),
  clustered by family (CR2). It is not a DiD: any difference between the arms at intake is in it.
* **T0 balance** (:func:`t0_balance`): the arms' difference in the T0 level within intake years
  (one row per family, CR2 = HC2). Both arms are selected by the same rule at their own intake,
  so a clear difference at T0 means the intervention families entered deeper (or lighter) in
  crisis, which the aligned DiD would read as an effect of the approach.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from analysis.did.aligned import (
    AlignedDesign,
    AlignedResult,
    drop_order,
    identified_columns,
    result_from_fit,
)
from analysis.did.aligned_panel import AlignedPanel, check_arms, dense_codes, prepare_aligned
from analysis.did.inference import Robust, fit_linear
from analysis.did.panel import PanelError
from analysis.did.twfe import json_safe

ALPHA = 0.05


def _t0_levels(panel: AlignedPanel) -> np.ndarray:
    """Each row's family T0 outcome (NaN when the family has no T0 row)."""
    level = np.full(panel.n_units, np.nan)
    at_t0 = panel.event == 0
    level[panel.unit[at_t0]] = panel.y[at_t0]
    return level[panel.unit]


def _event_dummies(panel: AlignedPanel, last_pre: int) -> tuple[np.ndarray, list[int], list[int]]:
    """Event-time dummies identified beside calendar-year effects (no family effects)."""
    times = [int(k) for k in np.unique(panel.event)]
    E = np.column_stack([(panel.event == k).astype(float) for k in times])
    s = np.ones(panel.y.size) if panel.weights is None else np.sqrt(panel.weights)
    order = [times.index(k) for k in reversed(drop_order(times, last_pre))]
    kept = sorted(identified_columns(E, None, panel.year, s, order))
    dropped = [k for k in drop_order(times, last_pre) if times.index(k) not in kept]
    return E[:, kept], [times[j] for j in kept], dropped


def ancova_from_panel(
    panel: AlignedPanel,
    *,
    level: float = 0.95,
    outcome: str = "",
    robustness: Sequence[str] = ("cr1", "cv3"),
) -> AlignedResult:
    """ANCOVA on T0 on a prepared panel (see the module docstring)."""
    base = _t0_levels(panel)
    rows = (panel.event >= 1) & ~np.isnan(base)
    if not rows.any():
        raise PanelError("the ANCOVA needs families with a T0 value and a value after intake")
    notes = []
    lost = np.unique(panel.unit[(panel.event >= 1) & np.isnan(base)]).size
    if lost:
        notes.append(f"{lost} famil{'y' if lost == 1 else 'ies'} without a T0 value left out")
    sub = panel.subset(rows)
    check_arms(sub.unit_arm(), "with a T0 value and a value after intake")
    E, kept, dropped = _event_dummies(sub, 1)
    X = np.column_stack([sub.arm, base[rows], E])
    names = ["arm", "t0_level"] + [f"e{k}" for k in kept]
    fit = fit_linear(
        sub.y, X, unit=None, time=sub.year, cluster=sub.unit, weights=sub.weights, names=names
    )
    times = [int(k) for k in np.unique(sub.event)]
    design = AlignedDesign(
        panel=sub,
        X=X,
        names=names,
        arm_terms=["arm"],
        event_times=times,
        kept_event_times=kept,
        dropped_event_times=dropped,
        pre_period=[0],
        post_period=times,
        t0="baseline",
    )
    result = result_from_fit(
        fit,
        design,
        estimator="ancova_t0",
        outcome=outcome,
        inference="cr2",
        methods=["cr2", *robustness],
        draws=0,
        seed=None,
        level=level,
        notes=notes,
    )
    t0_coef = Robust(fit).coef(1, "cr2", level)
    return dataclasses.replace(
        result,
        design="ancova on T0",
        warnings=[w for w in result.warnings if "parallel trends" not in w],
        details={"t0_coefficient": t0_coef.estimate, "t0_coefficient_se": t0_coef.se},
    )


def level_from_panel(
    panel: AlignedPanel,
    *,
    from_e: int = 1,
    level: float = 0.95,
    outcome: str = "",
    robustness: Sequence[str] = ("cr1", "cv3"),
) -> AlignedResult:
    """The level comparison of the arms after intake on a prepared panel (not a DiD)."""
    rows = panel.event >= from_e
    if not rows.any():
        raise PanelError(f"no rows at or after event time {from_e} to compare")
    sub = panel.subset(rows)
    check_arms(sub.unit_arm(), f"at or after event time {from_e}")
    X = np.column_stack([sub.arm, np.ones(sub.y.size)])
    fit = fit_linear(
        sub.y,
        X,
        unit=None,
        time=None,
        cluster=sub.unit,
        weights=sub.weights,
        names=["arm", "const"],
    )
    times = [int(k) for k in np.unique(sub.event)]
    design = AlignedDesign(
        panel=sub,
        X=X,
        names=["arm", "const"],
        arm_terms=["arm"],
        event_times=times,
        kept_event_times=[],
        dropped_event_times=[],
        pre_period=[],
        post_period=times,
        t0="drop" if from_e >= 1 else "baseline",
    )
    result = result_from_fit(
        fit,
        design,
        estimator="level",
        outcome=outcome,
        inference="cr2",
        methods=["cr2", *robustness],
        draws=0,
        seed=None,
        level=level,
    )
    note = (
        "not a DiD: nothing was measured before the start, so the arms are compared in levels"
        " after intake and any difference between them at intake is in the estimate"
    )
    return dataclasses.replace(
        result,
        design="level comparison (not a DiD)",
        warnings=[note]
        + [w for w in result.warnings if "same intake year" not in w and "parallel" not in w],
    )


@dataclass(frozen=True)
class BalanceResult:
    """The arms' difference in the T0 level (intervention minus comparison)."""

    difference: float
    se: float
    df: float
    p_value: float
    ci_low: float
    ci_high: float
    std_difference: float
    n_intervention: int
    n_comparison: int
    flagged: bool
    outcome: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (NaN becomes None)."""
        return json_safe(asdict(self))


def balance_from_panel(
    panel: AlignedPanel, *, alpha: float = ALPHA, outcome: str = ""
) -> BalanceResult:
    """T0 balance on a prepared panel (see the module docstring)."""
    at = panel.event == 0
    if not at.any():
        raise PanelError("no T0 rows: the T0 balance needs the outcome at intake")
    sub = panel.subset(at)
    arm_u = sub.unit_arm()
    check_arms(arm_u, "at T0")
    fit = fit_linear(
        sub.y,
        sub.arm[:, None],
        unit=None,
        time=dense_codes(sub.intake),
        cluster=sub.unit,
        names=["arm"],
    )
    r = Robust(fit).coef(0, "cr2", 1 - alpha)
    y1, y0 = sub.y[sub.arm == 1], sub.y[sub.arm == 0]
    pooled = np.sqrt(
        ((y1.size - 1) * y1.var(ddof=1) + (y0.size - 1) * y0.var(ddof=1)) / (y1.size + y0.size - 2)
    )
    return BalanceResult(
        difference=r.estimate,
        se=r.se,
        df=r.df,
        p_value=r.p_value,
        ci_low=r.ci_low,
        ci_high=r.ci_high,
        std_difference=r.estimate / pooled if pooled > 0 else float("nan"),
        n_intervention=int((arm_u == 1).sum()),
        n_comparison=int((arm_u == 0).sum()),
        flagged=bool(r.p_value < alpha),
        outcome=outcome,
    )


class Verdict(Protocol):
    """Anything with an estimate and a p-value (an :class:`AlignedResult`)."""

    @property
    def att(self) -> float: ...

    @property
    def p_value(self) -> float: ...


def bracket_check(did: Verdict, ancova: Verdict, alpha: float = ALPHA) -> dict[str, Any]:
    """Do the DiD (T0 reference) and the ANCOVA on T0 agree about the verdict?

    Flagged when one rejects "no effect" at ``alpha`` and the other does not, or both do with
    opposite signs: the conclusion then depends on whether the T0 level is differenced out or
    adjusted for, which one pre-period cannot settle.
    """
    sig_d, sig_a = did.p_value < alpha, ancova.p_value < alpha
    opposite = sig_d and sig_a and np.sign(did.att) != np.sign(ancova.att)
    return {
        "did": did.att,
        "ancova": ancova.att,
        "low": min(did.att, ancova.att),
        "high": max(did.att, ancova.att),
        "flagged": bool(sig_d != sig_a or opposite),
    }


def _prepare(df: pd.DataFrame, **columns: Any) -> AlignedPanel:
    return prepare_aligned(df, **columns)


def ancova_t0(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    arm: str,
    intake: str,
    outcome: str,
    weights: str | None = None,
    level: float = 0.95,
) -> AlignedResult:
    """Post-intake outcome on arm and the family's T0 level (bracketing check of the T0 DiD)."""
    panel = _prepare(
        df, unit=unit, time=time, arm=arm, intake=intake, outcome=outcome, weights=weights
    )
    return ancova_from_panel(panel, level=level, outcome=outcome)


def level_comparison(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    arm: str,
    intake: str,
    outcome: str,
    from_e: int = 1,
    weights: str | None = None,
    level: float = 0.95,
) -> AlignedResult:
    """Difference of the arms' means from event time ``from_e`` on, by family CR2 (not a DiD)."""
    panel = _prepare(
        df, unit=unit, time=time, arm=arm, intake=intake, outcome=outcome, weights=weights
    )
    return level_from_panel(panel, from_e=from_e, level=level, outcome=outcome)


def t0_balance(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    arm: str,
    intake: str,
    outcome: str,
    alpha: float = ALPHA,
) -> BalanceResult:
    """The arms' difference in the T0 level within intake years, flagged at ``alpha``."""
    panel = _prepare(df, unit=unit, time=time, arm=arm, intake=intake, outcome=outcome)
    return balance_from_panel(panel, alpha=alpha, outcome=outcome)
