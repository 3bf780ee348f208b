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
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, sparse, stats

EIG_TOL = 1e-10
Inference = Literal["cr2", "cr1", "cv3", "wild", "ri"]


class InferenceError(ValueError):
    """A requested inference cannot be computed on this model or data."""


# --------------------------------------------------------------------------------------------
# The fixed-effects projection


def group_sum_matrix(groups: np.ndarray, n_groups: int, values: np.ndarray) -> sparse.csr_matrix:
    """Sparse (n_groups x n) matrix M with ``M @ A`` = per-group sums of ``values * A``."""
    n = groups.size
    return sparse.csr_matrix((values, (groups, np.arange(n))), shape=(n_groups, n))


class FixedEffects:
    """Exact projection on unit and/or period dummies in the sqrt-weight transformed space."""

    def __init__(self, unit: np.ndarray | None, time: np.ndarray | None, s: np.ndarray) -> None:
        self.s = s
        self.n = len(s)
        self.unit = unit
        self.time = time
        if unit is not None:
            self.n_units = int(unit.max()) + 1
            self.sw2 = np.bincount(unit, weights=s * s, minlength=self.n_units)
            self.unit_sum = group_sum_matrix(unit, self.n_units, s)
        self.W: np.ndarray | None = None
        if time is not None:
            n_t = int(time.max()) + 1
            dummies = np.zeros((self.n, n_t))
            dummies[np.arange(self.n), time] = s
            self.W = self._unit_resid(dummies)
            wtw = self.W.T @ self.W
            vals, vecs = np.linalg.eigh(wtw)
            keep = vals > EIG_TOL * max(vals.max(), 1.0)
            self.w_pinv = (vecs[:, keep] / vals[keep]) @ vecs[:, keep].T
            self.w_rank = int(keep.sum())
            self.n_time_levels = int(np.unique(time).size)

    @property
    def n_params(self) -> int:
        """Rank of the fixed-effect design."""
        return (self.n_units if self.unit is not None else 0) + (
            self.w_rank if self.W is not None else 0
        )

    def _unit_resid(self, a: np.ndarray) -> np.ndarray:
        if self.unit is None:
            return a
        a2 = a if a.ndim == 2 else a[:, None]
        means = (self.unit_sum @ a2) / self.sw2[:, None]
        out = a2 - self.s[:, None] * means[self.unit]
        return out if a.ndim == 2 else out[:, 0]

    def resid(self, a: np.ndarray) -> np.ndarray:
        """``(I - H_FE) a`` for a transformed vector or matrix."""
        out = self._unit_resid(a)
        if self.W is not None:
            out = out - self.W @ (self.w_pinv @ (self.W.T @ out))
        return out


# --------------------------------------------------------------------------------------------
# A fitted linear model in residualised form, with cluster blocks


@dataclass
class LinearFit:
    """OLS/WLS of ``y`` on ``X`` after exact removal of fixed effects, clustered by ``cluster``."""

    y: np.ndarray  # residualised transformed outcome (n,)
    X: np.ndarray  # residualised transformed regressors (n, k)
    fe: FixedEffects
    cluster: np.ndarray  # cluster code per row, 0..G-1 (units nested in clusters)
    names: list[str]
    n_obs: int
    beta: np.ndarray
    resid: np.ndarray
    bread: np.ndarray  # (X'X)^{-1}

    @property
    def n_clusters(self) -> int:
        return int(self.cluster.max()) + 1

    @property
    def k(self) -> int:
        return self.X.shape[1]


def fit_linear(
    y: np.ndarray,
    X: np.ndarray,
    *,
    unit: np.ndarray | None,
    time: np.ndarray | None,
    cluster: np.ndarray,
    weights: np.ndarray | None = None,
    names: list[str] | None = None,
) -> LinearFit:
    """Fit ``y ~ X + unit FE + period FE`` by least squares; codes must be 0..K-1 integers."""
    n = len(y)
    s = np.ones(n) if weights is None else np.sqrt(np.asarray(weights, dtype=float))
    fe = FixedEffects(unit, time, s)
    yt = fe.resid(s * y)
    Xt = fe.resid(s[:, None] * X)
    xtx = Xt.T @ Xt
    if np.linalg.matrix_rank(xtx) < X.shape[1]:
        raise InferenceError(
            "the regressors are collinear with the unit and period effects"
            " (is every unit treated in the same period, or a covariate constant within units?)"
        )
    bread = np.linalg.inv(xtx)
    beta = bread @ (Xt.T @ yt)
    return LinearFit(
        y=yt,
        X=Xt,
        fe=fe,
        cluster=cluster,
        names=names or [f"x{i}" for i in range(X.shape[1])],
        n_obs=n,
        beta=beta,
        resid=yt - Xt @ beta,
        bread=bread,
    )


class _Blocks:
    """Rows grouped by cluster into padded arrays (G, m, ...) for batched linear algebra."""

    def __init__(self, fit: LinearFit) -> None:
        c = fit.cluster
        order = np.argsort(c, kind="stable")
        counts = np.bincount(c, minlength=fit.n_clusters)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        pos = np.empty(len(c), dtype=int)
        pos[order] = np.arange(len(c)) - np.repeat(starts, counts)
        self.c, self.pos, self.G, self.m = c, pos, fit.n_clusters, int(counts.max())
        self.mask = np.zeros((self.G, self.m), dtype=bool)
        self.mask[c, pos] = True

    def pad(self, a: np.ndarray) -> np.ndarray:
        shape = (self.G, self.m) + a.shape[1:]
        out = np.zeros(shape)
        out[self.c, self.pos] = a
        return out

    def unpad(self, a: np.ndarray) -> np.ndarray:
        return a[self.c, self.pos]


def _hat_blocks(fit: LinearFit, blocks: _Blocks) -> np.ndarray:
    """``H_jj`` of the full design (fixed-effect dummies included), padded (G, m, m)."""
    fe = fit.fe
    Xp = blocks.pad(fit.X)
    H = np.einsum("gik,kl,gjl->gij", Xp, fit.bread, Xp)
    if fe.W is not None:
        Wp = blocks.pad(fe.W)
        H += np.einsum("gik,kl,gjl->gij", Wp, fe.w_pinv, Wp)
    if fe.unit is not None:
        up = blocks.pad(fe.unit.astype(float))
        sp = blocks.pad(fe.s)
        same = (
            (up[:, :, None] == up[:, None, :]) & blocks.mask[:, :, None] & blocks.mask[:, None, :]
        )
        inv_sw2 = blocks.pad(1.0 / fe.sw2[fe.unit])
        H += same * (sp[:, :, None] * sp[:, None, :]) * inv_sw2[:, :, None]
    return H


def _adjustments(fit: LinearFit, blocks: _Blocks, power: float) -> np.ndarray:
    """``(I - H_jj)^power`` by symmetric Moore-Penrose powers, padded (G, m, m)."""
    H = _hat_blocks(fit, blocks)
    eye = np.broadcast_to(np.eye(blocks.m), H.shape)
    ih = np.where(blocks.mask[:, :, None] & blocks.mask[:, None, :], eye - H, 0.0)
    ih = ih + np.where(~blocks.mask[:, :, None] & np.eye(blocks.m, dtype=bool), 1.0, 0.0)
    vals, vecs = np.linalg.eigh(ih)
    good = vals > EIG_TOL
    powered = np.zeros_like(vals)
    powered[good] = vals[good] ** power  # Moore-Penrose: zero eigenvalues stay zero
    A = np.einsum("gik,gk,gjk->gij", vecs, powered, vecs)
    return A * (blocks.mask[:, :, None] & blocks.mask[:, None, :])


def _weighted_adjustments(fit: LinearFit, blocks: _Blocks) -> np.ndarray:
    """CR2 with weights that are not inverse variances (working model Phi = I, as clubSandwich).

    ``B_j = [(I - H)(I - H)']_jj`` with the weighted hat ``H = X(X'WX)^{-1}X'W`` of the full
    design; ``A_j = B_j^{-1/2}``. Returned as ``S_j A_j S_j^{-1}`` so that the meat is the same
    expression in the sqrt-weight transformed space as without weights.
    """
    fe, s = fit.fe, fit.fe.s
    if fe.unit is not None and not np.array_equal(codes(fe.unit), codes(fit.cluster)):
        raise InferenceError("weighted CR2 needs clusters equal to units")
    cols, gam = [fit.X], [fit.bread]
    if fe.W is not None:
        cols.insert(0, fe.W)
        gam.insert(0, fe.w_pinv)
    if fe.unit is not None:
        U = np.zeros((fit.n_obs, fe.n_units))
        U[np.arange(fit.n_obs), fe.unit] = s
        cols.insert(0, U)
        gam.insert(0, np.diag(1.0 / fe.sw2))
    L = np.hstack(cols)
    sizes = [g.shape[0] for g in gam]
    Gam = np.zeros((sum(sizes), sum(sizes)))
    o = 0
    for g, k in zip(gam, sizes, strict=True):
        Gam[o : o + k, o : o + k] = g
        o += k
    R = Gam @ (L.T @ (L * (s * s)[:, None])) @ Gam
    Lp = blocks.pad(L)
    HS2H = (Lp @ R) @ Lp.transpose(0, 2, 1)
    H = _hat_blocks(fit, blocks)
    sp = blocks.pad(s)
    s2 = sp * sp
    mask2 = blocks.mask[:, :, None] & blocks.mask[:, None, :]
    inner = np.eye(blocks.m) * s2[:, None, :] - H * s2[:, None, :] - s2[:, :, None] * H + HS2H
    inv_s = np.where(blocks.mask, 1.0 / np.where(blocks.mask, sp, 1.0), 0.0)
    B = inner * inv_s[:, :, None] * inv_s[:, None, :]
    B = np.where(mask2, B, 0.0) + np.where(
        ~blocks.mask[:, :, None] & np.eye(blocks.m, dtype=bool), 1.0, 0.0
    )
    vals, vecs = np.linalg.eigh(B)
    powered = np.where(vals > EIG_TOL, np.abs(vals) ** -0.5, 0.0)
    A = np.einsum("gik,gk,gjk->gij", vecs, powered, vecs) * mask2
    return A * sp[:, :, None] * inv_s[:, None, :]


@dataclass(frozen=True)
class ContrastTest:
    """Estimate, SE, df and p of one linear contrast ``c'b`` against 0 (or a given value)."""

    estimate: float
    se: float
    df: float
    t: float
    p_value: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class JointTest:
    """A joint Wald test of ``C b = 0``: F statistic, numerator and denominator df, p."""

    F: float
    df_num: int
    df_den: float
    p_value: float


class Robust:
    """Cluster-robust variance matrices and tests for one :class:`LinearFit`."""

    def __init__(self, fit: LinearFit) -> None:
        self.fit = fit
        self.blocks = _Blocks(fit)
        self._A2: np.ndarray | None = None

    # -- variance matrices -------------------------------------------------------------------
    def _meat(self, A: np.ndarray | None) -> np.ndarray:
        b = self.blocks
        Xp, ep = b.pad(self.fit.X), b.pad(self.fit.resid)
        Ae = ep if A is None else np.einsum("gij,gj->gi", A, ep)
        S = np.einsum("gik,gi->gk", Xp, Ae)
        return S.T @ S

    @property
    def weighted(self) -> bool:
        return not np.allclose(self.fit.fe.s, 1.0)

    @property
    def A2(self) -> np.ndarray:
        """CR2 adjustment in the transformed space (``S A_j S^{-1}``), padded (G, m, m)."""
        if self._A2 is None:
            if self.weighted:
                self._A2 = _weighted_adjustments(self.fit, self.blocks)
            else:
                self._A2 = _adjustments(self.fit, self.blocks, -0.5)
        return self._A2

    def vcov(self, kind: str) -> np.ndarray:
        """The cluster-robust covariance of the coefficients: 'cr2', 'cr1', 'cr0' or 'cv3'."""
        f, G = self.fit, self.fit.n_clusters
        if kind == "cr2":
            meat = self._meat(self.A2)
        elif kind in ("cr1", "cr0"):
            meat = self._meat(None)
            if kind == "cr1":
                # fixest/pyfixest: unit effects are nested in the clusters and not counted;
                # every level of the period effect is.
                K = f.k + (f.fe.n_time_levels if f.fe.W is not None else 0)
                meat = meat * (G / (G - 1)) * ((f.n_obs - 1) / (f.n_obs - K))
        elif kind == "cv3":
            meat = self._meat(_adjustments(f, self.blocks, -1.0)) * ((G - 1) / G)
        else:
            raise InferenceError(f"unknown variance estimator '{kind}'")
        return f.bread @ meat @ f.bread

    # -- Satterthwaite / HTZ ------------------------------------------------------------------
    def _gram(self, C: np.ndarray) -> np.ndarray:
        """``Z_s'(I - H)Z_t`` for each pair of contrasts: array (q, G, q, G)."""
        f, b = self.fit, self.blocks
        q, G = C.shape[0], b.G
        Xp = b.pad(f.X)
        if self.weighted:
            return self._gram_weighted(C)
        g = np.einsum("gij,gjk,kq->giq", self.A2, Xp, f.bread @ C.T)  # (G, m, q)
        diag = np.einsum("gis,git->gst", g, g)  # (G, q, q)
        if f.fe.unit is not None:
            gs = b.unpad(g) * f.fe.s[:, None]  # (n, q)
            bu = np.zeros((f.fe.n_units, q))
            np.add.at(bu, f.fe.unit, gs)
            contrib = np.einsum("us,ut->ust", bu, bu) / f.fe.sw2[:, None, None]
            unit_cluster = np.zeros(f.fe.n_units, dtype=int)
            unit_cluster[f.fe.unit] = f.cluster
            per_cluster = np.zeros((G, q, q))
            np.add.at(per_cluster, unit_cluster, contrib)
            diag = diag - per_cluster
        gram = np.zeros((q, G, q, G))
        idx = np.arange(G)
        gram[:, idx, :, idx] = diag
        R = np.einsum("gik,giq->qkg", Xp, g)  # X'Z_s, (q, k, G)
        gram -= np.einsum("skg,kl,tlh->sgth", R, f.bread, R)
        if f.fe.W is not None:
            Wp = b.pad(f.fe.W)
            Y = np.einsum("gik,giq->qkg", Wp, g)
            gram -= np.einsum("skg,kl,tlh->sgth", Y, f.fe.w_pinv, Y)
        return gram

    def _gram_weighted(self, C: np.ndarray) -> np.ndarray:
        """Weighted case: ``Z'(I-H)(I-H)'Z`` with working model Phi = I (clubSandwich's target)."""
        f, b = self.fit, self.blocks
        q, G = C.shape[0], b.G
        Xp = b.pad(f.X)
        g = np.einsum("gji,gjk,kq->giq", self.A2, Xp, f.bread @ C.T)  # S^-1 A S X M c
        rows = np.arange(f.n_obs)
        gram = np.zeros((q, G, q, G))
        gn = b.unpad(g)
        s2 = f.fe.s**2
        Ys = []
        for j in range(q):
            Z = np.zeros((f.n_obs, G))
            Z[rows, f.cluster] = gn[:, j]
            Y = f.fe.resid(Z)
            Ys.append(Y - f.X @ (f.bread @ (f.X.T @ Y)))
        for a in range(q):
            for c in range(q):
                gram[a, :, c, :] = Ys[a].T @ (s2[:, None] * Ys[c])
        return gram

    def satterthwaite_df(self, c: np.ndarray) -> float:
        """Satterthwaite df of the CR2 variance of ``c'b`` (Bell & McCaffrey; clubSandwich)."""
        gram = self._gram(np.atleast_2d(c))[0, :, 0, :]
        return float(np.trace(gram) ** 2 / np.sum(gram * gram))

    def htz_test(self, C: np.ndarray, value: np.ndarray | None = None) -> JointTest:
        """Approximate Hotelling T-squared (HTZ) test of ``C b = value`` with CR2."""
        C = np.atleast_2d(C)
        q = C.shape[0]
        diff = C @ self.fit.beta - (np.zeros(q) if value is None else value)
        V = C @ self.vcov("cr2") @ C.T
        Q = float(diff @ np.linalg.solve(V, diff))
        gram = self._gram(C)
        omega = np.einsum("sgtg->st", gram)
        vals, vecs = np.linalg.eigh(omega)
        half = vecs @ np.diag(1.0 / np.sqrt(vals)) @ vecs.T
        gt = np.einsum("as,sgth,bt->agbh", half, gram, half)
        ss = np.einsum("sgsh->sgh", gt)
        var_total = np.einsum("sgh,tgh->", ss, ss) + np.einsum("sgth,tgsh->", gt, gt)
        eta = q * (q + 1) / var_total
        df_den = eta - q + 1
        F = (eta - q + 1) / (eta * q) * Q
        p = float(stats.f.sf(F, q, df_den)) if df_den > 0 else float("nan")
        return JointTest(F=F, df_num=q, df_den=float(df_den), p_value=p)

    def wald_test(self, C: np.ndarray, kind: str) -> JointTest:
        """A plain Wald F test with ``kind`` variance and G-1 denominator df (cr1/cv3)."""
        C = np.atleast_2d(C)
        q = C.shape[0]
        diff = C @ self.fit.beta
        V = C @ self.vcov(kind) @ C.T
        F = float(diff @ np.linalg.solve(V, diff)) / q
        df_den = self.fit.n_clusters - 1
        return JointTest(
            F=F, df_num=q, df_den=float(df_den), p_value=float(stats.f.sf(F, q, df_den))
        )

    # -- single contrasts -------------------------------------------------------------------
    def contrast(self, c: np.ndarray, kind: str = "cr2", level: float = 0.95) -> ContrastTest:
        """Estimate, SE, df, p and CI of ``c'b`` with the chosen variance and t reference."""
        c = np.asarray(c, dtype=float)
        est = float(c @ self.fit.beta)
        se = float(math.sqrt(max(c @ self.vcov(kind) @ c, 0.0)))
        df = self.satterthwaite_df(c) if kind == "cr2" else float(self.fit.n_clusters - 1)
        return _t_summary(est, se, df, level)

    def coef(
        self, name_or_index: str | int, kind: str = "cr2", level: float = 0.95
    ) -> ContrastTest:
        """Inference for one coefficient by name or position."""
        j = self.fit.names.index(name_or_index) if isinstance(name_or_index, str) else name_or_index
        c = np.zeros(self.fit.k)
        c[j] = 1.0
        return self.contrast(c, kind, level)


def _t_summary(est: float, se: float, df: float, level: float = 0.95) -> ContrastTest:
    t = est / se if se > 0 else float("nan")
    p = float(2 * stats.t.sf(abs(t), df)) if se > 0 else float("nan")
    crit = float(stats.t.ppf(0.5 + level / 2, df))
    return ContrastTest(est, se, float(df), t, p, est - crit * se, est + crit * se)


# --------------------------------------------------------------------------------------------
# Restricted wild cluster bootstrap (WCR) with test inversion


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


# --------------------------------------------------------------------------------------------
# Codes


def codes(values: pd.Series | np.ndarray) -> np.ndarray:
    """Integer codes 0..K-1 of a column's distinct values (sorted)."""
    return pd.factorize(pd.Series(values), sort=True)[0].astype(int)


# --------------------------------------------------------------------------------------------
# Randomisation inference


@dataclass(frozen=True)
class RiResult:
    """Randomisation-inference p-value of the TWFE effect under permuted cohort labels."""

    statistic: float
    p_value: float
    draws: int
    seed: int | None


def randomization_inference(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    covariates: tuple[str, ...] | list[str] = (),
    weights: str | None = None,
    draws: int = 999,
    seed: int | None = None,
    chunk: int = 256,
) -> RiResult:
    """Permute cohort labels (arm and intake period) across units and refit the TWFE effect.

    Each permutation reassigns whole units' cohorts, so the number of units per cohort (and
    treated versus comparison) is kept. The two-sided p-value is
    ``(1 + #{|b*| >= |b|}) / (1 + draws)`` (Fisher's sharp null of no effect for any family).
    All permuted treatment columns are residualised on the fixed effects and covariates at
    once, so a permutation costs a few vector operations.
    """
    from analysis.did.twfe import prepare  # local: twfe imports this module

    prep = prepare(
        df,
        unit=unit,
        time=time,
        cohort=cohort,
        outcome=outcome,
        covariates=covariates,
        weights=weights,
    )
    n = prep.y.size
    s = np.ones(n) if prep.weights is None else np.sqrt(prep.weights)
    fe = FixedEffects(prep.unit_codes, prep.time_codes, s)
    t = prep.data[time].to_numpy(dtype=float)
    y = fe.resid(s * prep.y)
    C = fe.resid(s[:, None] * prep.data[list(covariates)].to_numpy(dtype=float))
    if C.shape[1]:
        cq, _ = np.linalg.qr(C)
        y = y - cq @ (cq.T @ y)

    def betas(cohort_of_unit: np.ndarray) -> np.ndarray:
        g = cohort_of_unit[prep.unit_codes]  # (n, B)
        D = ((g > 0) & (t[:, None] >= g)).astype(float)
        Dr = fe.resid(s[:, None] * D)
        if C.shape[1]:
            Dr = Dr - cq @ (cq.T @ Dr)
        den = np.einsum("ib,ib->b", Dr, Dr)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 1e-12, (Dr.T @ y) / den, 0.0)

    g_unit = prep.cohort_by_unit
    observed = float(betas(g_unit[:, None])[0])
    rng = np.random.default_rng(seed)
    hits = 0
    done = 0
    while done < draws:
        b = min(chunk, draws - done)
        perms = np.stack([rng.permutation(g_unit) for _ in range(b)], axis=1)
        hits += int(np.sum(np.abs(betas(perms)) >= abs(observed) - 1e-12 * max(1.0, abs(observed))))
        done += b
    return RiResult(statistic=observed, p_value=(1 + hits) / (1 + draws), draws=draws, seed=seed)
