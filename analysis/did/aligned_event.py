"""The aligned event study: arm x years since intake, T-1 reference, pre-test and sup-t bands.

``y ~ sum_{e != ref} b_e arm 1[e] + years-since-intake effects + family FE + year FE``, the
design of :mod:`analysis.did.aligned` with one arm coefficient per event time (the common
event-time dummies collinear with family and year effects dropped and listed as there). The
reference is T-1 (T0 for ``t0="baseline"``). The joint pre-test covers the event times before the
reference (T-2 and earlier) with CR2 and the HTZ small-sample test; the registry T0 coefficient
(``t0="own"``) is shown but is in neither the pre-test nor the post average.

Bands: pointwise CIs use each coefficient's Satterthwaite df. The uniform (sup-t) band
(Montiel Olea & Plagborg-Moller 2019) takes the critical value ``c`` of ``max_j |Z_j|`` for
``Z ~ N(0, R)``, ``R`` the CR2 correlation of the coefficients, simulated with a fixed seed,
and applies it on the p-value scale: coefficient ``j`` gets the t(df_j) quantile at the level
``1 - 2(1 - Phi(c))``. The band therefore contains the pointwise interval, equals it for a single
coefficient, and keeps the small-sample df of each coefficient.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.did.aligned import aligned_design, design_warnings, fit_design, sample_counts
from analysis.did.aligned_panel import AlignedPanel, prepare_aligned
from analysis.did.inference import Robust
from analysis.did.panel import PanelError
from analysis.did.twfe import json_safe

BAND_DRAWS = 100_000
BAND_SEED = 20240613


@dataclass(frozen=True)
class AlignedEventStudyResult:
    """Arm x event-time coefficients with pointwise and uniform bands and the pre-test."""

    event: list[dict[str, Any]]
    ref: int
    pretest: dict[str, Any] | None
    band_critical_value: float
    band_pointwise_level: float
    level: float
    inference: str
    t0: str
    outcome: str
    n_units: int
    n_obs: int
    n_intervention: int
    n_comparison: int
    n_clusters: int
    dropped_event_times: list[int] = field(default_factory=list)
    n_by_intake: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (NaN becomes None)."""
        return json_safe(asdict(self))


def sup_t_critical(
    corr: np.ndarray, level: float, *, draws: int = BAND_DRAWS, seed: int = BAND_SEED
) -> float:
    """The ``level`` quantile of ``max |Z|`` for ``Z ~ N(0, corr)`` (exact for one coefficient)."""
    k = corr.shape[0]
    if k == 1:
        return float(stats.norm.ppf(0.5 + level / 2))
    vals, vecs = np.linalg.eigh(corr)
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    z = np.random.default_rng(seed).standard_normal((draws, k)) @ root.T
    return float(np.quantile(np.abs(z).max(axis=1), level))


def _band_level(crit: float, level: float) -> float:
    """Pointwise level that the sup-t critical value implies (never below ``level``)."""
    return max(level, float(1 - 2 * stats.norm.sf(crit)))


def _reference_row(ref: int, panel: AlignedPanel) -> dict[str, Any]:
    return {
        "e": ref,
        "att": 0.0,
        "se": 0.0,
        "df": None,
        "p_value": None,
        "ci_low": 0.0,
        "ci_high": 0.0,
        "band_low": 0.0,
        "band_high": 0.0,
        "n_intervention": _n_treated_at(panel, ref),
        "reference": True,
    }


def _n_treated_at(panel: AlignedPanel, e: int) -> int:
    rows = (panel.arm == 1) & (panel.event == e)
    return int(np.unique(panel.unit[rows]).size)


def event_study_from_panel(
    panel: AlignedPanel,
    *,
    t0: str = "own",
    level: float = 0.95,
    band_draws: int = BAND_DRAWS,
    seed: int = BAND_SEED,
    outcome: str = "",
) -> AlignedEventStudyResult:
    """The aligned event study on a prepared panel (see the module docstring)."""
    ref = 0 if t0 == "baseline" else -1
    if not ((panel.arm == 1) & (panel.event == ref)).any():
        raise PanelError(
            f"the reference year T{ref} of the event study is not observed for any intervention family"
        )
    design = aligned_design(panel, t0=t0, arm_terms="event")
    fit = fit_design(design)
    robust = Robust(fit)
    k = len(design.arm_terms)
    times = [int(name.removeprefix("arm_e")) for name in design.arm_terms]
    V = robust.vcov("cr2")[:k, :k]
    sd = np.sqrt(np.diag(V))
    crit = sup_t_critical(V / np.outer(sd, sd), level, draws=band_draws, seed=seed)
    band_level = _band_level(crit, level)
    rows = []
    for j, e in enumerate(times):
        c = np.zeros(fit.k)
        c[j] = 1.0
        point = robust.contrast(c, "cr2", level)
        half = float(stats.t.ppf(0.5 + band_level / 2, point.df)) * point.se
        rows.append(
            {
                "e": e,
                "att": point.estimate,
                "se": point.se,
                "df": point.df,
                "p_value": point.p_value,
                "ci_low": point.ci_low,
                "ci_high": point.ci_high,
                "band_low": point.estimate - half if band_level > level else point.ci_low,
                "band_high": point.estimate + half if band_level > level else point.ci_high,
                "n_intervention": _n_treated_at(design.panel, e),
                "reference": False,
                "t0": e == 0 and t0 == "own",
            }
        )
    rows.append(_reference_row(ref, design.panel))
    rows.sort(key=lambda r: r["e"])
    pretest = None
    leads = [j for j, e in enumerate(times) if e < ref]
    if leads:
        C = np.zeros((len(leads), fit.k))
        C[np.arange(len(leads)), leads] = 1.0
        test = robust.htz_test(C)
        pretest = {
            "F": test.F,
            "df_num": test.df_num,
            "df_den": test.df_den,
            "p_value": test.p_value,
            "event_times": [times[j] for j in leads],
            "test": "HTZ (CR2)",
        }
    counts = sample_counts(design.panel)
    warnings = [*design.panel.notes, *design_warnings(design)]
    if pretest is not None:
        warnings.append("a passed pre-test is weak evidence for parallel trends, not proof")
    return AlignedEventStudyResult(
        event=rows,
        ref=ref,
        pretest=pretest,
        band_critical_value=crit,
        band_pointwise_level=band_level,
        level=level,
        inference="cr2",
        t0=t0,
        outcome=outcome,
        n_clusters=fit.n_clusters,
        dropped_event_times=design.dropped_event_times,
        warnings=warnings,
        **counts,
    )


def aligned_event_study(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    arm: str,
    intake: str,
    outcome: str,
    t0: str = "own",
    weights: str | None = None,
    level: float = 0.95,
    band_draws: int = BAND_DRAWS,
    seed: int = BAND_SEED,
) -> AlignedEventStudyResult:
    """Arm x years-since-intake event study with the aligned design (CR2, HTZ pre-test, sup-t)."""
    panel = prepare_aligned(
        df, unit=unit, time=time, arm=arm, intake=intake, outcome=outcome, weights=weights
    )
    return event_study_from_panel(
        panel, t0=t0, level=level, band_draws=band_draws, seed=seed, outcome=outcome
    )
