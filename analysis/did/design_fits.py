"""Fast fits of simulated studies for Monte Carlo and power runs (arrays in, estimates out).

The same estimators as the DataFrame API, without validation, pandas or result objects, so
that thousands of simulated studies fit in minutes (the tests check that each one equals its
DataFrame counterpart):

* :func:`default_estimate`: the default aligned estimator of each outcome type: registry and
  binary outcomes the aligned DiD with T0 its own coefficient (CR2, Satterthwaite df); survey
  outcomes (from T0) the aligned DiD with T0 as the reference; counts the aligned Poisson PML
  with T0 own, CR1 and G - 1 df (the GLM CR2 with Satterthwaite df beside it);
* :func:`calendar_estimate`: the report's calendar-time TWFE (treated from intake + 1 on for
  intervention families, never for comparison families; family + year effects; CR2), for counts
  the calendar Poisson PML with CR1 and G - 1 df (as :func:`analysis.did.outcomes.ppml_twfe`);
* :func:`study_estimates`: every estimate and design check of one study (the benchmark's row).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from analysis.did.aligned import aligned_design, fit_design, refit_outcome
from analysis.did.aligned_alt import imputation_fit, stacked_from_panel
from analysis.did.aligned_checks import ancova_from_panel, balance_from_panel, bracket_check
from analysis.did.aligned_panel import AlignedPanel, panel_from_arrays
from analysis.did.aligned_ppml import drop_all_zero_units, fit_ppml_design, poisson_fe, ppml_robust
from analysis.did.design_sim import SimulatedStudy
from analysis.did.inference import Robust, fit_linear

LEVEL = 0.95
PPML_DEFAULT = "cr1"  # the choice; the GLM CR2 is computed beside it


@dataclass(frozen=True)
class Estimate:
    """One estimate with its standard error, t reference df, interval and p-value."""

    estimate: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    p_value: float

    @property
    def att(self) -> float:  # the name the design checks read
        return self.estimate


def t_estimate(est: float, se: float, dfree: float, level: float = LEVEL) -> Estimate:
    """Interval and two-sided p-value with a t(df) reference (scipy.special: no call overhead)."""
    crit = float(special.stdtrit(dfree, 0.5 + level / 2))
    p = float(2 * special.stdtr(dfree, -abs(est / se))) if se > 0 else float("nan")
    return Estimate(est, se, float(dfree), est - crit * se, est + crit * se, p)


def robust_estimate(robust: Robust, kind: str = "cr2", j: int = 0) -> Estimate:
    """Coefficient ``j``: CR2 with Satterthwaite df, or CR1/CV3 with G - 1 df (as Robust.coef)."""
    c = np.zeros(robust.fit.k)
    c[j] = 1.0
    se = math.sqrt(max(float(c @ robust.vcov(kind) @ c), 0.0))
    dfree = robust.satterthwaite_df(c) if kind == "cr2" else robust.fit.n_clusters - 1
    return t_estimate(float(robust.fit.beta[j]), se, dfree)


def study_panel(study: SimulatedStudy, outcome: str) -> AlignedPanel:
    """The rows of ``study`` where ``outcome`` is observed, as an aligned panel."""
    y = study.outcomes[outcome]
    rows = ~np.isnan(y)
    return panel_from_arrays(
        y[rows], study.unit[rows], study.year[rows], study.arm[rows], study.intake[rows]
    )


def default_estimate(study: SimulatedStudy, outcome: str) -> Estimate:
    """The default aligned estimator of ``outcome`` (see the module docstring)."""
    panel = study_panel(study, outcome)
    if outcome == "count":
        panel, _ = drop_all_zero_units(panel)
        fit = fit_ppml_design(aligned_design(panel, t0="own"))
        return robust_estimate(ppml_robust(fit), PPML_DEFAULT)
    t0 = "baseline" if outcome == "survey" else "own"
    return robust_estimate(Robust(fit_design(aligned_design(panel, t0=t0))))


def _calendar_treated(panel: AlignedPanel) -> np.ndarray:
    return ((panel.arm == 1) & (panel.event >= 1)).astype(float)[:, None]


def calendar_estimate(study: SimulatedStudy, outcome: str) -> Estimate:
    """The report's calendar-time TWFE (counts: calendar Poisson PML with CR1)."""
    panel = study_panel(study, outcome)
    if outcome == "count":
        panel, _ = drop_all_zero_units(panel)
        fit = poisson_fe(
            panel.y, _calendar_treated(panel), unit=panel.unit, time=panel.year, cluster=panel.unit
        )
        return robust_estimate(Robust(fit.working), "cr1")
    lin = fit_linear(
        panel.y, _calendar_treated(panel), unit=panel.unit, time=panel.year, cluster=panel.unit
    )
    return robust_estimate(Robust(lin))


def _registry_estimates(study: SimulatedStudy) -> dict[str, Estimate]:
    """Registry and binary outcomes share rows and design: one fit, two outcomes."""
    panel = study_panel(study, "registry")
    fit = fit_design(aligned_design(panel, t0="own"))
    out = {"registry/aligned": robust_estimate(Robust(fit))}
    out["binary/aligned"] = robust_estimate(Robust(refit_outcome(fit, study.outcomes["binary"])))
    d = _calendar_treated(panel)
    cal = fit_linear(panel.y, d, unit=panel.unit, time=panel.year, cluster=panel.unit)
    out["registry/calendar"] = robust_estimate(Robust(cal))
    cal_b = refit_outcome(cal, study.outcomes["binary"])
    out["binary/calendar"] = robust_estimate(Robust(cal_b))
    st = stacked_from_panel(panel, t0="own", robustness=())
    out["registry/stacked"] = Estimate(st.att, st.se, st.df, st.ci_low, st.ci_high, st.p_value)
    imp = imputation_fit(panel, t0="own")
    se = math.sqrt(max(float(imp["vcov"][0, 0]), 0.0))
    out["registry/imputation"] = t_estimate(float(imp["beta"][0]), se, imp["n_clusters"] - 1)
    return out


def _survey_estimates(study: SimulatedStudy) -> tuple[dict[str, Estimate], dict[str, bool]]:
    panel = study_panel(study, "survey")
    did = default_estimate(study, "survey")
    anc = ancova_from_panel(panel, robustness=())
    out = {
        "survey/aligned": did,
        "survey/calendar": calendar_estimate(study, "survey"),
        "survey/ancova_t0": Estimate(anc.att, anc.se, anc.df, anc.ci_low, anc.ci_high, anc.p_value),
    }
    flags = {
        "survey_balance": balance_from_panel(panel).flagged,
        "survey_bracket": bool(bracket_check(did, anc)["flagged"]),
        "registry_balance": balance_from_panel(study_panel(study, "registry")).flagged,
    }
    return out, flags


def study_estimates(study: SimulatedStudy) -> tuple[dict[str, Estimate], dict[str, bool]]:
    """Every estimate of one study (``outcome/estimator`` keys) and the design checks' flags."""
    out = _registry_estimates(study)
    survey, flags = _survey_estimates(study)
    out.update(survey)
    panel = study_panel(study, "count")
    panel, _ = drop_all_zero_units(panel)
    robust = ppml_robust(fit_ppml_design(aligned_design(panel, t0="own")))
    out["count/aligned"] = robust_estimate(robust, PPML_DEFAULT)
    out["count/aligned_cr2"] = robust_estimate(robust, "cr2")
    out["count/calendar"] = calendar_estimate(study, "count")
    return out, flags
