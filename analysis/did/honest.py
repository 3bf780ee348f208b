"""HonestDiD relative-magnitude sensitivity bounds (Rambachan & Roth 2023) for an event study.

Under Delta^RM(Mbar) the post-intake violation of parallel trends may change from one period to
the next by at most ``Mbar`` times the largest change seen between consecutive pre-intake
periods. For each Mbar we report a 95 % confidence interval for the *average* post-intake
effect (HonestDiD's default is the first post period; the report speaks about the average),
and the breakdown value: the smallest Mbar at which the interval includes zero.

Implementation: ``moderndid.didhonest.create_sensitivity_results_rm`` (MIT; a port of R
``HonestDiD``), run with ``method="Conditional"`` -- the conditional test of Andrews, Roth &
Pakes (2023) that HonestDiD uses for Delta^RM, without the least-favourable hybrid, because
the hybrid's simulated critical values cost ~10 s per Mbar here and gave the same intervals in
our checks. The linear programmes are solved with SciPy's HiGHS; moderndid's module needs
``cvxpy`` installed (Apache-2.0) to import. The event-study coefficients and their CR2
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


@dataclass(frozen=True)
class HonestBounds:
    """Robust intervals per Mbar, the breakdown value and what they are about."""

    bounds: list[dict[str, Any]]
    breakdown_mbar: float | None
    original: dict[str, float]
    target: str
    warnings: list[str] = field(default_factory=list)


def _rm_interval(
    beta: np.ndarray, sigma: np.ndarray, n_pre: int, n_post: int, mbar: float, alpha: float
) -> tuple[float, float]:
    from moderndid.didhonest import create_sensitivity_results_rm

    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        res = create_sensitivity_results_rm(
            beta,
            sigma,
            n_pre,
            n_post,
            method="Conditional",
            m_bar_vec=np.array([float(mbar)]),
            l_vec=np.full(n_post, 1.0 / n_post),
            alpha=alpha,
            grid_points=100,
        )
    row = res.row(0, named=True)
    return float(row["lb"]), float(row["ub"])


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
