"""HonestDiD sensitivity (Rambachan & Roth 2023) with R's default tests, for any target vector.

Two restrictions on how far the post-intake violation of parallel trends may go:

* **Relative magnitudes** Delta^RM(Mbar): each post-period change of the bias is at most ``Mbar``
  times the largest change between consecutive pre-intake periods (the reference included).
  Test: R ``HonestDiD``'s default, the **conditional-least-favourable hybrid (C-LF)** of
  Andrews, Roth & Pakes (2023) with ``kappa = alpha / 10``, on the union over "which pre-period
  change is the largest, and its sign" (R's ``computeConditionalCS_DeltaRM``). We build the
  polyhedra ourselves: moderndid 0.2.0's own Delta^RM skips the change between the first two
  pre-periods (an off-by-one against R, caught by ``tests/analysis/did/test_did_honest.py``).
  The test of one theta is done in closed form on the vertices of the dual polytope
  ``{gamma >= 0, gamma' X = 0, gamma' sd = 1}`` (enumerated once per polyhedron):
  ``eta = max_v v'y``, and the conditioning bounds ``v_lo, v_up`` of ARP are a max and a min
  over the vertices, so a test costs microseconds instead of moderndid's
  ``lp_conditional_test`` (dozens of linear programmes; still used when there are more than
  ``MAX_BASES`` candidate bases). A test checks that both decide alike. The least-favourable
  critical value is the ``1 - kappa`` quantile of ``max_v v' xi`` over the same vertices, with
  the same 1000 normal draws (seed 0) as moderndid/R.
* **Smoothness** Delta^SD(M): the bias's slope changes by at most ``M`` per period. Test: R's
  default, the **fixed-length confidence interval (FLCI)** of Armstrong & Kolesar, solved
  exactly along the lasso path of the bias-variance frontier (:mod:`analysis.did.honest_flci`,
  milliseconds per M; moderndid 0.2.0's ``compute_flci`` never ends with a single lead); or,
  on request, the C-LF hybrid on R's Delta^SD polyhedron (:func:`sd_clf_interval`).

The C-LF interval is found without cutting it short: each (change, sign) polyhedron is tested on
a coarse grid (``COARSE_POINTS``) over a range that contains the identified set plus 20 standard errors, and every
edge between an accepted and a rejected grid point is refined by bisection to ``1e-4`` of the
range (the resolution of a 10 000-point grid); only the pieces whose coarse edge can be the
union's end are refined. An interval touching the range's end is reported
as unbounded there. The breakdown value is the smallest Mbar (or M) whose interval contains 0,
found by bisection to ``BREAKDOWN_TOL`` of the largest grid value.
"""

from __future__ import annotations

import itertools
import math
import warnings as _warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from analysis.did.honest import rm_constraints
from analysis.did.honest_flci import flci

COARSE_POINTS = 101
REFINE_TOL = 1e-4  # of the search range
BREAKDOWN_TOL = 0.01  # of the largest Mbar / M of the grid
BREAKDOWN_MAX_DOUBLINGS = 4
LF_SIMS = 1000
LF_SEED = 0
MAX_BASES = 200_000  # beyond this many candidate bases, moderndid's LPs test each theta


def target_vector(post_times: Sequence[int], target: Any = "average") -> np.ndarray:
    """Weights over the post periods (T0 first if present) for the named or given target.

    ``"average"``: the average of T1 ... T4 (observed ones); ``"first"``: T1; a mapping
    ``{event time: weight}`` for anything else. T0 gets weight 0 unless the mapping gives it one.
    """
    times = list(post_times)
    if isinstance(target, str):
        if target == "average":
            chosen = [e for e in times if 1 <= e <= 4]
        elif target == "first":
            chosen = [e for e in times if e == 1]
        else:
            raise ValueError(f"unknown target {target!r}; use 'average', 'first' or a mapping")
        if not chosen:
            raise ValueError("the target has no observed post-intake period (T1 ... T4)")
        return np.array([1.0 / len(chosen) if e in chosen else 0.0 for e in times])
    weights = {int(k): float(v) for k, v in dict(target).items()}
    unknown = sorted(set(weights) - set(times))
    if unknown:
        raise ValueError(f"target weights name event times without a coefficient: {unknown}")
    return np.array([weights.get(e, 0.0) for e in times])


def describe_target(post_times: Sequence[int], l_vec: np.ndarray) -> str:
    """Plain words for the target, e.g. 'average of T1, T2, T3, T4'."""
    used = [f"T{e}" for e, w in zip(post_times, l_vec, strict=True) if w != 0]
    if len(used) == 1:
        return used[0]
    if np.allclose(l_vec[l_vec != 0], l_vec[l_vec != 0][0]):
        return "average of " + ", ".join(used)
    return "weighted sum of " + ", ".join(
        f"{w:g} x T{e}" for e, w in zip(post_times, l_vec, strict=True) if w != 0
    )


# --------------------------------------------------------------------------------------------
# The least-favourable critical value by dual vertices


def dual_vertices(x_t: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Vertices (rows) of ``{gamma >= 0, X' gamma = 0, sd' gamma = 1}`` by basis enumeration."""
    m, k = x_t.shape
    M = np.column_stack([sd, x_t]).T  # (k + 1, m)
    rhs = np.zeros(k + 1)
    rhs[0] = 1.0
    out = []
    for basis in itertools.combinations(range(m), k + 1):
        B = M[:, basis]
        if abs(np.linalg.det(B)) < 1e-12:
            continue
        g = np.linalg.solve(B, rhs)
        if (g >= -1e-10).all():
            full = np.zeros(m)
            full[list(basis)] = np.clip(g, 0.0, None)
            out.append(full)
    if not out:
        raise ValueError("the moment inequalities have no dual vertex (the LP is unbounded)")
    return np.unique(np.round(np.array(out), 12), axis=0)


def lf_critical_value(
    x_t: np.ndarray,
    sigma: np.ndarray,
    kappa: float,
    *,
    sims: int = LF_SIMS,
    seed: int = LF_SEED,
    vertices: np.ndarray | None = None,
) -> float:
    """``1 - kappa`` quantile of ``eta(xi) = max_gamma gamma' xi``, ``xi ~ N(0, sigma)``.

    Equals ``moderndid.didhonest.compute_least_favorable_cv`` (same draws), which solves the
    primal LP ``min eta s.t. xi - X delta <= eta sd`` once per draw.
    """
    rng = np.random.default_rng(seed)
    xi = rng.multivariate_normal(mean=np.zeros(sigma.shape[0]), cov=sigma, size=sims)
    sd = np.sqrt(np.diag(sigma))
    if x_t.shape[1] == 0:
        eta = np.max(xi / sd, axis=1)
    else:
        V = dual_vertices(x_t, sd) if vertices is None else vertices
        eta = np.max(xi @ V.T, axis=1)
    return float(np.quantile(eta, 1 - kappa))


# --------------------------------------------------------------------------------------------
# One polyhedron: the C-LF acceptance region over theta


def _gamma_inverse(l_vec: np.ndarray) -> np.ndarray:
    from moderndid.didhonest.arp_nuisance import _construct_gamma

    return np.linalg.inv(_construct_gamma(l_vec.reshape(-1, 1)))


class _PolyhedronTest:
    """The C-LF test of ``theta = l' tau`` under ``A delta <= 0`` (one (change, sign) piece)."""

    def __init__(
        self,
        beta: np.ndarray,
        sigma: np.ndarray,
        A: np.ndarray,
        l_vec: np.ndarray,
        n_pre: int,
        alpha: float,
        d: np.ndarray | None = None,
    ) -> None:
        n_post = l_vec.size
        post = A[:, n_pre : n_pre + n_post]
        self.rows = np.flatnonzero(np.any(post != 0, axis=1))
        a_g = post @ _gamma_inverse(l_vec)
        self.a_one = a_g[:, 0]
        self.x_t = a_g[:, 1:]
        self.y = A @ beta - (np.zeros(A.shape[0]) if d is None else d)
        self.sigma_y = A @ sigma @ A.T
        self.alpha = alpha
        kappa = alpha / 10
        rows = self.rows
        self.sigma_arp = self.sigma_y[np.ix_(rows, rows)]
        sd = np.sqrt(np.diag(self.sigma_arp))
        self.vertices: np.ndarray | None = None
        if self.x_t.shape[1] and math.comb(rows.size, self.x_t.shape[1] + 1) <= MAX_BASES:
            self.vertices = dual_vertices(self.x_t[rows], sd)
        cv = lf_critical_value(self.x_t[rows], self.sigma_arp, kappa, vertices=self.vertices)
        self.hybrid = {"hybrid_kappa": kappa, "lf_cv": cv}

    def accepts(self, theta: float) -> bool:
        """Not rejected at ``theta`` (closed form on the dual vertices, or moderndid's LPs)."""
        y_t = self.y - self.a_one * theta
        if self.vertices is not None:
            return self._accepts_vertices(y_t[self.rows])
        from moderndid.didhonest.arp_nuisance import lp_conditional_test

        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            if self.x_t.shape[1] == 0:
                return self._accepts_no_nuisance(y_t)
            res = lp_conditional_test(
                y_t=y_t,
                x_t=self.x_t,
                sigma=self.sigma_y,
                alpha=self.alpha,
                hybrid_flag="LF",
                hybrid_list=dict(self.hybrid),
                rows_for_arp=self.rows,
            )
        return not bool(res["reject"])

    def _accepts_vertices(self, y: np.ndarray) -> bool:
        """The C-LF test of ARP (2023) with ``eta = max_v v'y`` over the dual vertices ``v``.

        ``gamma`` the maximising vertex, ``sigma_B^2 = gamma' Sigma gamma``; conditioning on
        ``S = y - c eta`` (``c = Sigma gamma / sigma_B^2``) bounds eta to ``[v_lo, v_up]`` with
        ``v_lo = max {v'S / (1 - v'c): v'c < 1}`` and ``v_up = min {same: v'c > 1}``; the second
        stage is the truncated-normal test at size ``(alpha - kappa) / (1 - kappa)`` on
        ``[v_lo, min(v_up, c_LF)]``, as ``lp_conditional_test`` (which finds these by LPs).
        """
        from moderndid.didhonest.conditional import _norminvp_generalized

        V = self.vertices
        assert V is not None
        vals = V @ y
        j = int(np.argmax(vals))
        eta = float(vals[j])
        cv = self.hybrid["lf_cv"]
        if eta > cv:
            return False
        gamma = V[j]
        sig = self.sigma_arp
        s2 = float(gamma @ sig @ gamma)
        if s2 < np.finfo(float).eps:
            return not eta > 0
        sb = math.sqrt(s2)
        c = sig @ gamma / s2
        S = y - c * eta
        vc, vS = V @ c, V @ S
        lo_rows, hi_rows = vc < 1 - 1e-10, vc > 1 + 1e-10
        vlo = float(np.max(vS[lo_rows] / (1 - vc[lo_rows]))) if lo_rows.any() else -math.inf
        vup = float(np.min(vS[hi_rows] / (1 - vc[hi_rows]))) if hi_rows.any() else math.inf
        zlo, zup, z = vlo / sb, min(vup, cv) / sb, eta / sb
        if not zlo <= z <= zup:
            return True
        size = (self.alpha - self.hybrid["hybrid_kappa"]) / (1 - self.hybrid["hybrid_kappa"])
        cval = max(0.0, float(_norminvp_generalized(1 - size, zlo, zup)))
        return not z > cval

    def _accepts_no_nuisance(self, y_t: np.ndarray) -> bool:
        from moderndid.didhonest.arp_no_nuisance import test_in_identified_set_lf_hybrid

        rows = self.rows
        return bool(
            test_in_identified_set_lf_hybrid(
                y=y_t[rows],
                sigma=self.sigma_y[np.ix_(rows, rows)],
                A=np.eye(rows.size),
                d=np.zeros(rows.size),
                alpha=self.alpha,
                hybrid_list=dict(self.hybrid),
            )
        )


def _refine(test: Callable[[float], bool], inside: float, outside: float, tol: float) -> float:
    """The edge between an accepted ``inside`` and a rejected ``outside`` point, by bisection."""
    while abs(outside - inside) > tol:
        mid = (inside + outside) / 2
        if test(mid):
            inside = mid
        else:
            outside = mid
    return inside


def coarse_accepts(test: Callable[[float], bool], grid: np.ndarray) -> np.ndarray:
    """Which points of the coarse ``grid`` the test accepts."""
    return np.array([test(float(t)) for t in grid])


def union_range(
    tests: Sequence[Callable[[float], bool]], lo: float, hi: float
) -> tuple[float, float]:
    """Smallest and largest theta in [lo, hi] accepted by any of ``tests`` (edges refined).

    Every test runs on the coarse grid; only the tests whose coarse edge is (or neighbours) the
    outermost one are refined by bisection, since the others cannot hold the union's end.
    An end at the edge of the range is reported as unbounded (-inf / inf).
    """
    grid = np.linspace(lo, hi, COARSE_POINTS)
    tol = REFINE_TOL * (hi - lo)
    accepted = [coarse_accepts(t, grid) for t in tests]
    firsts = [int(np.argmax(a)) for a in accepted if a.any()]
    lasts = [int(len(a) - 1 - np.argmax(a[::-1])) for a in accepted if a.any()]
    if not firsts:
        return math.nan, math.nan
    first, last = min(firsts), max(lasts)
    low = -math.inf if first == 0 else math.inf
    high = math.inf if last == len(grid) - 1 else -math.inf
    for test, acc in zip(tests, accepted, strict=True):
        if not acc.any():
            continue
        f, la = int(np.argmax(acc)), int(len(acc) - 1 - np.argmax(acc[::-1]))
        if first > 0 and f <= first + 1:
            low = min(low, _refine(test, grid[f], grid[f - 1], tol))
        if last < len(grid) - 1 and la >= last - 1:
            high = max(high, _refine(test, grid[la], grid[la + 1], tol))
    return float(low), float(high)


# --------------------------------------------------------------------------------------------
# Delta^RM with C-LF


def rm_identified_half_width(beta: np.ndarray, n_pre: int, l_vec: np.ndarray, mbar: float) -> float:
    """Half-width of a box containing the Delta^RM identified set around ``l' beta_post``."""
    pre = np.append(beta[:n_pre], 0.0)
    largest = float(np.max(np.abs(np.diff(pre))))
    reach = float(np.abs(l_vec) @ np.arange(1, l_vec.size + 1))
    return mbar * largest * reach


def rm_interval(
    beta: np.ndarray,
    sigma: np.ndarray,
    *,
    n_pre: int,
    l_vec: np.ndarray,
    mbar: float,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """The Delta^RM(Mbar) C-LF confidence interval of ``l' tau_post``."""
    n_post = l_vec.size
    post = slice(n_pre, n_pre + n_post)
    theta = float(l_vec @ beta[post])
    sd_theta = float(np.sqrt(l_vec @ sigma[post, post] @ l_vec))
    half = rm_identified_half_width(beta, n_pre, l_vec, mbar) + 20 * sd_theta
    lo, hi = theta - half, theta + half
    tests = [
        _PolyhedronTest(
            beta, sigma, rm_constraints(n_pre, n_post, mbar, change, positive), l_vec, n_pre, alpha
        ).accepts
        for change in range(n_pre)
        for positive in (True, False)
    ]
    return union_range(tests, lo, hi)


# --------------------------------------------------------------------------------------------
# Delta^SD with FLCI


def sd_interval(
    beta: np.ndarray,
    sigma: np.ndarray,
    *,
    n_pre: int,
    l_vec: np.ndarray,
    m: float,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """The Delta^SD(M) fixed-length confidence interval of ``l' tau_post`` (Armstrong-Kolesar).

    R's ``findOptimalFLCI`` solved exactly along the lasso path of the bias-variance frontier
    (:func:`analysis.did.honest_flci.flci`; milliseconds per M).
    """
    r = flci(beta, sigma, n_pre=n_pre, l_vec=l_vec, m=m, alpha=alpha)
    return r.ci_low, r.ci_high


def sd_clf_interval(
    beta: np.ndarray,
    sigma: np.ndarray,
    *,
    n_pre: int,
    l_vec: np.ndarray,
    m: float,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """The Delta^SD(M) interval with the C-LF hybrid (R's ``method = "C-LF"`` for Delta^SD).

    ``|second difference of delta| <= M`` over all periods (reference included, R's
    ``.create_A_SD``), moments with a post-period entry only. The search range holds the linear
    extrapolation of the last pre-intake slope, the curvature ``M k (k + 1) / 2`` and 20 SEs.
    """
    from moderndid.didhonest.delta.sd.sd import _create_sd_constraint_matrix

    n_post = l_vec.size
    A = _create_sd_constraint_matrix(n_pre, n_post, post_period_moments_only=False)
    post = slice(n_pre, n_pre + n_post)
    theta = float(l_vec @ beta[post])
    sd_theta = float(np.sqrt(l_vec @ sigma[post, post] @ l_vec))
    k = np.arange(1, n_post + 1)
    slope = abs(float(beta[n_pre - 1])) + 2 * float(np.sqrt(sigma[n_pre - 1, n_pre - 1]))
    half = float(np.abs(l_vec) @ (slope * k + m * k * (k + 1) / 2)) + 20 * sd_theta
    test = _PolyhedronTest(beta, sigma, A, l_vec, n_pre, alpha, d=np.full(A.shape[0], m))
    return union_range([test.accepts], theta - half, theta + half)


def sd_default_grid(beta: np.ndarray, sigma: np.ndarray, n_pre: int) -> list[float]:
    """Six M from 0 to an upper bound of the pre-intake slope changes (R's idea of ``Mvec``).

    With two or more leads: the largest absolute second difference of the pre-period
    coefficients (reference 0 included) plus two of its SEs; with one lead, the lead's slope
    ``|beta_lead|`` plus two SEs (a one-period change bound).
    """
    pre = np.append(beta[:n_pre], 0.0)
    cov = np.zeros((n_pre + 1, n_pre + 1))
    cov[:n_pre, :n_pre] = sigma[:n_pre, :n_pre]
    order = 2 if n_pre >= 2 else 1
    D = np.diff(np.eye(n_pre + 1), n=order, axis=0)
    sd = np.sqrt(np.clip(np.diag(D @ cov @ D.T), 0.0, None))
    top = float(np.max(np.abs(D @ pre) + 2 * sd))
    if not top > 0:
        top = float(np.sqrt(max(sigma[0, 0], 1e-12)))
    return [round(top * k / 5, 12) for k in range(6)]


# --------------------------------------------------------------------------------------------
# Breakdown and the result


def covers_zero(interval: tuple[float, float]) -> bool:
    """Does the interval contain 0 (an unbounded end counts as containing it)?"""
    lo, hi = interval
    if math.isnan(lo) or math.isnan(hi):
        return False
    return lo <= 0.0 <= hi


def breakdown_value(
    interval: Callable[[float], tuple[float, float]], grid: Sequence[float]
) -> tuple[float | None, str]:
    """Smallest parameter whose interval contains 0, by bisection; and how it was found."""
    values = sorted(grid)
    top = values[-1] if values and values[-1] > 0 else 1.0
    if covers_zero(interval(0.0)):
        return 0.0, "the interval contains 0 even without any violation (parameter 0)"
    lo, hi = 0.0, None
    for v in values:
        if v > 0 and covers_zero(interval(v)):
            hi = v
            break
        lo = max(lo, v)
    doublings = 0
    while hi is None:
        if doublings >= BREAKDOWN_MAX_DOUBLINGS:
            return None, f"significant up to {lo:g} (the largest value tried)"
        doublings += 1
        v = (lo or top) * 2
        if covers_zero(interval(v)):
            hi = v
        else:
            lo = v
    tol = BREAKDOWN_TOL * top
    while hi - lo > tol:
        mid = (lo + hi) / 2
        if covers_zero(interval(mid)):
            hi = mid
        else:
            lo = mid
    return float(hi), f"bisection to {tol:.3g}"


def honest_sensitivity(
    beta: np.ndarray,
    sigma: np.ndarray,
    *,
    n_pre: int,
    l_vec: np.ndarray,
    restriction: str = "rm",
    grid: Sequence[float] | None = None,
    alpha: float = 0.05,
    breakdown: bool = True,
    sd_method: str = "FLCI",
) -> dict[str, Any]:
    """Robust intervals of ``l' tau_post`` under Delta^RM (C-LF) or Delta^SD (FLCI).

    ``beta``: event-study coefficients, the ``n_pre`` leads (reference excluded) first, then the
    ``l_vec.size`` post periods; ``sigma`` their covariance. ``grid``: the Mbar (rm, default
    0.5, 1, 1.5, 2) or M (sd, default :func:`sd_default_grid`) values. ``sd_method``: "FLCI"
    (R's default for Delta^SD) or "C-LF" (:func:`sd_clf_interval`). Returns a JSON-able dict:
    restriction, method, parameter name, rows ``{value, ci_low, ci_high}``, the original
    interval, the breakdown value and how it was found.
    """
    beta = np.asarray(beta, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    l_vec = np.asarray(l_vec, dtype=float)
    if n_pre < 1:
        raise ValueError("HonestDiD needs at least one lead besides the reference period")
    if restriction == "rm":
        values = list(grid) if grid is not None else [0.5, 1.0, 1.5, 2.0]
        cache: dict[float, tuple[float, float]] = {}

        def interval(v: float) -> tuple[float, float]:
            key = round(float(v), 12)
            if key not in cache:
                cache[key] = rm_interval(beta, sigma, n_pre=n_pre, l_vec=l_vec, mbar=v, alpha=alpha)
            return cache[key]

        method, name = "C-LF (conditional-least-favourable hybrid)", "Mbar"
    elif restriction == "sd":
        values = list(grid) if grid is not None else sd_default_grid(beta, sigma, n_pre)
        sd_cache: dict[float, tuple[float, float]] = {}

        def interval(v: float) -> tuple[float, float]:
            key = round(float(v), 12)
            if key not in sd_cache:
                fn = sd_interval if sd_method == "FLCI" else sd_clf_interval
                sd_cache[key] = fn(beta, sigma, n_pre=n_pre, l_vec=l_vec, m=v, alpha=alpha)
            return sd_cache[key]

        if sd_method not in ("FLCI", "C-LF"):
            raise ValueError(f"sd_method must be 'FLCI' or 'C-LF'; got {sd_method!r}")
        method = (
            "FLCI (fixed-length confidence interval)"
            if sd_method == "FLCI"
            else "C-LF (conditional-least-favourable hybrid)"
        )
        name = "M"
    else:
        raise ValueError(f"restriction must be 'rm' or 'sd'; got {restriction!r}")
    post = slice(n_pre, n_pre + l_vec.size)
    est = float(l_vec @ beta[post])
    se = float(np.sqrt(l_vec @ sigma[post, post] @ l_vec))
    z = float(_norm_ppf(1 - alpha / 2))
    rows = [
        {"value": float(v), "ci_low": interval(v)[0], "ci_high": interval(v)[1]} for v in values
    ]
    value, how = breakdown_value(interval, values) if breakdown else (None, "not computed")
    return {
        "restriction": "relative magnitudes (Delta^RM)"
        if restriction == "rm"
        else "smoothness (Delta^SD)",
        "key": restriction,
        "method": method,
        "parameter": name,
        "alpha": alpha,
        "estimate": est,
        "se": se,
        "original": {"ci_low": est - z * se, "ci_high": est + z * se},
        "intervals": rows,
        "breakdown": value,
        "breakdown_search": how,
    }


def _norm_ppf(q: float) -> float:
    from scipy import stats

    return float(stats.norm.ppf(q))
