"""MPG cost estimate and the trend over years: exact Poisson intervals and a test for trend (pure).

Answers the municipal questions "does the number of MPG decrease?" and "do total MPG costs
decrease?". Counts are treated as Poisson; total cost = count x cost per family, so the cost
trend is the count trend with the (known) cost per family as an offset.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

#: Baseline report: cost to the local government per MPG per year, EUR in 2014 prices. Replace
#: with the cost engine's figure (analysis/costs) by passing ``cost_per_family``.
DEFAULT_COST_PER_MPG_EUR = 114_291.0
#: The report's sensitivity range per family (EUR 2014).
DEFAULT_COST_RANGE_EUR = (108_000.0, 115_000.0)


def garwood_interval(count: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) confidence interval of a Poisson mean given an observed count."""
    if count < 0:
        raise ValueError(f"count cannot be negative, got {count}")
    alpha = 1 - level
    lower = 0.0 if count == 0 else stats.chi2.ppf(alpha / 2, 2 * count) / 2
    upper = stats.chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2
    return float(lower), float(upper)


@dataclass(frozen=True)
class MpgCost:
    """Cost of the MPG of one year."""

    mpg: int
    cost_per_family: float
    total: float
    total_low: float  # with the low end of the per-family range
    total_high: float
    total_ci_low: float  # Poisson interval of the count times the cost per family
    total_ci_high: float


def mpg_cost(
    mpg: int,
    cost_per_family: float = DEFAULT_COST_PER_MPG_EUR,
    cost_range: tuple[float, float] = DEFAULT_COST_RANGE_EUR,
    level: float = 0.95,
) -> MpgCost:
    """Total yearly cost of ``mpg`` families at ``cost_per_family`` (default: the report's)."""
    low, high = garwood_interval(mpg, level)
    return MpgCost(
        mpg=mpg,
        cost_per_family=cost_per_family,
        total=mpg * cost_per_family,
        total_low=mpg * cost_range[0],
        total_high=mpg * cost_range[1],
        total_ci_low=low * cost_per_family,
        total_ci_high=high * cost_per_family,
    )


@dataclass(frozen=True)
class TrendResult:
    """Log-linear Poisson trend: rate ratio per year, its interval and a two-sided p-value."""

    rate_ratio_per_year: float
    ci_low: float
    ci_high: float
    p_value: float
    decreasing: bool  # the whole interval below 1 (significant decrease at the chosen level)

    def as_dict(self) -> dict[str, float | bool]:
        return asdict(self)


def poisson_trend(
    years: Sequence[int],
    counts: Sequence[int],
    offset: Sequence[float] | None = None,
    level: float = 0.95,
) -> TrendResult:
    """Test for trend in Poisson counts: log E[count] = a + b * year (+ offset); Wald test of b."""
    if len(years) != len(counts) or len(years) < 2:
        raise ValueError("a trend needs at least two years with one count each")
    if len(set(years)) < 2:
        raise ValueError("a trend needs at least two different years")
    import statsmodels.api as sm  # imported here: the monitor itself should start fast

    y = np.asarray(counts, dtype=float)
    x = np.asarray(years, dtype=float)
    design = sm.add_constant(x - x.mean())
    model = sm.GLM(
        y,
        design,
        family=sm.families.Poisson(),
        offset=None if offset is None else np.asarray(offset),
    )
    with warnings.catch_warnings():
        # Two years make a saturated model: statsmodels warns about the perfect fit, harmlessly.
        warnings.simplefilter("ignore")
        fit = model.fit()
    slope, se = float(fit.params[1]), float(fit.bse[1])
    z = stats.norm.ppf(0.5 + level / 2)
    p = float(2 * stats.norm.sf(abs(slope / se))) if se > 0 else float("nan")
    high = float(np.exp(slope + z * se))
    return TrendResult(
        rate_ratio_per_year=float(np.exp(slope)),
        ci_low=float(np.exp(slope - z * se)),
        ci_high=high,
        p_value=p,
        decreasing=high < 1,
    )


def mpg_trend(
    mpg_by_year: Mapping[int, int],
    cost_per_family: float | Mapping[int, float] = DEFAULT_COST_PER_MPG_EUR,
    level: float = 0.95,
) -> dict[str, Any]:
    """Per year the MPG count and total cost with exact intervals, and both trend tests.

    ``cost_per_family`` is one figure or one per year (e.g. from the cost engine, in constant
    prices); the cost trend is then the count trend with log(cost per family) as offset.
    """
    years = sorted(mpg_by_year)
    costs = {
        y: float(cost_per_family[y] if isinstance(cost_per_family, Mapping) else cost_per_family)
        for y in years
    }
    rows = []
    for y in years:
        low, high = garwood_interval(int(mpg_by_year[y]), level)
        rows.append(
            {
                "year": y,
                "mpg": int(mpg_by_year[y]),
                "mpg_ci_low": low,
                "mpg_ci_high": high,
                "cost_per_family": costs[y],
                "total_cost": mpg_by_year[y] * costs[y],
                "total_cost_ci_low": low * costs[y],
                "total_cost_ci_high": high * costs[y],
            }
        )
    counts = [int(mpg_by_year[y]) for y in years]
    result: dict[str, Any] = {"years": pd.DataFrame(rows)}
    if len(years) >= 2:
        result["mpg_trend"] = poisson_trend(years, counts, level=level)
        # log E[cost] = log c + log E[count] = a + b*year  <=>  log E[count] = a + b*year - log c
        offset = [-np.log(costs[y] / costs[years[0]]) for y in years]
        result["cost_trend"] = poisson_trend(years, counts, offset=offset, level=level)
    return result
