"""Plain-English methods paragraphs for DiD results, printed in reports next to the numbers."""

from __future__ import annotations

from typing import Any

_INFERENCE = {
    "cr2": (
        "Standard errors are clustered by family with the CR2 (Bell-McCaffrey) correction and a "
        "t reference distribution with Satterthwaite degrees of freedom (about {df:.0f} here), "
        "which keeps tests close to their nominal level with a few dozen families, where the "
        "usual cluster-robust errors are too small."
    ),
    "cr1": (
        "Standard errors are clustered by family (CR1, fixest's small-sample factor, unit effects "
        "not counted) with a t reference on {df:.0f} degrees of freedom (families minus one)."
    ),
    "cv3": (
        "Standard errors come from the delete-one-family jackknife (CV3) with a t reference on "
        "{df:.0f} degrees of freedom."
    ),
    "wild": (
        "The p-value and interval come from the restricted wild cluster bootstrap by family "
        "(Rademacher or, with fewer than 12 families, Webb weights; interval by test inversion)."
    ),
    "ri": (
        "The p-value comes from randomisation inference: cohort labels were permuted across "
        "families, keeping the cohort sizes; the interval shown is the CR2 one."
    ),
}

_ESTIMATOR = {
    "twfe": "a two-way fixed-effects difference-in-differences regression (family and period effects)",
    "did_2x2": "the classic 2x2 difference-in-differences regression (arm, period and their interaction)",
    "lpm": "a linear probability difference-in-differences regression with family and period effects (effects in percentage points)",
    "ppml": "Poisson pseudo-maximum-likelihood with family and period effects (effects as proportional changes, exp(b) - 1)",
    "logit": "a logit with an arm indicator and period effects (a sensitivity check; odds ratio and average marginal effect)",
}


def _get(result: Any, name: str, default: Any = None) -> Any:
    if isinstance(result, dict):
        return result.get(name, default)
    return getattr(result, name, default)


def _sample(result: Any) -> str:
    n_units, n_treated = _get(result, "n_units"), _get(result, "n_treated_units")
    n_obs = _get(result, "n_obs")
    if n_units is None:
        return ""
    return (
        f" The analysis uses {n_obs} observations of {n_units} families, {n_treated} of them in "
        "the intervention arm; the families are the clusters."
    )


def _event_paragraph(result: Any) -> str:
    ref = _get(result, "ref", -1)
    p = _get(result, "pretrend_p")
    text = (
        "Effects by time since intake were estimated with an event-study regression with family "
        f"and period effects, relative to event time {ref}, with binned end points."
        + _sample(result)
    )
    text += " " + _INFERENCE.get(_get(result, "inference", "cr2"), "").format(df=_median_df(result))
    if p is not None:
        text += (
            f" A joint test that all pre-intake coefficients are zero (HTZ) gives p = {p:.2f}. "
            "Passing this test is weak evidence for parallel trends, not proof (Roth 2022)."
        )
    bd = _get(result, "breakdown_mbar")
    if _get(result, "honest"):
        text += (
            " HonestDiD bounds (Rambachan & Roth 2023) show how the average post-intake effect "
            "changes if post-intake deviations from parallel trends may be up to Mbar times the "
            "largest pre-intake one"
        )
        text += (
            f"; the effect stays distinguishable from zero up to Mbar = {bd:.2f}."
            if bd
            else "; with Mbar = 0 the interval already includes zero."
            if bd == 0
            else "."
        )
    return text


def _median_df(result: Any) -> float:
    dfs = [e.get("df") for e in _get(result, "event", []) if e.get("df")]
    return float(sorted(dfs)[len(dfs) // 2]) if dfs else float("nan")


def methods_paragraph(result: Any) -> str:
    """A short methods paragraph naming estimator, inference, df and assumptions of ``result``.

    Accepts the results of :func:`twfe`, :func:`did_2x2`, :func:`lpm_twfe`, :func:`ppml_twfe`,
    :func:`logit_twfe`, :func:`event_study` and Callaway & Sant'Anna (or their ``to_dict()``).
    """
    if _get(result, "event") is not None and _get(result, "pretrend_p", "missing") != "missing":
        return _event_paragraph(result)
    if _get(result, "group_time") is not None:
        return (
            "Effects were estimated with the Callaway & Sant'Anna (2021) estimator for staggered "
            "intake: each intake cohort is compared with families not (yet) in the programme, "
            "period by period, and the group-time effects are averaged. Standard errors come "
            "from influence functions clustered by family. The key assumption is parallel trends "
            "between cohorts and their comparison group, and no anticipation of intake."
        )
    estimator = _get(result, "estimator", "twfe")
    inference = _get(result, "inference", "cr1" if estimator in ("ppml", "logit") else "cr2")
    df = _get(result, "df") or float("nan")
    text = f"Effects were estimated with {_ESTIMATOR.get(estimator, estimator)}." + _sample(result)
    text += " " + _INFERENCE.get(inference, _INFERENCE["cr1"]).format(df=df)
    if _get(result, "covariates"):
        text += f" Covariates: {', '.join(_get(result, 'covariates'))}."
    if _get(result, "weighted"):
        text += " Observations are weighted (inverse probability of staying in the study)."
    robustness = _get(result, "robustness") or {}
    others = [m for m in robustness if m != inference]
    if others:
        text += " As robustness checks we report " + ", ".join(m.upper() for m in others) + "."
    text += (
        " The estimate is causal if, without the programme, outcomes in both arms would have "
        "moved in parallel and families did not change behaviour before intake."
    )
    if estimator in ("twfe", "lpm") and len(_get(result, "n_treated_by_cohort") or {}) > 1:
        text += (
            " With staggered intake and effects that change over time, this regression can weight "
            "cohorts badly; compare it with the Callaway & Sant'Anna estimate."
        )
    return text
