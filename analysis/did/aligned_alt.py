"""Two alternative estimators of the aligned comparison: stacked by intake year and imputation.

Both estimate the same arm x post effect as :func:`analysis.did.aligned.aligned_did` but weight
intake years and event times differently, so a sign that disagrees with the pooled estimate is a
warning (the verdict rule compares signs).

**Stacked by intake year** (Cengiz, Dube, Lindner & Zipperer 2019; Wing, Freedman & Hollingsworth
2024): one sub-experiment per intake year ``s`` with the intervention families of that intake and
the comparison families of the *same* intake year (the clean comparison: within a sub-experiment
calendar time and years since intake coincide, so the sub-experiment x year effects absorb the
common recovery path with no restriction on how it differs between intake years). Each family has
one intake year, so it appears in exactly one sub-experiment: the stacked regression is
``y ~ arm x post (+ arm x T0) + (sub-experiment x family) FE + (sub-experiment x year) FE``,
clustered by family. ``weighting="corrective"`` (default) uses Wing et al.'s corrective weights
(intervention rows 1, comparison rows of sub-experiment ``s`` ``(N_s^D / N^D) / (N_s^C / N^C)``
with family counts), so the estimand is the intervention-share-weighted average of the
intake-year effects (their "trimmed aggregate ATT"); ``"none"`` is the unweighted stack.
Intake years without at least one intervention and one comparison family observed before and
after intake are left out (named in the warnings). Inference: CR2 with Satterthwaite df (the
weighted CR2 of :mod:`analysis.did.inference`), CR1 and CV3 beside it.

**Imputation** (Borusyak, Jaravel & Spiess 2024, BJS): fit family + year + years-since-intake
effects by OLS on the untreated observations only (comparison families at every event time,
intervention families before intake), impute the untreated outcome of the intervention families
after intake, and average the differences over the post years (every family-year weighs the same);
the registry T0 (``t0="own"``) is treated and averaged separately, never used as untreated.
Standard errors: Gardner's (2021) two-stage GMM sandwich, clustered by family, as
``pyfixest.did2s`` and R ``did2s`` compute it; it accounts for the estimation error of the first
stage and needs no conservative variance bound. With 80 families the t reference has ``G - 1`` df.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, stats

from analysis.did.aligned import (
    AlignedDesign,
    AlignedResult,
    aligned_design,
    design_warnings,
    drop_order,
    identified_columns,
    result_from_fit,
    sample_counts,
)
from analysis.did.aligned_panel import AlignedPanel, check_arms, dense_codes, prepare_aligned
from analysis.did.inference import fit_linear
from analysis.did.panel import PanelError, show

WEIGHTINGS = ("corrective", "none")
STACKED_INFERENCES = ("cr2", "cr1", "cv3")


# --------------------------------------------------------------------------------------------
# Stacked by intake year


def _usable_intakes(panel: AlignedPanel, last_pre: int) -> tuple[np.ndarray, list[str]]:
    """Rows of intake years with intervention and comparison families before and after intake."""
    keep = np.zeros(panel.y.size, dtype=bool)
    notes = []
    for s in np.unique(panel.intake):
        rows = panel.intake == s
        ok = all(
            ((panel.arm == a) & rows & cond).any()
            for a in (0, 1)
            for cond in (panel.event <= last_pre, panel.event >= 1)
        )
        if ok:
            keep |= rows
        else:
            notes.append(
                f"intake year {show(float(s))} left out of the stacked estimate: it lacks an"
                " intervention or comparison family before or after intake"
            )
    if not keep.any():
        raise PanelError("no intake year has intervention and comparison families to stack")
    return keep, notes


def corrective_weights(panel: AlignedPanel) -> np.ndarray:
    """Wing, Freedman & Hollingsworth (2024) weights per row: 1 for intervention rows."""
    arm_u = panel.unit_arm()
    intake_u = np.zeros(panel.n_units)
    intake_u[panel.unit] = panel.intake
    n_d, n_c = (arm_u == 1).sum(), (arm_u == 0).sum()
    w_u = np.ones(panel.n_units)
    for s in np.unique(intake_u):
        in_s = intake_u == s
        nd_s, nc_s = (in_s & (arm_u == 1)).sum(), (in_s & (arm_u == 0)).sum()
        w_u[in_s & (arm_u == 0)] = (nd_s / n_d) / (nc_s / n_c)
    return w_u[panel.unit]


def stacked_design(
    panel: AlignedPanel, *, t0: str = "own", weighting: str = "corrective"
) -> tuple[AlignedDesign, np.ndarray, np.ndarray | None, list[str]]:
    """The stacked design: arm terms, sub-experiment x year codes, and the regression weights."""
    if weighting not in WEIGHTINGS:
        raise PanelError(f"weighting must be one of {', '.join(WEIGHTINGS)}; got {weighting!r}")
    if t0 == "drop":
        panel = panel.subset(panel.event != 0)
    keep, notes = _usable_intakes(panel, 0 if t0 == "baseline" else -1)
    if not keep.all():
        panel = panel.subset(keep)
    check_arms(panel.unit_arm(), "in the stacked intake years")
    cohort_year = dense_codes(panel.intake * 10_000 + panel.year)  # (intake, year) pairs
    base = aligned_design(panel, t0=t0)
    n_arm = len(base.arm_terms)
    design = AlignedDesign(
        panel=panel,
        X=base.X[:, :n_arm],
        names=base.arm_terms,
        arm_terms=base.arm_terms,
        event_times=base.event_times,
        kept_event_times=[],
        dropped_event_times=[],
        pre_period=base.pre_period,
        post_period=base.post_period,
        t0=t0,
    )
    w = corrective_weights(panel) if weighting == "corrective" else None
    if panel.weights is not None:
        w = panel.weights if w is None else w * panel.weights
    return design, cohort_year, w, notes


def stacked_from_panel(
    panel: AlignedPanel,
    *,
    t0: str = "own",
    weighting: str = "corrective",
    inference: str = "cr2",
    robustness: Sequence[str] = STACKED_INFERENCES,
    level: float = 0.95,
    outcome: str = "",
) -> AlignedResult:
    """The stacked-by-intake-year estimate on a prepared panel (see the module docstring)."""
    if inference not in STACKED_INFERENCES:
        raise PanelError(f"stacked inference must be one of {', '.join(STACKED_INFERENCES)}")
    design, cohort_year, w, notes = stacked_design(panel, t0=t0, weighting=weighting)
    p = design.panel
    fit = fit_linear(
        p.y, design.X, unit=p.unit, time=cohort_year, cluster=p.unit, weights=w, names=design.names
    )
    with np.errstate(divide="ignore"):  # weighted CR2: zero eigenvalues are left at zero
        result = result_from_fit(
            fit,
            design,
            estimator="stacked",
            outcome=outcome,
            inference=inference,
            methods=list(dict.fromkeys([inference, *robustness])),
            draws=0,
            seed=None,
            level=level,
            notes=notes,
        )
    return _with_details(
        result, {"weighting": weighting, "sub_experiments": len(np.unique(p.intake))}
    )


def _with_details(result: AlignedResult, details: dict[str, Any]) -> AlignedResult:
    return dataclasses.replace(result, details={**result.details, **details})


# --------------------------------------------------------------------------------------------
# Imputation (BJS) with the two-stage GMM standard error


def _first_stage_design(panel: AlignedPanel, untreated: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Explicit dummies [family, year (first dropped), identified event times] for all rows."""
    n = panel.y.size
    U = np.zeros((n, panel.n_units))
    U[np.arange(n), panel.unit] = 1.0
    n_years = int(panel.year.max()) + 1
    Y = np.zeros((n, n_years))
    Y[np.arange(n), panel.year] = 1.0
    times = [int(k) for k in np.unique(panel.event[untreated])]
    E = np.column_stack([(panel.event == k).astype(float) for k in times])
    sub = untreated
    s = np.ones(int(sub.sum())) if panel.weights is None else np.sqrt(panel.weights[sub])
    last_pre = -1
    order = [times.index(k) for k in reversed(drop_order(times, last_pre))]
    kept = sorted(
        identified_columns(
            E[sub], dense_codes(panel.unit[sub]), dense_codes(panel.year[sub]), s, order
        )
    )
    return np.column_stack([U, Y[:, 1:], E[:, kept]]), [times[j] for j in kept]


def _imputation_rows(panel: AlignedPanel, t0: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    treated_post = (panel.arm == 1) & (panel.event >= 1)
    treated_t0 = (
        (panel.arm == 1) & (panel.event == 0) if t0 == "own" else np.zeros_like(treated_post)
    )
    untreated = ~(treated_post | treated_t0)
    return treated_post, treated_t0, untreated


def _check_imputable(panel: AlignedPanel, treated: np.ndarray, untreated: np.ndarray) -> None:
    for name, codes_ in (("family", panel.unit), ("year", panel.year), ("event time", panel.event)):
        missing = np.setdiff1d(np.unique(codes_[treated]), np.unique(codes_[untreated]))
        if missing.size:
            raise PanelError(
                f"imputation needs an untreated observation of every {name} with treated rows;"
                f" {missing.size} {name}(s) have none"
            )


def imputation_fit(panel: AlignedPanel, t0: str = "own") -> dict[str, Any]:
    """BJS imputation estimates and the two-stage GMM covariance (clustered by family)."""
    treated_post, treated_t0, untreated = _imputation_rows(panel, t0)
    treated = treated_post | treated_t0
    _check_imputable(panel, treated, untreated)
    X1, kept = _first_stage_design(panel, untreated)
    w = np.ones(panel.y.size) if panel.weights is None else panel.weights
    s = np.sqrt(w)
    X1s = X1 * s[:, None]
    X10 = X1s * untreated[:, None]
    gram = X10.T @ X10  # full rank: identified event times, one year dummy dropped
    try:
        factor = linalg.cho_factor(gram)
    except linalg.LinAlgError as exc:  # pragma: no cover - guarded by _check_imputable
        raise PanelError("the first stage of the imputation estimator is not identified") from exc
    theta = linalg.cho_solve(factor, X10.T @ (s * panel.y))
    u1 = panel.y - X1 @ theta  # y minus the imputed untreated outcome, every row
    cols = [treated_post] + ([treated_t0] if treated_t0.any() else [])
    X2 = np.column_stack(cols).astype(float)
    X2s = X2 * s[:, None]
    x2x2 = X2s.T @ X2s
    beta = np.linalg.solve(x2x2, X2s.T @ (s * u1))
    u2 = s * (u1 - X2 @ beta)
    u1s = s * u1
    # Gardner's GMM sandwich: psi_g = X2g'u2g - (X2'X1)(X10'X10)^+ X10g'u1g
    gain = linalg.cho_solve(factor, X1s.T @ X2s).T  # (X2'X1)(X10'X10)^-1, (k2, p)
    G = panel.n_units
    S2 = np.zeros((G, X2.shape[1]))
    np.add.at(S2, panel.unit, X2s * u2[:, None])
    S1 = np.zeros((G, X1.shape[1]))
    np.add.at(S1, panel.unit, X10 * u1s[:, None])
    psi = S2 - S1 @ gain.T
    inv = np.linalg.inv(x2x2)
    V = inv @ (psi.T @ psi) @ inv
    return {
        "beta": beta,
        "vcov": V,
        "names": ["arm_post"] + (["arm_t0"] if treated_t0.any() else []),
        "kept_event_times": kept,
        "n_clusters": G,
        "imputed": u1,
    }


def _t_row(est: float, var: float, dfree: float, level: float) -> dict[str, Any]:
    se = math.sqrt(max(var, 0.0))
    crit = float(stats.t.ppf(0.5 + level / 2, dfree))
    p = float(2 * stats.t.sf(abs(est / se), dfree)) if se > 0 else float("nan")
    return {
        "estimate": est,
        "se": se,
        "df": dfree,
        "p_value": p,
        "ci_low": est - crit * se,
        "ci_high": est + crit * se,
    }


def imputation_from_panel(
    panel: AlignedPanel, *, t0: str = "own", level: float = 0.95, outcome: str = ""
) -> AlignedResult:
    """The imputation estimate on a prepared panel (see the module docstring)."""
    if t0 == "drop":
        panel = panel.subset(panel.event != 0)
    design = aligned_design(panel, t0=t0)  # the same checks and event-time bookkeeping
    r = imputation_fit(design.panel, t0=t0)
    dfree = float(r["n_clusters"] - 1)
    main = _t_row(float(r["beta"][0]), float(r["vcov"][0, 0]), dfree, level)
    t0_effect = None
    if "arm_t0" in r["names"]:
        t0_effect = {**_t_row(float(r["beta"][1]), float(r["vcov"][1, 1]), dfree, level)}
        t0_effect["inference"] = "gmm"
    times = design.event_times
    dropped = [
        k
        for k in drop_order(times, 0 if t0 == "baseline" else -1)
        if k not in r["kept_event_times"]
    ]
    return AlignedResult(
        att=main["estimate"],
        se=main["se"],
        ci_low=main["ci_low"],
        ci_high=main["ci_high"],
        p_value=main["p_value"],
        df=dfree,
        inference="gmm",
        estimator="imputation",
        outcome=outcome,
        n_clusters=r["n_clusters"],
        t0=t0,
        t0_effect=t0_effect,
        event_times=times,
        dropped_event_times=dropped,
        pre_period=design.pre_period,
        post_period=design.post_period,
        weighted=panel.weights is not None,
        robustness={"gmm": main},
        warnings=[*design.panel.notes, *design_warnings(design)],
        details={"first_stage": "family + year + years-since-intake effects, untreated rows"},
        **sample_counts(design.panel),
    )


# --------------------------------------------------------------------------------------------
# Public wrappers


def stacked_did(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    arm: str,
    intake: str,
    outcome: str,
    t0: str = "own",
    weights: str | None = None,
    weighting: str = "corrective",
    inference: str = "cr2",
    level: float = 0.95,
) -> AlignedResult:
    """The aligned comparison stacked by intake year (clean same-intake comparison families)."""
    panel = prepare_aligned(
        df, unit=unit, time=time, arm=arm, intake=intake, outcome=outcome, weights=weights
    )
    return stacked_from_panel(
        panel, t0=t0, weighting=weighting, inference=inference, level=level, outcome=outcome
    )


def imputation_did(
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
) -> AlignedResult:
    """BJS imputation of the aligned comparison, two-stage GMM standard errors by family."""
    panel = prepare_aligned(
        df, unit=unit, time=time, arm=arm, intake=intake, outcome=outcome, weights=weights
    )
    return imputation_from_panel(panel, t0=t0, level=level, outcome=outcome)
