"""Two-way fixed-effects DiD (unit and period effects) and the classic 2x2 regression.

The treatment indicator is 1 from a unit's cohort period on. Unit and period effects are
projected out exactly (see :mod:`analysis.did.inference`), standard errors are clustered by
unit (family). Default inference is CR2 with Satterthwaite degrees of freedom; CR1 (fixest
convention), the CV3 jackknife, the restricted wild cluster bootstrap and randomisation
inference are available as the primary method or side by side in ``robustness``.

With staggered adoption and effects that change over time, TWFE weights cohorts in ways that
can mislead (Goodman-Bacon 2021); :func:`analysis.did.cs.callaway_santanna` is the estimator
for that design, TWFE the transparent summary for a single intake or as a check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.did.inference import (
    DEFAULT_METHODS,
    LOW_DF,
    VARIANCE_METHODS,
    LinearFit,
    check_method,
    fit_linear,
    method_summaries,
)
from analysis.did.panel import (
    PanelError,
    PreparedPanel,
    json_safe,
    prepare,
    treatment_indicator,
)
from analysis.did.randomization import randomization_inference


@dataclass(frozen=True)
class TwfeResult:
    """A DiD estimate with its inference and the sample it rests on."""

    att: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    df: float
    inference: str
    n_units: int
    n_obs: int
    n_treated_units: int
    n_clusters: int
    outcome: str = ""
    estimator: str = "twfe"
    scale: str = "outcome units"
    n_treated_by_cohort: dict[str, int] = field(default_factory=dict)
    covariates: tuple[str, ...] = ()
    weighted: bool = False
    warnings: list[str] = field(default_factory=list)
    robustness: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (NaN becomes None)."""
        return json_safe(asdict(self))


def _counts(prep: PreparedPanel) -> dict[str, Any]:
    g = prep.cohort_by_unit
    by_cohort = {
        str(int(c) if float(c).is_integer() else c): int((g == c).sum())
        for c in np.unique(g[g > 0])
    }
    return {
        "n_units": int(g.size),
        "n_obs": int(prep.y.size),
        "n_treated_units": int((g > 0).sum()),
        "n_treated_by_cohort": by_cohort,
    }


def _disagreement(primary: str, table: dict[str, dict[str, Any]], alpha: float = 0.05) -> list[str]:
    base = table[primary]["p_value"]
    flips = [
        m
        for m, r in table.items()
        if m != primary
        and r.get("p_value") is not None
        and np.isfinite(r["p_value"])
        and (r["p_value"] < alpha) != (base < alpha)
    ]
    if not flips:
        return []
    return [
        f"methods disagree at the {alpha:.0%} level: {primary} p = {base:.3f}, "
        + ", ".join(f"{m} p = {table[m]['p_value']:.3f}" for m in flips)
    ]


def twfe(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    covariates: Sequence[str] = (),
    weights: str | None = None,
    inference: str = "cr2",
    draws: int = 9999,
    seed: int | None = None,
    robustness: Sequence[str] = DEFAULT_METHODS,
    level: float = 0.95,
) -> TwfeResult:
    """Two-way fixed-effects DiD: ``y ~ D + covariates + unit FE + period FE``, clustered by unit.

    ``weights`` names a column of analytic weights (e.g. inverse-probability-of-staying
    weights). ``inference`` is the primary method (cr2, cr1, cv3, wild, ri); ``robustness`` lists
    methods shown next to it (``ri`` runs ``draws`` permutations, so it is opt-in).
    """
    check_method(inference)
    prep = prepare(
        df,
        unit=unit,
        time=time,
        cohort=cohort,
        outcome=outcome,
        covariates=covariates,
        weights=weights,
    )
    d = treatment_indicator(prep.data, time, cohort).to_numpy(dtype=float)
    X = np.column_stack([d, prep.data[list(covariates)].to_numpy(dtype=float)])
    fit = fit_linear(
        prep.y,
        X,
        unit=prep.unit_codes,
        time=prep.time_codes,
        cluster=prep.unit_codes,
        weights=prep.weights,
        names=["treated", *covariates],
    )

    def ri() -> dict[str, Any]:
        r = randomization_inference(
            df,
            unit=unit,
            time=time,
            cohort=cohort,
            outcome=outcome,
            covariates=covariates,
            weights=weights,
            draws=draws,
            seed=seed,
        )
        return {"p_value": r.p_value, "draws": r.draws, "statistic": r.statistic}

    methods = list(dict.fromkeys([inference, *robustness]))
    table = method_summaries(fit, methods=methods, draws=draws, seed=seed, ri_fn=ri, level=level)
    return _result(fit, prep, table, inference, outcome, covariates, "twfe", level)


def _result(
    fit: LinearFit,
    prep: PreparedPanel,
    table: dict[str, dict[str, Any]],
    inference: str,
    outcome: str,
    covariates: Sequence[str],
    estimator: str,
    level: float,
) -> TwfeResult:
    warnings = list(prep.notes)
    att = float(fit.beta[0])
    main = dict(table[inference])
    if inference == "ri":
        # RI gives a p-value only; the interval shown with it is the CR2 one.
        cr2 = (
            table.get("cr2")
            or method_summaries(fit, methods=["cr2"], draws=0, seed=None, level=level)["cr2"]
        )
        main = {**cr2, "p_value": main["p_value"]}
        warnings.append("randomisation inference gives a p-value; the interval shown is CR2")
    if "cr2" in table and table["cr2"]["df"] < LOW_DF:
        warnings.append(
            f"few effective degrees of freedom (Satterthwaite df = {table['cr2']['df']:.1f} < 10):"
            " treat the interval with caution and look at the wild bootstrap"
        )
    warnings += _disagreement(inference, table)
    counts = _counts(prep)
    return TwfeResult(
        att=att,
        se=float(main.get("se", np.nan)),
        ci_low=float(main["ci_low"]),
        ci_high=float(main["ci_high"]),
        p_value=float(main["p_value"]),
        df=float(main.get("df", np.nan)),
        inference=inference,
        n_units=counts["n_units"],
        n_obs=counts["n_obs"],
        n_treated_units=counts["n_treated_units"],
        n_clusters=fit.n_clusters,
        outcome=outcome,
        estimator=estimator,
        n_treated_by_cohort=counts["n_treated_by_cohort"],
        covariates=tuple(covariates),
        weighted=prep.weights is not None,
        warnings=warnings,
        robustness=dict(table),
    )


def did_2x2(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    inference: str = "cr2",
    draws: int = 9999,
    seed: int | None = None,
    robustness: Sequence[str] = VARIANCE_METHODS,
    level: float = 0.95,
) -> TwfeResult:
    """The classic 2x2 regression ``y ~ 1 + treated_group + post + treated_group:post``.

    Uses every available observation (the DiD of the four cell means when the panel is
    unbalanced), clustered by unit. Needs exactly two periods and one cohort (the later period).
    """
    prep = prepare(df, unit=unit, time=time, cohort=cohort, outcome=outcome)
    periods = np.unique(prep.data[time])
    cohorts = np.unique(prep.cohort_by_unit[prep.cohort_by_unit > 0])
    if periods.size != 2 or cohorts.size != 1 or cohorts[0] != periods[1]:
        raise PanelError(
            "a 2x2 DiD needs exactly two periods, with the treated cohort starting in the second"
        )
    group = (prep.data[cohort] > 0).to_numpy(dtype=float)
    post = (prep.data[time] == periods[1]).to_numpy(dtype=float)
    X = np.column_stack([group * post, np.ones_like(group), group, post])
    fit = fit_linear(
        prep.y,
        X,
        unit=None,
        time=None,
        cluster=prep.unit_codes,
        names=["treated", "const", "group", "post"],
    )
    methods = list(dict.fromkeys([inference, *robustness]))
    table = method_summaries(fit, methods=methods, draws=draws, seed=seed, level=level)
    return _result(fit, prep, table, inference, outcome, (), "did_2x2", level)
