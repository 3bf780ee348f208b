"""The restricted wild cluster bootstrap (WCR-C) of one coefficient, with test-inversion CIs.

Every quantity is linear in the bootstrap weights and in the hypothesised value, so each draw is
one matrix-vector product and re-testing another value for the interval reuses the same weights.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from analysis.did.cluster_robust import Robust
from analysis.did.linear import InferenceError, LinearFit, group_sum_matrix


@dataclass(frozen=True)
class WildResult:
    """Wild cluster bootstrap p-value and test-inversion CI for one coefficient."""

    estimate: float
    p_value: float
    ci_low: float
    ci_high: float
    t_stat: float
    draws: int
    weights: str
    enumerated: bool
    n_clusters: int


_WEBB = np.array([-math.sqrt(1.5), -1.0, -math.sqrt(0.5), math.sqrt(0.5), 1.0, math.sqrt(1.5)])


def bootstrap_weights(
    G: int, draws: int, *, kind: str = "auto", seed: int | None = None
) -> tuple[np.ndarray, str, bool]:
    """Cluster weights (G, B): Rademacher or Webb, by full enumeration when it is small enough.

    ``auto``: Webb's six-point weights under 12 clusters (Rademacher has only 2^G distinct
    draws there), Rademacher otherwise; full enumeration whenever the support has at most
    ``draws`` points (the p-value is then exact and needs no seed).
    """
    if kind == "auto":
        kind = "webb" if G < 12 else "rademacher"
    support = _WEBB if kind == "webb" else np.array([-1.0, 1.0])
    if kind not in ("webb", "rademacher"):
        raise InferenceError(f"unknown bootstrap weights '{kind}' (use rademacher or webb)")
    if len(support) ** G <= draws:
        grid = np.array(list(itertools.product(support, repeat=G))).T
        return grid, kind, True
    rng = np.random.default_rng(seed)
    return rng.choice(support, size=(G, draws)), kind, False


class WildBootstrap:
    """Restricted wild cluster bootstrap-t (WCR-C, CR1 studentisation) of one coefficient.

    With ``y*(r) = Xb~(r) + v_g e~(r)`` the bootstrap numerator ``b*_k - r`` and the cluster
    scores of the bootstrap residuals are linear in ``v`` and in ``r``; both are precomputed
    as (G x G) matrices, so a draw costs one matrix product and re-testing another ``r`` for the
    confidence interval reuses the same weights.
    """

    def __init__(self, fit: LinearFit, k: int, v: np.ndarray) -> None:
        f = fit
        self.fit, self.k, self.v = f, k, v
        G = f.n_clusters
        others = [j for j in range(f.k) if j != k]
        Xo = f.X[:, others]
        xk = f.X[:, k]
        if others:
            coef_y = np.linalg.lstsq(Xo, f.y, rcond=None)[0]
            coef_x = np.linalg.lstsq(Xo, xk, rcond=None)[0]
            ey, ex = f.y - Xo @ coef_y, xk - Xo @ coef_x
        else:
            ey, ex = f.y.copy(), xk.copy()
        # restricted residuals e~(r) = ey - r * ex
        q = f.X @ f.bread[:, k]  # (n,) numerator weights: b_k = q'y
        Z = np.zeros((f.n_obs, G))
        rows = np.arange(f.n_obs)
        self.num0 = np.bincount(f.cluster, weights=q * ey, minlength=G)
        self.num1 = np.bincount(f.cluster, weights=q * ex, minlength=G)
        # cluster scores of M_full (e~ * v_g): K v with K[j, l] = sum_{i in j} q_i (M_full E_l)_i
        Kmats = []
        for e in (ey, ex):
            Z[:] = 0.0
            Z[rows, f.cluster] = e
            MZ = f.fe.resid(Z)  # fit.X is FE-residualised, so M_full = M_X M_FE
            MZ = MZ - f.X @ (f.bread @ (f.X.T @ MZ))
            Kq = group_sum_matrix(f.cluster, G, q) @ MZ
            Kmats.append(Kq)
        self.K0, self.K1 = Kmats
        K0v, K1v = self.K0 @ v, self.K1 @ v
        # sum_j (K0v - r K1v)_j^2 = a - 2 r b + r^2 c: testing another r costs O(B)
        self.a = np.einsum("gb,gb->b", K0v, K0v)
        self.b = np.einsum("gb,gb->b", K0v, K1v)
        self.c = np.einsum("gb,gb->b", K1v, K1v)
        self.n0v, self.n1v = self.num0 @ v, self.num1 @ v
        robust = Robust(f)
        self.cr1 = robust.contrast(_unit(f.k, k), "cr1")
        self.scale = self.cr1.se**2 / (q_cluster_scores_sq(f, k))

    def t_obs(self, r: float) -> float:
        return (self.cr1.estimate - r) / self.cr1.se

    def t_star(self, r: float) -> np.ndarray:
        num = self.n0v - r * self.n1v
        ss = np.clip(self.a - 2 * r * self.b + r * r * self.c, 0.0, None)
        se = np.sqrt(self.scale * ss)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(se > 0, num / se, 0.0)

    def p_value(self, r: float) -> float:
        t = abs(self.t_obs(r))
        ts = np.abs(self.t_star(r))
        return float(np.mean(ts >= t - 1e-12 * max(1.0, t)))

    def confidence_interval(self, level: float = 0.95) -> tuple[float, float]:
        """Test inversion: the set of ``r`` not rejected at ``1 - level``."""
        alpha = 1 - level
        est, se = self.cr1.estimate, self.cr1.se

        def gap(r: float) -> float:
            return self.p_value(r) - alpha

        def bound(direction: float) -> float:
            inner = est
            step = se
            outer = est + direction * step
            for _ in range(60):
                if gap(outer) < 0:
                    break
                inner, outer = outer, outer + direction * step
                step *= 2
            else:
                return direction * math.inf
            return float(optimize.brentq(gap, min(inner, outer), max(inner, outer), xtol=se * 1e-6))

        return bound(-1.0), bound(1.0)


def _unit(k: int, j: int) -> np.ndarray:
    c = np.zeros(k)
    c[j] = 1.0
    return c


def q_cluster_scores_sq(fit: LinearFit, k: int) -> float:
    """Sum over clusters of squared scores of coefficient ``k`` (the unscaled CR0 variance)."""
    q = fit.X @ fit.bread[:, k]
    s = np.bincount(fit.cluster, weights=q * fit.resid, minlength=fit.n_clusters)
    return float(s @ s)


def wild_cluster_bootstrap(
    fit: LinearFit,
    coef: str | int,
    *,
    draws: int = 9999,
    weights: str = "auto",
    seed: int | None = None,
    level: float = 0.95,
    null: float = 0.0,
) -> WildResult:
    """WCR bootstrap p-value of ``coef = null`` and its test-inversion confidence interval."""
    k = fit.names.index(coef) if isinstance(coef, str) else coef
    v, kind, enumerated = bootstrap_weights(fit.n_clusters, draws, kind=weights, seed=seed)
    boot = WildBootstrap(fit, k, v)
    lo, hi = boot.confidence_interval(level)
    return WildResult(
        estimate=float(fit.beta[k]),
        p_value=boot.p_value(null),
        ci_low=lo,
        ci_high=hi,
        t_stat=boot.t_obs(null),
        draws=v.shape[1],
        weights=kind,
        enumerated=enumerated,
        n_clusters=fit.n_clusters,
    )
