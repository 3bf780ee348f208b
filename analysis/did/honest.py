"""HonestDiD relative-magnitude sensitivity bounds (Rambachan & Roth 2023) for an event study.

Under Delta^RM(Mbar) the post-intake violation of parallel trends may change from one period to
the next by at most ``Mbar`` times the largest change seen between consecutive pre-intake
periods. For each Mbar we report a 95 % confidence interval for the *average* post-intake
effect (HonestDiD's default is the first post period; the report speaks about the average),
and the breakdown value: the smallest Mbar at which the interval includes zero.

Implementation: R ``HonestDiD``'s ``computeConditionalCS_DeltaRM`` logic written here -- the
union over "which pre-period change is the largest, and its sign" of conditional confidence
sets -- with the moment-inequality tests themselves (Andrews, Roth & Pakes 2023, the
"Conditional" method, no least-favourable hybrid) taken from ``moderndid.didhonest``
(``compute_arp_nuisance_ci`` / ``compute_arp_ci``; MIT). We do not call moderndid's own
``create_sensitivity_results_rm``: in moderndid 0.2.0 its polyhedra skip the change between
the first two pre-periods (an off-by-one against R), which our hand-computed identified-set
test catches. The hybrid's simulated critical values would cost ~10 s per Mbar here.
moderndid's module needs ``cvxpy`` installed (Apache-2.0) to import; the LPs run on HiGHS.
The theta grid has ``GRID_POINTS`` points over a range wide enough for the identified set,
so interval ends are accurate to about (range / GRID_POINTS). The event-study coefficients and their CR2
covariance are the inputs; binned end points enter as if they were single periods.
"""

from __future__ import annotations

import math
import warnings as _warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

BREAKDOWN_TOL = 0.05
BREAKDOWN_MAX = 8.0


GRID_POINTS = 201


def _grid(
    beta: np.ndarray, sigma: np.ndarray, n_pre: int, n_post: int, mbar: float
) -> tuple[float, float]:
    """A search grid wide enough for the identified set plus sampling noise.

    HonestDiD's default grid is scaled by the SE of the target only; with precise estimates
    and a wide identified set it would cut the interval off.
    """
    l_vec = np.full(n_post, 1.0 / n_post)
    theta = float(l_vec @ beta[n_pre:])
    sd_theta = float(np.sqrt(l_vec @ sigma[n_pre:, n_pre:] @ l_vec))
    pre = np.append(beta[:n_pre], 0.0)
    D = np.diff(np.eye(n_pre + 1), axis=0)
    cov_pre = np.zeros((n_pre + 1, n_pre + 1))
    cov_pre[:n_pre, :n_pre] = sigma[:n_pre, :n_pre]
    sd_diff = np.sqrt(np.clip(np.diag(D @ cov_pre @ D.T), 0, None))
    largest = float(np.max(np.abs(D @ pre) + 4 * sd_diff))
    reach = float(l_vec @ np.arange(1, n_post + 1))
    half = mbar * largest * reach + 10 * sd_theta
    return theta - half, theta + half


@dataclass(frozen=True)
class HonestBounds:
    """Robust intervals per Mbar, the breakdown value and what they are about."""

    bounds: list[dict[str, Any]]
    breakdown_mbar: float | None
    original: dict[str, float]
    target: str
    warnings: list[str] = field(default_factory=list)


def rm_constraints(n_pre: int, n_post: int, mbar: float, change: int, positive: bool) -> np.ndarray:
    """``A`` with ``A delta <= 0`` describing Delta^RM_{s,sign}(Mbar) (reference period dropped).

    ``delta`` runs over the ``n_pre`` leads, the reference period (0) and the ``n_post`` lags.
    ``change`` (0 .. n_pre-1) indexes the pre-period change ``delta[change+1] - delta[change]``
    assumed to be the largest in absolute value, with the given sign. Every pre change is at
    most that one; every post change at most Mbar times it (R HonestDiD's ``.create_A_RM``).
    """
    total = n_pre + n_post + 1
    first_diff = np.zeros((total - 1, total))
    for r in range(total - 1):
        first_diff[r, r : r + 2] = [-1.0, 1.0]
    v = np.zeros(total)
    v[change : change + 2] = [-1.0, 1.0]
    if not positive:
        v = -v
    bound = np.vstack([np.tile(v, (n_pre, 1)), np.tile(mbar * v, (n_post, 1))])
    A = np.vstack([first_diff - bound, -first_diff - bound])
    A = A[~np.all(np.abs(A) <= 1e-12, axis=1)]
    return np.delete(A, n_pre, axis=1)


def _rm_accept(
    beta: np.ndarray,
    sigma: np.ndarray,
    n_pre: int,
    n_post: int,
    mbar: float,
    alpha: float,
    grid: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """Grid of theta values and whether the conditional (ARP) test accepts each, union over s."""
    from moderndid.didhonest import compute_arp_ci, compute_arp_nuisance_ci

    l_vec = np.full(n_post, 1.0 / n_post)
    accept: np.ndarray | None = None
    thetas: np.ndarray | None = None
    for change in range(n_pre):
        for positive in (True, False):
            A = rm_constraints(n_pre, n_post, mbar, change, positive)
            d = np.zeros(A.shape[0])
            with _warnings.catch_warnings():
                _warnings.simplefilter("ignore")
                if n_post == 1:
                    res = compute_arp_ci(
                        beta_hat=beta,
                        sigma=sigma,
                        A=A,
                        d=d,
                        n_pre_periods=n_pre,
                        n_post_periods=n_post,
                        alpha=alpha,
                        hybrid_flag="ARP",
                        grid_lb=grid[0],
                        grid_ub=grid[1],
                        grid_points=GRID_POINTS,
                    )
                else:
                    post_cols = list(range(n_pre, n_pre + n_post))
                    rows = np.flatnonzero(np.any(A[:, post_cols] != 0, axis=1))
                    res = compute_arp_nuisance_ci(
                        betahat=beta,
                        sigma=sigma,
                        l_vec=l_vec,
                        a_matrix=A,
                        d_vec=d,
                        num_pre_periods=n_pre,
                        num_post_periods=n_post,
                        alpha=alpha,
                        hybrid_flag="ARP",
                        hybrid_list={"hybrid_kappa": alpha / 10},
                        grid_lb=grid[0],
                        grid_ub=grid[1],
                        grid_points=GRID_POINTS,
                        rows_for_arp=rows,
                    )
            g = np.asarray(res.accept_grid)
            thetas = g[:, 0]
            acc = g[:, 1] > 0
            accept = acc if accept is None else accept | acc
    if thetas is None or accept is None:
        raise ValueError("relative-magnitude bounds need at least one pre-treatment period")
    return thetas, accept


def _rm_interval(
    beta: np.ndarray, sigma: np.ndarray, n_pre: int, n_post: int, mbar: float, alpha: float
) -> tuple[float, float]:
    lo, hi = _grid(beta, sigma, n_pre, n_post, mbar)
    thetas, accept = _rm_accept(beta, sigma, n_pre, n_post, mbar, alpha, (lo, hi))
    if not accept.any():
        return float("nan"), float("nan")
    inside = thetas[accept]
    low = -math.inf if accept[0] else float(inside.min())
    high = math.inf if accept[-1] else float(inside.max())
    return low, high


def _covers_zero(interval: tuple[float, float]) -> bool:
    lo, hi = interval
    return (not math.isfinite(lo)) or (not math.isfinite(hi)) or lo <= 0.0 <= hi


def relative_magnitude_bounds(
    beta: np.ndarray,
    sigma: np.ndarray,
    *,
    n_pre: int,
    n_post: int,
    mbar: Sequence[float] = (0.5, 1.0, 1.5, 2.0),
    alpha: float = 0.05,
    breakdown: bool = True,
) -> HonestBounds:
    """Delta^RM robust CIs for the average post effect, and the breakdown Mbar.

    ``beta``: event-study coefficients ordered by event time, the ``n_pre`` leads (reference
    period -1 excluded) first, then the ``n_post`` lags; ``sigma`` their covariance.
    """
    from moderndid.didhonest import construct_original_cs

    beta = np.asarray(beta, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    notes: list[str] = []
    orig = construct_original_cs(
        beta, sigma, n_pre, n_post, l_vec=np.full(n_post, 1.0 / n_post), alpha=alpha
    )
    cache: dict[float, tuple[float, float]] = {}

    def interval(m: float) -> tuple[float, float]:
        if m not in cache:
            cache[m] = _rm_interval(beta, sigma, n_pre, n_post, m, alpha)
        return cache[m]

    rows = [{"mbar": float(m), "ci_low": interval(m)[0], "ci_high": interval(m)[1]} for m in mbar]
    value: float | None = None
    if breakdown:
        value = _breakdown(interval, (float(orig.lb), float(orig.ub)), list(mbar), notes)
    return HonestBounds(
        bounds=rows,
        breakdown_mbar=value,
        original={"ci_low": float(orig.lb), "ci_high": float(orig.ub)},
        target="average of the post-intake event-time effects",
        warnings=notes,
    )


def _breakdown(
    interval, original: tuple[float, float], grid: list[float], notes: list[str]
) -> float | None:
    """Smallest Mbar (to 0.05) whose robust interval includes zero; 0 if the plain one does."""
    if _covers_zero(original):
        return 0.0
    lo = 0.0
    hi = None
    for m in sorted(grid):
        if _covers_zero(interval(m)):
            hi = m
            break
        lo = m
    m = max(grid) if grid else 1.0
    while hi is None:
        m *= 2
        if m > BREAKDOWN_MAX:
            notes.append(f"the effect stays significant up to Mbar = {BREAKDOWN_MAX:g}")
            return None
        if _covers_zero(interval(m)):
            hi = m
        else:
            lo = m
    while hi - lo > BREAKDOWN_TOL:
        mid = round((lo + hi) / 2, 6)
        if _covers_zero(interval(mid)):
            hi = mid
        else:
            lo = mid
    return float(hi)
