"""DiD for binary and count outcomes: linear probability (percentage points), logit, Poisson PML.

* Binary outcomes: the linear probability model is the TWFE regression of the 0/1 outcome,
  reported in percentage points (x 100), with the same CR2 inference; a pooled logit with a
  treated-group indicator and period effects (unit effects would bring the incidental-parameter
  bias with 5-7 waves) is the sensitivity check, reported as an odds ratio and an average
  marginal effect on the treated-after rows in percentage points.
* Counts and zero-heavy costs: Poisson pseudo-maximum-likelihood with unit and period effects
  (Santos Silva & Tenreyro 2006; Wooldridge 2023), fitted with ``pyfixest.fepois`` (MIT) and
  clustered by unit (CR1); the effect is a proportional change ``exp(b) - 1`` with interval
  ``exp(ci) - 1``. Never log(y + 1). Units whose outcome is zero in every period carry no
  information under unit effects and are dropped (reported in the warnings).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.did import pyfixest_order
from analysis.did.panel import PanelError, json_safe, prepare, treatment_indicator
from analysis.did.twfe import TwfeResult, twfe


@dataclass(frozen=True)
class RatioResult:
    """A multiplicative DiD effect: exp(b) - 1 (PPML) or an odds ratio (logit)."""

    estimator: str
    coef: float
    se: float
    effect: float
    ci_low: float
    ci_high: float
    p_value: float
    df: float
    scale: str
    n_units: int
    n_obs: int
    n_treated_units: int
    n_clusters: int
    outcome: str
    ame_pp: float | None = None
    ame_se_pp: float | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (NaN becomes None)."""
        return json_safe(asdict(self))


def lpm_twfe(df: pd.DataFrame, *, outcome: str, **kwargs: Any) -> TwfeResult:
    """Linear probability DiD for a 0/1 outcome, in percentage points (same options as twfe)."""
    values = pd.to_numeric(df[outcome], errors="coerce") if outcome in df.columns else None
    if values is not None and not values.dropna().isin([0, 1]).all():
        raise PanelError(f"outcome '{outcome}' must be 0 or 1 for a linear probability model")
    r = twfe(df, outcome=outcome, **kwargs)
    rob = {
        k: {
            m: (v * 100 if m in ("se", "ci_low", "ci_high") and v is not None else v)
            for m, v in d.items()
        }
        for k, d in r.robustness.items()
    }
    if "ri" in rob and "statistic" in rob["ri"]:
        rob["ri"]["statistic"] = r.robustness["ri"]["statistic"] * 100
    return dataclasses.replace(
        r,
        att=r.att * 100,
        se=r.se * 100,
        ci_low=r.ci_low * 100,
        ci_high=r.ci_high * 100,
        estimator="lpm",
        scale="percentage points",
        robustness=rob,
    )


def ppml_twfe(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    covariates: Sequence[str] = (),
    level: float = 0.95,
) -> RatioResult:
    """Poisson PML DiD with unit and period effects; effect = exp(b) - 1 (a proportion)."""
    import pyfixest as pf  # local: heavy import, only needed here

    pyfixest_order.install()  # the same digits in every process (see the module)
    prep = prepare(df, unit=unit, time=time, cohort=cohort, outcome=outcome, covariates=covariates)
    data = prep.data
    if (data[outcome] < 0).any():
        raise PanelError(f"outcome '{outcome}' has negative values; Poisson PML needs y >= 0")
    notes = list(prep.notes)
    all_zero = data.groupby(unit)[outcome].transform("sum") == 0
    if all_zero.any():
        notes.append(
            f"{data.loc[all_zero, unit].nunique()} unit(s) with only zeros carry no information and are left out"
        )
        data = data.loc[~all_zero]
    frame = pd.DataFrame(
        {
            "y": data[outcome].to_numpy(float),
            "d": treatment_indicator(data, time, cohort).to_numpy(float),
            "u": pd.factorize(data[unit])[0],
            "t": pd.factorize(data[time])[0],
            "g": data[cohort].to_numpy(float),
        }
    )
    rhs = " + ".join(["d", *[f"c{i}" for i in range(len(covariates))]])
    for i, c in enumerate(covariates):
        frame[f"c{i}"] = data[c].to_numpy(float)
    with warnings.catch_warnings():  # pyfixest 0.60 trips pandas 3.1 deprecation warnings
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        fit = pf.fepois(f"y ~ {rhs} | u + t", data=frame, vcov={"CRV1": "u"})
    b = float(fit.coef()["d"])
    se = float(fit.se()["d"])
    G = int(frame["u"].nunique())
    dfree = float(G - 1)
    crit = float(stats.t.ppf(0.5 + level / 2, dfree))
    p = float(2 * stats.t.sf(abs(b / se), dfree))
    by_unit = frame.groupby("u")["g"].first()
    return RatioResult(
        estimator="ppml",
        coef=b,
        se=se,
        effect=math.expm1(b),
        ci_low=math.expm1(b - crit * se),
        ci_high=math.expm1(b + crit * se),
        p_value=p,
        df=dfree,
        scale="proportional change (exp(b) - 1)",
        n_units=G,
        n_obs=len(frame),
        n_treated_units=int((by_unit > 0).sum()),
        n_clusters=G,
        outcome=outcome,
        warnings=notes,
    )


def logit_twfe(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    covariates: Sequence[str] = (),
    level: float = 0.95,
) -> RatioResult:
    """Logit DiD (group indicator + period effects + treatment), clustered by unit.

    ``effect`` is the odds ratio exp(b); ``ame_pp`` the average over treated-after rows of the
    change in predicted probability from switching treatment on, in percentage points.
    """
    import statsmodels.api as sm  # local: heavy import

    prep = prepare(df, unit=unit, time=time, cohort=cohort, outcome=outcome, covariates=covariates)
    data = prep.data
    y = data[outcome].to_numpy(float)
    if not np.isin(y, [0.0, 1.0]).all():
        raise PanelError(f"outcome '{outcome}' must be 0 or 1 for a logit")
    d = treatment_indicator(data, time, cohort).to_numpy(float)
    group = (data[cohort] > 0).to_numpy(float)
    periods = pd.get_dummies(data[time], prefix="t", dtype=float).iloc[:, 1:]
    X = np.column_stack(
        [d, np.ones_like(d), group, periods.to_numpy(), data[list(covariates)].to_numpy(float)]
    )
    groups = prep.unit_codes
    try:
        fit = sm.Logit(y, X).fit(disp=0, cov_type="cluster", cov_kwds={"groups": groups})
    except Exception as exc:  # perfect prediction and friends: say so in one line
        raise PanelError(
            f"the logit could not be fitted ({exc}); use the linear probability model"
        ) from exc
    b, se = float(fit.params[0]), float(fit.bse[0])
    G = int(groups.max() + 1)
    crit = float(stats.t.ppf(0.5 + level / 2, G - 1))
    treated_after = d == 1
    X1, X0 = X[treated_after].copy(), X[treated_after].copy()
    X0[:, 0] = 0.0
    p1, p0 = fit.predict(X1), fit.predict(X0)
    ame = float(np.mean(p1 - p0))
    # delta method for the AME
    grad = (X1 * (p1 * (1 - p1))[:, None] - X0 * (p0 * (1 - p0))[:, None]).mean(axis=0)
    ame_se = float(math.sqrt(grad @ fit.cov_params() @ grad))
    return RatioResult(
        estimator="logit",
        coef=b,
        se=se,
        effect=math.exp(b),
        ci_low=math.exp(b - crit * se),
        ci_high=math.exp(b + crit * se),
        p_value=float(2 * stats.t.sf(abs(b / se), G - 1)),
        df=float(G - 1),
        scale="odds ratio",
        n_units=G,
        n_obs=len(y),
        n_treated_units=int((prep.cohort_by_unit > 0).sum()),
        n_clusters=G,
        outcome=outcome,
        ame_pp=ame * 100,
        ame_se_pp=ame_se * 100,
        warnings=list(prep.notes),
    )
