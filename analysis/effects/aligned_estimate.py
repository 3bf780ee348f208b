"""One family outcome estimated on the intake-aligned design (pure: pandas in, dict out).

:func:`aligned_outcome` returns the row the report and the verdict read: the primary aligned
estimate (linear or LPM with CR2/Satterthwaite and CR1, CV3 and, with bootstrap draws, the wild
bootstrap beside it; Poisson PML with CR1 and G - 1 df for counts and costs, costs also in euros
at the comparison arm's post-intake mean), the aligned event study with pointwise and uniform
(sup-t) bands and the joint pre-test, the stacked and imputation estimates of the same
comparison, the ANCOVA bracket of outcomes measured from T0, and the calendar-time TWFE as a
named robustness line. See analysis/effects/designs.py for which variant an outcome gets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis import did
from analysis.did.aligned import AlignedResult, aligned_design, fit_design, result_from_fit
from analysis.did.aligned_alt import imputation_from_panel, stacked_from_panel
from analysis.did.aligned_checks import (
    ancova_from_panel,
    balance_from_panel,
    bracket_check,
    level_from_panel,
)
from analysis.did.aligned_event import event_study_from_panel
from analysis.did.aligned_panel import AlignedPanel, prepare_aligned
from analysis.did.aligned_ppml import SCORE_BOOTSTRAP_DRAWS, AlignedRatioResult, ppml_from_panel
from analysis.did.linear import LinearFit
from analysis.did.panel import json_safe
from analysis.effects.derive import COST_OUTCOME

PP = 100.0
ERRORS = (did.PanelError, did.InferenceError, ValueError, np.linalg.LinAlgError)
NO_PRE_NOTE = (
    "parallel trends cannot be tested: only the intake measurement (T0) precedes the approach"
)


def _scale(model: str) -> tuple[float, str]:
    return (PP, "procentpunten") if model == "lpm" else (1.0, "eenheden van de uitkomst")


def _linear_row(r: AlignedResult, factor: float) -> dict[str, Any]:
    return {
        "estimate": r.att * factor,
        "se": r.se * factor,
        "ci_low": r.ci_low * factor,
        "ci_high": r.ci_high * factor,
        "df": r.df,
        "p": r.p_value,
        "inference": r.inference,
    }


def _panel(data: pd.DataFrame, code: str) -> AlignedPanel:
    return prepare_aligned(
        data, unit="family_id", time="year", arm="arm01", intake="intake_year", outcome=code
    )


def _main_linear(
    panel: AlignedPanel, *, t0: str, code: str, inference: str, draws: int, seed: int | None
) -> AlignedResult:
    design = aligned_design(panel, t0=t0)
    methods = ["cr2", "cr1", "cv3"] + (["wild"] if draws else [])
    primary = inference if inference in methods else "cr2"
    return result_from_fit(
        fit_design(design),
        design,
        estimator="aligned",
        outcome=code,
        inference=primary,
        methods=list(dict.fromkeys([primary, *methods])),
        draws=draws or 999,
        seed=seed,
        level=0.95,
    )


def _event_study(panel: AlignedPanel, *, t0: str, code: str, factor: float) -> dict | None:
    try:
        es = event_study_from_panel(panel, t0=t0, outcome=code)
    except ERRORS:
        return None
    keys = ("att", "se", "ci_low", "ci_high", "band_low", "band_high")
    rows = [
        {k: (v * factor if k in keys and v is not None else v) for k, v in row.items()}
        for row in es.event
    ]
    out = {
        "event": rows,
        "ref": es.ref,
        "pretest": es.pretest,
        "pretest_p": (es.pretest or {}).get("p_value"),
        "band_critical_value": es.band_critical_value,
        "dropped_event_times": es.dropped_event_times,
    }
    return json_safe(out)


def _alternatives(panel: AlignedPanel, *, t0: str, code: str, factor: float) -> dict[str, Any]:
    """The stacked and imputation estimates of the same aligned comparison (linear)."""
    out: dict[str, Any] = {}
    try:
        stacked = stacked_from_panel(panel, t0=t0, outcome=code, robustness=())
        out["stacked"] = _linear_row(stacked, factor)
    except ERRORS as exc:
        out["stacked"] = {"error": str(exc)}
    try:
        out["imputation"] = _linear_row(imputation_from_panel(panel, t0=t0, outcome=code), factor)
    except ERRORS as exc:
        out["imputation"] = {"error": str(exc)}
    return out


def _calendar(data: pd.DataFrame, code: str, *, model: str) -> dict[str, Any]:
    """The calendar-time TWFE (family + year effects, intervention treated from intake + 1)."""
    frame = data[["family_id", "year", "cohort", code]]
    try:
        if model == "ppml":
            pres = did.ppml_twfe(
                frame, unit="family_id", time="year", cohort="cohort", outcome=code
            )
            return json_safe(
                {
                    "estimator": "calendar Poisson PML",
                    "effect": pres.effect,
                    "ci_low": pres.ci_low,
                    "ci_high": pres.ci_high,
                    "p": pres.p_value,
                }
            )
        res = did.twfe(
            frame,
            unit="family_id",
            time="year",
            cohort="cohort",
            outcome=code,
            robustness=("cr2",),
        )
    except ERRORS as exc:
        return {"error": str(exc)}
    factor, _ = _scale(model)
    return json_safe(
        {
            "estimator": "calendar TWFE",
            "effect": res.att * factor,
            "ci_low": res.ci_low * factor,
            "ci_high": res.ci_high * factor,
            "p": res.p_value,
        }
    )


def _ppml_main(
    panel: AlignedPanel, code: str, *, draws: int = 0, seed: int | None = None
) -> AlignedRatioResult:
    """The aligned PPML with CR1, CR2 and the wild score bootstrap beside them (the run's
    draws, else SCORE_BOOTSTRAP_DRAWS: it needs no refit, so it is always computed)."""
    unit = "euro" if code == COST_OUTCOME else "eenheden van de uitkomst"
    return ppml_from_panel(
        panel,
        t0="own",
        inference="cr1",
        outcome=code,
        level_unit=unit,
        bootstrap_draws=draws or SCORE_BOOTSTRAP_DRAWS,
        seed=0 if seed is None else int(seed),
    )


def aligned_outcome(
    data: pd.DataFrame,
    code: str,
    *,
    model: str,
    outcome_design: str,
    inference: str = "cr2",
    draws: int = 0,
    seed: int | None = None,
) -> dict[str, Any]:
    """The aligned estimate of one family outcome with its companions (see the docstring).

    ``data`` has family_id, year, arm01 (1 intervention, 0 comparison), intake_year (the
    calendar year of the family's T0, both arms), cohort (for the calendar line) and ``code``.
    Raises the statistics errors of analysis.did when the main estimate cannot be made.
    """
    panel = _panel(data, code)
    factor, scale = _scale(model)
    row: dict[str, Any] = {"design": "aligned", "outcome_design": outcome_design, "model": model}
    if outcome_design == "none":
        res = level_from_panel(panel, outcome=code)
        row.update(
            estimator="niveauvergelijking na de start (geen DiD)",
            **_main_fields(res, factor, scale),
            warnings=list(res.warnings),
        )
        return json_safe(row)
    t0 = "baseline" if outcome_design == "t0_only" else "own"
    if model == "ppml":
        pres = _ppml_main(panel, code, draws=draws, seed=seed)
        row.update(
            estimator="aligned Poisson PML (gezin + jaar + jaren sinds intake)",
            effect=pres.effect,
            ci_low=pres.ci_low,
            ci_high=pres.ci_high,
            p=pres.p_value,
            df=pres.df,
            inference=pres.inference,
            scale="relatieve verandering (exp(b) - 1)",
            coef=pres.coef,
            level_effect=pres.level_effect,
            level_ci_low=pres.level_ci_low,
            level_ci_high=pres.level_ci_high,
            level_unit=pres.level_unit,
            comparison_post_mean=pres.comparison_post_mean,
            n_units=pres.n_units,
            n_treated=pres.n_intervention,
            dropped_event_times=pres.dropped_event_times,
            t0_effect=pres.t0_effect,
            robustness=pres.robustness,
            warnings=list(pres.warnings),
            n_families_nonzero=pres.n_families_nonzero,
            n_families_all_zero=pres.n_families_all_zero,
        )
        linear_factor = 1.0  # the event study and alternatives of a count are linear
    else:
        res = _main_linear(panel, t0=t0, code=code, inference=inference, draws=draws, seed=seed)
        if model == "lpm":
            res = res.scaled(PP, "percentage points", "aligned_lpm")
        row.update(
            estimator="aligned DiD (gezin + jaar + jaren sinds intake, arm x na intake)",
            **_main_fields(res, 1.0, scale),
            dropped_event_times=res.dropped_event_times,
            t0_effect=res.t0_effect,
            robustness=res.robustness,
            warnings=list(res.warnings),
        )
        linear_factor = factor
    row["alternatives"] = _alternatives(panel, t0=t0, code=code, factor=linear_factor)
    if outcome_design == "pre_period":
        row["event_study"] = _event_study(panel, t0=t0, code=code, factor=linear_factor)
    else:
        row["warnings"].append(NO_PRE_NOTE)
        row["event_study"] = None
        row["checks"] = _t0_checks(panel, code, res if model != "ppml" else None, linear_factor)
    row["calendar"] = _calendar(data, code, model=model)
    return json_safe(row)


def _main_fields(res: AlignedResult, factor: float, scale: str) -> dict[str, Any]:
    return {
        "effect": res.att * factor,
        "ci_low": res.ci_low * factor,
        "ci_high": res.ci_high * factor,
        "p": res.p_value,
        "df": res.df,
        "inference": res.inference,
        "scale": scale,
        "n_units": res.n_units,
        "n_treated": res.n_intervention,
    }


def _t0_checks(
    panel: AlignedPanel, code: str, did_result: AlignedResult | None, factor: float
) -> dict[str, Any]:
    """ANCOVA on T0 (bracketing check) and the arms' T0 balance."""
    out: dict[str, Any] = {}
    try:
        anc = ancova_from_panel(panel, outcome=code, robustness=())
        out["ancova"] = _linear_row(anc, factor)
        if did_result is not None:
            out["bracket"] = bracket_check(did_result, anc)
    except ERRORS as exc:
        out["ancova"] = {"error": str(exc)}
    try:
        out["balance"] = balance_from_panel(panel).to_dict()
    except ERRORS as exc:
        out["balance"] = {"error": str(exc)}
    return json_safe(out)


def wild_inputs(
    data: pd.DataFrame, code: str, *, outcome_design: str
) -> tuple[LinearFit, int, np.ndarray]:
    """The aligned linear fit of ``code``, the index of arm x post and each cluster's family id:
    what the joint wild bootstrap of Romano-Wolf needs (analysis/did/romano_wolf.py)."""
    panel = _panel(data, code)
    design = aligned_design(panel, t0="baseline" if outcome_design == "t0_only" else "own")
    fit = fit_design(design)
    rows = design.panel.data
    if rows is None:
        raise did.PanelError(f"{code}: the panel keeps no family ids; left to Holm")
    families = rows["family_id"].to_numpy()
    if fit.n_obs != families.size:
        raise did.PanelError(f"{code}: the fit dropped rows; left to Holm")
    labels = np.zeros(fit.n_clusters, dtype=families.dtype)
    labels[fit.cluster] = families
    return fit, design.names.index("arm_post"), labels
