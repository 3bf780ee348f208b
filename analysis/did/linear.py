"""A least-squares fit with unit and period effects projected out exactly (Frisch-Waugh-Lovell).

The fixed-effects projection ``H_FE`` is never built as a matrix: unit effects are removed by
demeaning within unit, period effects by projecting on the period dummies demeaned within unit
(``W``). Every variance estimator (:mod:`analysis.did.cluster_robust`), the wild bootstrap
(:mod:`analysis.did.wild`) and randomisation inference work on the fit this module returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

EIG_TOL = 1e-10


class InferenceError(ValueError):
    """A requested inference cannot be computed on this model or data."""


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


def codes(values: pd.Series | np.ndarray) -> np.ndarray:
    """Integer codes 0..K-1 of a column's distinct values (sorted)."""
    return pd.factorize(pd.Series(values), sort=True)[0].astype(int)
