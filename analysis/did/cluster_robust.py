"""Cluster-robust variances and tests of a :class:`~analysis.did.linear.LinearFit`: CR2 with
Satterthwaite df and the HTZ test, CR1 (fixest convention) and the CV3 jackknife.

The adjustments that need the *full* hat matrix (fixed-effect dummies included) are computed
from ``H = H_FE + H_X`` block by block, so absorbing the effects gives exactly what
``clubSandwich`` gives with explicit ``factor()`` dummies (see :mod:`analysis.did.inference`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.did.linear import EIG_TOL, InferenceError, LinearFit, codes


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
    # Eigenvalues at or below the tolerance (a family's fitted-out block) get 0, the generalised
    # inverse square root; they are masked out, so no power of a zero is taken (no warning).
    kept = vals > EIG_TOL
    powered = np.zeros_like(vals)
    powered[kept] = vals[kept] ** -0.5
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
