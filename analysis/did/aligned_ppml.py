"""Poisson PML for the aligned design (counts, costs): effect exp(b) - 1, also at a euro level.

The model is the aligned design of :mod:`analysis.did.aligned` on the log scale,
``E[y] = exp(a_i + l_t + m_e + b arm 1[e >= 1] (+ b_T0 arm 1[e = 0]))``, fitted by iteratively
reweighted least squares in which every step is :func:`analysis.did.inference.fit_linear` with the
family and year effects absorbed exactly (working response ``z = eta + (y - mu)/mu``, weights
``mu``). At convergence the working fit carries the Poisson scores, so the cluster-robust
sandwich of the GLM is the one of the working fit:

* **CR1** (fixest convention: ``G/(G-1) (n-1)/(n-K)``, unit effects nested in the clusters not
  counted) with ``G - 1`` df, as ``pyfixest.fepois(vcov={"CRV1": unit})`` and R fixest;
* **CR2** (Bell & McCaffrey for GLMs, as R ``clubSandwich`` for ``glm``): the working weights are
  inverse variances, so the adjustment is ``(I - H_jj)^{-1/2}`` of the working design with
  Satterthwaite df.

Families whose outcome is zero in every row carry no information under family effects and are
left out (named in the warnings). The effect is ``exp(b) - 1`` with interval ``exp(ci) - 1``;
``level_effect`` multiplies it by the comparison families' mean after intake (euros for costs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.did.aligned import (
    AlignedDesign,
    aligned_design,
    contrast_row,
    design_warnings,
    sample_counts,
)
from analysis.did.aligned_panel import AlignedPanel, prepare_aligned
from analysis.did.inference import LinearFit, Robust, fit_linear
from analysis.did.panel import PanelError
from analysis.did.twfe import json_safe

PPML_INFERENCES = ("cr1", "cr2")
#: Draws of the score bootstrap beside CR1 when the caller gives none.
SCORE_BOOTSTRAP_DRAWS = 999
MAX_ITER = 100
TOL = 1e-12


class WorkingRobust(Robust):
    """CR2 of a GLM on its IRLS working model, whose weights are inverse variances (Phi = W^-1)."""

    @property
    def weighted(self) -> bool:
        return False


@dataclass(frozen=True)
class PoissonFit:
    """A converged Poisson PML fit: coefficients, fitted means and the working linear fit."""

    beta: np.ndarray
    mu: np.ndarray
    working: LinearFit
    iterations: int
    deviance: float


def _deviance(y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return float(2 * np.sum(w * (term - (y - mu))))


def poisson_fe(
    y: np.ndarray,
    X: np.ndarray,
    *,
    unit: np.ndarray,
    time: np.ndarray,
    cluster: np.ndarray,
    weights: np.ndarray | None = None,
    names: list[str] | None = None,
    tol: float = TOL,
    max_iter: int = MAX_ITER,
) -> PoissonFit:
    """Poisson PML of ``y`` on ``X`` with absorbed unit and period effects (IRLS, exact FE)."""
    prior = np.ones(y.size) if weights is None else weights
    mu = (y + y.mean()) / 2
    eta = np.log(mu)
    dev = _deviance(y, mu, prior)
    iterations = 0
    for _ in range(max_iter):
        iterations += 1
        z = eta + (y - mu) / mu
        w = prior * mu
        fit = fit_linear(z, X, unit=unit, time=time, cluster=cluster, weights=w, names=names)
        eta = z - fit.resid / np.sqrt(w)
        mu = np.exp(eta)
        new = _deviance(y, mu, prior)
        if abs(new - dev) / (0.1 + abs(new)) < tol:
            break
        dev = new
    else:
        raise PanelError(f"the Poisson PML fit did not converge in {max_iter} iterations")
    # one more weighted step at the final means so that the working fit carries the scores
    z = eta + (y - mu) / mu
    w = prior * mu
    working = fit_linear(z, X, unit=unit, time=time, cluster=cluster, weights=w, names=names)
    return PoissonFit(
        beta=working.beta,
        mu=mu,
        working=working,
        iterations=iterations,
        deviance=_deviance(y, mu, prior),
    )


def drop_all_zero_units(panel: AlignedPanel) -> tuple[AlignedPanel, list[str]]:
    """Leave out families whose outcome is zero in every row (no information under unit FE)."""
    if (panel.y < 0).any():
        raise PanelError("the outcome has negative values; Poisson PML needs y >= 0")
    totals = np.bincount(panel.unit, weights=panel.y, minlength=panel.n_units)
    zero = totals[panel.unit] == 0
    if not zero.any():
        return panel, []
    n = int((totals == 0).sum())
    note = (
        f"{n} famil{'y' if n == 1 else 'ies'} with only zeros carry no information and are left out"
    )
    return panel.subset(~zero), [note]


@dataclass(frozen=True)
class AlignedRatioResult:
    """A multiplicative aligned effect: exp(b) - 1, with the effect at the comparison level."""

    coef: float
    se: float
    effect: float
    ci_low: float
    ci_high: float
    p_value: float
    df: float
    inference: str
    outcome: str
    n_units: int
    n_obs: int
    n_intervention: int
    n_comparison: int
    n_clusters: int
    comparison_post_mean: float
    level_effect: float
    level_ci_low: float
    level_ci_high: float
    level_unit: str = "outcome units"
    estimator: str = "aligned_ppml"
    design: str = "aligned"
    scale: str = "proportional change (exp(b) - 1)"
    t0: str = "own"
    t0_effect: dict[str, Any] | None = None
    event_times: list[int] = field(default_factory=list)
    dropped_event_times: list[int] = field(default_factory=list)
    pre_period: list[int] = field(default_factory=list)
    post_period: list[int] = field(default_factory=list)
    n_by_intake: dict[str, dict[str, int]] = field(default_factory=dict)
    robustness: dict[str, Any] = field(default_factory=dict)
    iterations: int = 0
    warnings: list[str] = field(default_factory=list)
    n_families_nonzero: int = 0
    n_families_all_zero: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (NaN becomes None)."""
        return json_safe(asdict(self))


def fit_ppml_design(design: AlignedDesign) -> PoissonFit:
    """Poisson PML of the aligned design, clustered by family."""
    p = design.panel
    return poisson_fe(
        p.y,
        design.X,
        unit=p.unit,
        time=p.year,
        cluster=p.unit,
        weights=p.weights,
        names=design.names,
    )


def score_bootstrap(
    fit: PoissonFit,
    index: int = 0,
    *,
    draws: int = SCORE_BOOTSTRAP_DRAWS,
    seed: int | None = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """Wild score bootstrap of one PPML coefficient (Kline & Santos 2012; unrestricted,
    unstudentised), clustered by family: each draw multiplies every family's score
    ``X~_g' e~_g`` of the converged working fit by one weight (Rademacher; Webb's six-point
    weights below 12 families), and ``d* = (X~'X~)^{-1} sum_g w_g s_g`` is the one-step
    perturbation of the estimate. p = (1 + #{|d*| >= |b|}) / (1 + draws); interval
    b -/+ the ``level`` quantile of |d*|. No refit per draw, so it is cheap beside CR1."""
    w = fit.working
    G = w.n_clusters
    scores = np.zeros((G, w.k))
    np.add.at(scores, w.cluster, w.X * w.resid[:, None])
    rng = np.random.default_rng(seed)
    if G < 12:
        support = np.array([-math.sqrt(1.5), -1.0, -math.sqrt(0.5), math.sqrt(0.5), 1.0])
        support = np.r_[support, math.sqrt(1.5)]
        weights = rng.choice(support, size=(draws, G))
        kind = "webb"
    else:
        weights = rng.choice(np.array([-1.0, 1.0]), size=(draws, G))
        kind = "rademacher"
    deltas = (weights @ scores) @ w.bread.T  # (draws, k)
    d = np.abs(deltas[:, index])
    b = float(fit.beta[index])
    half = float(np.quantile(d, level))
    return {
        "estimate": b,
        "ci_low": b - half,
        "ci_high": b + half,
        "p_value": float((1 + np.sum(d >= abs(b))) / (1 + draws)),
        "draws": draws,
        "weights": kind,
        "method": "wild score bootstrap (Kline-Santos), clustered by family",
    }


def ppml_robust(fit: PoissonFit) -> Robust:
    """The cluster-robust inference object of the working fit (CR1 and GLM CR2)."""
    return WorkingRobust(fit.working)


def _ratio(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "effect": math.expm1(row["estimate"]),
        "effect_ci_low": math.expm1(row["ci_low"]),
        "effect_ci_high": math.expm1(row["ci_high"]),
    }


def ppml_from_panel(
    panel: AlignedPanel,
    *,
    t0: str = "own",
    inference: str = "cr1",
    robustness: Sequence[str] = PPML_INFERENCES,
    level: float = 0.95,
    level_unit: str = "outcome units",
    outcome: str = "",
    bootstrap_draws: int = 0,
    seed: int | None = 0,
) -> AlignedRatioResult:
    """The aligned Poisson PML on a prepared panel (see the module docstring).

    ``bootstrap_draws`` > 0 adds ``score_bootstrap`` (:func:`score_bootstrap`) to the
    robustness table beside CR1 and CR2. ``n_families_nonzero`` counts the families with at
    least one non-zero value (those the fit uses), ``n_families_all_zero`` those left out."""
    if inference not in PPML_INFERENCES:
        raise PanelError(f"PPML inference must be one of {', '.join(PPML_INFERENCES)}")
    n_before = panel.n_units
    panel, notes = drop_all_zero_units(panel)
    design = aligned_design(panel, t0=t0)
    fit = fit_ppml_design(design)
    robust = ppml_robust(fit)
    methods = list(dict.fromkeys([inference, *robustness]))
    table = {m: _ratio(contrast_row(robust, 0, m, level)) for m in methods}
    if bootstrap_draws > 0:
        table["score_bootstrap"] = _ratio(
            score_bootstrap(fit, 0, draws=bootstrap_draws, seed=seed, level=level)
        )
    main = table[inference]
    t0_effect = None
    if "arm_t0" in design.names:
        t0_effect = _ratio(contrast_row(robust, design.names.index("arm_t0"), inference, level))
    p = design.panel
    base = float(np.mean(p.y[(p.arm == 0) & (p.event >= 1)]))
    effect = math.expm1(main["estimate"])
    return AlignedRatioResult(
        coef=main["estimate"],
        se=main["se"],
        effect=effect,
        ci_low=main["effect_ci_low"],
        ci_high=main["effect_ci_high"],
        p_value=main["p_value"],
        df=main["df"],
        inference=inference,
        outcome=outcome,
        n_clusters=fit.working.n_clusters,
        comparison_post_mean=base,
        level_effect=effect * base,
        level_ci_low=main["effect_ci_low"] * base,
        level_ci_high=main["effect_ci_high"] * base,
        level_unit=level_unit,
        t0=design.t0,
        t0_effect=t0_effect,
        event_times=design.event_times,
        dropped_event_times=design.dropped_event_times,
        pre_period=design.pre_period,
        post_period=design.post_period,
        robustness=table,
        iterations=fit.iterations,
        warnings=[*panel.notes, *notes, *design_warnings(design)],
        n_families_nonzero=int(design.panel.n_units),
        n_families_all_zero=int(n_before - panel.n_units),
        **sample_counts(p),
    )


def aligned_ppml(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    arm: str,
    intake: str,
    outcome: str,
    t0: str = "own",
    weights: str | None = None,
    inference: str = "cr1",
    robustness: Sequence[str] = PPML_INFERENCES,
    level: float = 0.95,
    level_unit: str = "outcome units",
) -> AlignedRatioResult:
    """Aligned Poisson PML DiD of a count or cost: ``exp(b) - 1`` and its level at the comparison mean.

    ``level_unit`` names the unit of ``level_effect`` (e.g. ``"euros"`` for costs).
    """
    panel = prepare_aligned(
        df, unit=unit, time=time, arm=arm, intake=intake, outcome=outcome, weights=weights
    )
    return ppml_from_panel(
        panel,
        t0=t0,
        inference=inference,
        robustness=robustness,
        level=level,
        level_unit=level_unit,
        outcome=outcome,
    )
