"""Cluster-robust inference for linear models with absorbed unit and period effects.

Everything here works on a least-squares fit whose unit and period fixed effects have been
projected out exactly (Frisch-Waugh-Lovell), so the adjustments that need the *full* hat matrix
(fixed-effect dummies included) are computed without ever building it:

* ``H = H_FE + H_X``: the hat matrix of ``[FE dummies, X]`` is the fixed-effects projection plus
  the projection on the residualised ``X``. With unit effects (nested in the clusters) and period
  effects, ``H_FE = P_unit + P_W`` where ``W`` is the period dummies demeaned within unit, so any
  block ``H_jj`` and any product ``Z'(I - H)Z`` is a handful of small matrix products.
* **CR2** (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018): ``A_j = (I - H_jj)^{-1/2}``
  (symmetric Moore-Penrose square root), working model ``Phi = W^{-1}`` for weights ``W`` (as R
  ``clubSandwich``), **Satterthwaite** degrees of freedom for single contrasts and the
  **HTZ** approximate Hotelling T-squared test for several (Pustejovsky & Tipton 2018, sec. 3).
  Because the adjustment uses the full hat matrix, absorbing the effects gives exactly what
  ``clubSandwich`` gives with explicit ``factor()`` dummies (validated in the tests).
* **CR1** with fixest's small-sample convention: ``G/(G-1) * (n-1)/(n-K)`` where ``K`` counts
  the regressors and the period effects but *not* the unit effects, which are nested in the
  clusters; t reference with ``G-1`` df. (statsmodels with dummies counts the unit effects in K
  and inflates the SE; clubSandwich's own "CR1" is the plain ``G/(G-1)``.)
* **CV3** jackknife: the delete-one-cluster variance ``(G-1)/G * sum (b_-j - b)(b_-j - b)'``,
  computed exactly through ``A_j = (I - H_jj)^{-1}`` rather than by refitting; t(G-1).
* The **restricted wild cluster bootstrap** (WCR) of a single coefficient with CIs by test
  inversion lives in :func:`wild_cluster_bootstrap`; every quantity is linear in the bootstrap
  weights and in the hypothesised value, so each draw is one matrix-vector product.

This module is the door to all of it: the names of the inference methods (the one list every
page, command and check uses), the summary of a fitted coefficient under several methods, and
the public names of the parts, which live in :mod:`analysis.did.linear` (the fit),
:mod:`analysis.did.cluster_robust` (CR2, CR1, CV3) and :mod:`analysis.did.wild` (the bootstrap).
Randomisation inference refits the model and lives in :mod:`analysis.did.randomization`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, get_args

from analysis.did.cluster_robust import ContrastTest, JointTest, Robust
from analysis.did.linear import (
    EIG_TOL,
    FixedEffects,
    InferenceError,
    LinearFit,
    codes,
    fit_linear,
    group_sum_matrix,
)
from analysis.did.wild import (
    WildBootstrap,
    WildResult,
    bootstrap_weights,
    q_cluster_scores_sq,
    wild_cluster_bootstrap,
)

Inference = Literal["cr2", "cr1", "cv3", "wild", "ri"]
#: Every inference method, in the order pages and reports list them.
INFERENCE_METHODS: tuple[str, ...] = get_args(Inference)
#: The closed-form cluster-robust variances (the others resample the data).
VARIANCE_METHODS: tuple[str, ...] = INFERENCE_METHODS[:3]
#: Every method but randomisation inference, which refits the model ``draws`` times and gives no
#: interval of its own, so it is opt-in: an estimate's default robustness table and the methods
#: an analysis run may follow.
DEFAULT_METHODS: tuple[str, ...] = tuple(m for m in INFERENCE_METHODS if m != "ri")
#: Fewer effective (Satterthwaite) degrees of freedom than this earn a warning.
LOW_DF = 10.0


def check_method(method: str, allowed: Sequence[str] = INFERENCE_METHODS) -> None:
    """Refuse an unknown inference method, naming the ones that are allowed."""
    if method not in allowed:
        raise InferenceError(f"unknown inference '{method}'; use one of {', '.join(allowed)}")


def _variance_summary(robust: Robust, method: str, level: float) -> dict[str, Any]:
    r = robust.coef(0, method, level)
    return {"se": r.se, "df": r.df, "p_value": r.p_value, "ci_low": r.ci_low, "ci_high": r.ci_high}


def _wild_summary(
    fit: LinearFit, robust: Robust, *, draws: int, seed: int | None, level: float
) -> dict[str, Any]:
    w = wild_cluster_bootstrap(fit, 0, draws=draws, seed=seed, level=level)
    cr1 = robust.coef(0, "cr1", level)
    return {
        "se": cr1.se,
        "df": float(fit.n_clusters - 1),
        "p_value": w.p_value,
        "ci_low": w.ci_low,
        "ci_high": w.ci_high,
        "draws": w.draws,
        "weights": w.weights,
        "enumerated": w.enumerated,
    }


def method_summaries(
    fit: LinearFit,
    *,
    methods: Sequence[str],
    draws: int,
    seed: int | None,
    ri_fn: Callable[[], dict[str, Any]] | None = None,
    level: float = 0.95,
) -> dict[str, dict[str, Any]]:
    """The first coefficient of ``fit`` under each of ``methods``: se, df, p and interval.

    Randomisation inference needs the data, not the fit: ``ri_fn`` computes it (left out when
    None)."""
    robust = Robust(fit)
    out: dict[str, dict[str, Any]] = {}
    for m in methods:
        check_method(m)
        if m in VARIANCE_METHODS:
            out[m] = _variance_summary(robust, m, level)
        elif m == "wild":
            out[m] = _wild_summary(fit, robust, draws=draws, seed=seed, level=level)
        elif ri_fn is not None:
            out[m] = ri_fn()
    return out


__all__ = [
    "DEFAULT_METHODS",
    "EIG_TOL",
    "INFERENCE_METHODS",
    "LOW_DF",
    "VARIANCE_METHODS",
    "ContrastTest",
    "FixedEffects",
    "Inference",
    "InferenceError",
    "JointTest",
    "LinearFit",
    "Robust",
    "WildBootstrap",
    "WildResult",
    "bootstrap_weights",
    "check_method",
    "codes",
    "fit_linear",
    "group_sum_matrix",
    "method_summaries",
    "q_cluster_scores_sq",
    "wild_cluster_bootstrap",
]
