"""Answer the research questions on the derived panels (pure: pandas in, JSON-able dict out).

Per outcome the estimator follows the outcome type: TWFE DiD with CR2 (Bell-McCaffrey) and
Satterthwaite df for continuous outcomes, scores and binary outcomes (a linear probability model:
effects in percentage points), Poisson PML with unit and period effects for counts (effect
exp(b) - 1). Holm adjusts the primary outcomes within a question, Benjamini-Hochberg the
secondary outcomes across the run. A statistics error on one outcome is recorded with it in plain
words; the run goes on.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from analysis import did
from analysis.did.inference import DEFAULT_METHODS, VARIANCE_METHODS
from analysis.did.panel import json_safe
from analysis.did.romano_wolf import joint_wild_t, romano_wolf_pvalues
from analysis.effects import derive, designs
from analysis.effects.adjustment import adjust
from analysis.effects.aligned_estimate import ERRORS, aligned_outcome, wild_inputs
from analysis.effects.questions import Outcome, Question

ProgressFn = Callable[[int, str], None]


def _ppml(data: pd.DataFrame, code: str, *, unit: str) -> dict[str, Any]:
    res = did.ppml_twfe(data, unit=unit, time="year", cohort="cohort", outcome=code)
    return {
        "estimator": "Poisson PML (unit + year effects)",
        "effect": res.effect,
        "ci_low": res.ci_low,
        "ci_high": res.ci_high,
        "p": res.p_value,
        "df": res.df,
        "scale": "relatieve verandering (exp(b) - 1)",
        "n_units": res.n_units,
        "n_treated": res.n_treated_units,
        "warnings": list(res.warnings),
        "methods": did.methods_paragraph(res),
    }


def _twfe(
    data: pd.DataFrame,
    outcome: Outcome,
    *,
    unit: str,
    inference: str,
    draws: int,
    seed: int | None,
) -> dict[str, Any]:
    """TWFE with the run's inference; binary outcomes (a linear probability model) in
    percentage points. Without bootstrap draws the wild bootstrap is left out of the checks."""
    res = did.twfe(
        data,
        unit=unit,
        time="year",
        cohort="cohort",
        outcome=outcome.code,
        inference=inference,
        draws=draws or 999,
        seed=seed,
        robustness=DEFAULT_METHODS if draws else VARIANCE_METHODS,
    )
    binary = outcome.kind == "binary"
    factor = 100.0 if binary else 1.0
    return {
        "estimator": "TWFE DiD (gezin + jaar vaste effecten)",
        "effect": res.att * factor,
        "ci_low": res.ci_low * factor,
        "ci_high": res.ci_high * factor,
        "p": res.p_value,
        "df": res.df,
        "scale": "procentpunten" if binary else "eenheden van de uitkomst",
        "n_units": res.n_units,
        "n_treated": res.n_treated_units,
        "warnings": list(res.warnings),
        "methods": did.methods_paragraph(res),
        "robustness": json_safe(res.robustness),
    }


def estimate_outcome(
    panel: pd.DataFrame,
    outcome: Outcome,
    *,
    unit: str,
    inference: str,
    draws: int,
    seed: int | None,
    estimator: str = "auto",
) -> dict:
    """One outcome's DiD effect, or the reason it could not be estimated.

    ``estimator`` "auto" picks by outcome kind (Poisson PML for counts, TWFE otherwise);
    "twfe" or "ppml" force one (a question's estimator as registered per study).
    """
    data = panel[[unit, "year", "cohort", outcome.code]].dropna(subset=[outcome.code])
    row: dict[str, Any] = {
        "code": outcome.code,
        "label": outcome.label_nl,
        "kind": outcome.kind,
        "better": outcome.better,
        "primary": outcome.primary,
    }
    try:
        if estimator == "ppml" or (estimator == "auto" and outcome.kind == "count"):
            row.update(_ppml(data, outcome.code, unit=unit))
        else:
            row.update(_twfe(data, outcome, unit=unit, inference=inference, draws=draws, seed=seed))
    except (did.PanelError, did.InferenceError, ValueError, np.linalg.LinAlgError) as exc:
        row.update(error=str(exc), effect=None, p=None)
    return json_safe(row)


def arm_means(
    panel: pd.DataFrame, code: str, *, unit: str, arm_col: str, rel_col: str
) -> list[dict]:
    """Mean and 95% interval per arm and year since intake (the report suppresses n < 10)."""
    data = panel[[unit, arm_col, rel_col, code]].dropna(subset=[code])
    rows = []
    for (arm, rel), group in data.groupby([arm_col, rel_col]):
        n = group[unit].nunique()
        mean = float(group[code].mean())
        sd = float(group[code].std(ddof=1)) if n > 1 else float("nan")
        half = 1.96 * sd / math.sqrt(n) if n > 1 else float("nan")
        rows.append(
            {
                "arm": arm,
                "rel": int(rel),
                "n": int(n),
                "mean": json_safe(mean),
                "ci_low": json_safe(mean - half),
                "ci_high": json_safe(mean + half),
            }
        )
    return rows


def event_for(panel: pd.DataFrame, code: str, *, unit: str) -> dict | None:
    data = panel[[unit, "year", "cohort", code]].dropna(subset=[code])
    try:
        res = did.event_study(
            data, unit=unit, time="year", cohort="cohort", outcome=code, honest=False
        )
    except (did.PanelError, did.InferenceError, ValueError, np.linalg.LinAlgError):
        return None
    out = res.to_dict()
    return {"event": out.get("event", []), "pretrend_p": out.get("pretrend_p")}


CRISIS_ENTRY_WARNING = (
    "De kalenderschatting (gezin + kalenderjaar, alleen de interventiegezinnen behandeld vanaf "
    "het jaar na de intake) negeert de intake van de vergelijkingsgezinnen. Beide groepen komen "
    "op een crisispunt de studie in en hun problemen nemen daarna vanzelf af (terugkeer naar het "
    "gemiddelde); de kalenderschatting schrijft die daling toe aan de aanpak. De schatting "
    "uitgelijnd op de intake vergelijkt beide groepen op hetzelfde moment na hun eigen intake."
)  # nl: why the calendar estimate differs under crisis entry


def _question_model(question: Question, outcome: Outcome) -> str:
    return designs.outcome_model(outcome.code, outcome.kind, question.model)


def _base_row(outcome: Outcome) -> dict[str, Any]:
    return {
        "code": outcome.code,
        "label": outcome.label_nl,
        "kind": outcome.kind,
        "better": outcome.better,
        "primary": outcome.primary,
    }


def _aligned_row(
    panel: pd.DataFrame,
    outcome: Outcome,
    *,
    model: str,
    outcome_design: str,
    inference: str,
    draws: int,
    seed: int | None,
) -> dict[str, Any]:
    data = panel[["family_id", "year", "arm01", "intake_year", "cohort", outcome.code]]
    data = data.dropna(subset=[outcome.code])
    try:
        return aligned_outcome(
            data,
            outcome.code,
            model=model,
            outcome_design=outcome_design,
            inference=inference,
            draws=draws,
            seed=seed,
        )
    except ERRORS as exc:
        return {
            "design": "aligned",
            "outcome_design": outcome_design,
            "model": model,
            "error": str(exc),
            "effect": None,
            "p": None,
        }


def _answer_outcome(
    question: Question,
    outcome: Outcome,
    family_panel: pd.DataFrame,
    professional_panel: pd.DataFrame,
    *,
    design: str,
    inference: str,
    draws: int,
    seed: int | None,
) -> dict:
    """One outcome of a question: its effect, arm means and event study, or the reason there is
    nothing to estimate. Family outcomes follow ``design`` (aligned: the primary design; calendar:
    a plan frozen before it, with the aligned estimate beside); professional outcomes keep the
    calendar-time design."""
    if outcome.unit == "professional":
        panel, unit, arm_col, rel_col = professional_panel, "unit", "approach", "year"
    else:
        panel, unit, arm_col, rel_col = family_panel, "family_id", "arm", "rel"
    outcome_design = designs.outcome_design(outcome.code)
    model = _question_model(question, outcome)
    if outcome.code not in panel or panel[outcome.code].notna().sum() == 0:
        return {
            **_base_row(outcome),
            "design": "calendar" if outcome.unit == "professional" else design,
            "outcome_design": outcome_design,
            "model": model,
            "effect": None,
            "p": None,
            "error": "geen gegevens vastgelegd voor deze uitkomst",
        }
    if outcome.unit == "family" and design == "aligned":
        row = {
            **_base_row(outcome),
            **_aligned_row(
                panel,
                outcome,
                model=model,
                outcome_design=outcome_design,
                inference=inference,
                draws=draws,
                seed=seed,
            ),
        }
    else:
        row = estimate_outcome(
            panel,
            outcome,
            unit=unit,
            inference=inference,
            draws=draws,
            seed=seed,
            estimator="ppml" if model == "ppml" else "twfe",
        )
        row.update(design="calendar", outcome_design=outcome_design, model=model)
        if outcome.unit == "family":
            row["aligned"] = _aligned_row(
                panel,
                outcome,
                model=model,
                outcome_design=outcome_design,
                inference=inference,
                draws=draws,
                seed=seed,
            )
            row["crisis_entry_warning"] = CRISIS_ENTRY_WARNING
            if outcome.primary and outcome.kind != "count":
                row["event_study"] = event_for(panel, outcome.code, unit=unit)
    row["means"] = arm_means(panel, outcome.code, unit=unit, arm_col=arm_col, rel_col=rel_col)
    return row


#: A version segment is estimated on its own only with at least this many families of each arm
#: measured under it (the report's rule for a mean: fewer than 10 families are not shown).
MIN_SEGMENT_FAMILIES = 10
SEGMENT_NOTE = (
    "aparte schatting op alleen deze versie, met dezelfde schatter en inferentie als de "
    "hoofdschatting; niet gecorrigeerd voor meervoudig toetsen en zonder eigen oordeel"
)


def segment_families(panel: pd.DataFrame, column: str) -> dict[str, int]:
    """Families with at least one measurement in a column, per arm."""
    measured = panel.loc[panel[column].notna(), ["family_id", "arm"]]
    counts = measured.drop_duplicates().groupby("arm")["family_id"].nunique()
    return {arm: int(counts.get(arm, 0)) for arm in ("intervention", "comparison")}


def version_segments(
    question: Question,
    outcome: Outcome,
    family_panel: pd.DataFrame,
    professional_panel: pd.DataFrame,
    **settings: Any,
) -> list[dict]:
    """Each version segment of an instrument outcome (versions not declared score-comparable
    with the outcome's): its own estimate with the same estimator and inference, on the rows
    measured under it only, or the reason there is none (too few families per arm)."""
    out = []
    for seg in family_panel.attrs.get("instrument_segments", {}).get(outcome.code, []):
        column = seg["column"]
        n = segment_families(family_panel, column) if column in family_panel else {}
        row: dict[str, Any] = {
            "code": column,
            "label": seg["label"],
            "group": seg["group"],
            "break": seg["break"],
            "kind": outcome.kind,
            "better": outcome.better,
            "n_intervention": n.get("intervention", 0),
            "n_comparison": n.get("comparison", 0),
            "note": SEGMENT_NOTE,
        }
        if min(row["n_intervention"], row["n_comparison"]) < MIN_SEGMENT_FAMILIES:
            row.update(
                effect=None,
                p=None,
                reason=f"te weinig gezinnen gemeten met deze versie voor een eigen schatting "
                f"(minder dan {MIN_SEGMENT_FAMILIES} per groep)",
            )
        else:
            segment = Outcome(column, seg["label"], outcome.kind, outcome.better, False)
            estimated = _answer_outcome(
                question, segment, family_panel, professional_panel, **settings
            )
            row.update({k: v for k, v in estimated.items() if k not in row or k == "label"})
            row["label"] = seg["label"]
        out.append(json_safe(row))
    return out


THRESHOLD_NOTE = (
    "aanvullende uitkomst: het aandeel domeinen op de drempel van een ordinaal instrument, "
    "toegevoegd omdat de studie dit instrument gebruikt; geen vraag uit het analyseplan"
)
THRESHOLD_QUESTION_TEXT = "Neemt het aandeel domeinen op '{label}' af ({name})?"


def threshold_questions(family_panel: pd.DataFrame) -> tuple[Question, ...]:
    """One extra question per ordinal instrument with a threshold the study recorded: the share
    of its domains at the threshold (e.g. ZRM 'acuut/niet zelfredzaam', score 1-2) as a secondary
    outcome in percentage points (a share, estimated like a yes/no outcome), lower is better."""
    out = []
    for n, t in enumerate(family_panel.attrs.get("threshold_outcomes", []), start=1):
        name = t["label"].split(":")[0]
        out.append(
            Question(
                f"D{n}",
                "family",
                THRESHOLD_QUESTION_TEXT.format(label=t["threshold_label"], name=name),
                (Outcome(t["column"], t["label"], "binary", "decrease", False),),
            )
        )
    return tuple(out)


def romano_wolf_family(
    family_panel: pd.DataFrame, answered: list[dict], *, draws: int, seed: int | None
) -> dict[str, float]:
    """Romano-Wolf adjusted p-values of the primary linear (and LPM) aligned family outcomes,
    from one wild bootstrap with the same weight per family in every outcome."""
    eligible = [
        o
        for q in answered
        for o in q["outcomes"]
        if o["primary"]
        and o.get("design") == "aligned"
        and o.get("model") in ("linear", "lpm")
        and o.get("outcome_design") in ("pre_period", "t0_only")
        and o.get("p") is not None
    ]
    inputs, codes = [], []
    for o in eligible:
        data = family_panel[["family_id", "year", "arm01", "intake_year", o["code"]]]
        try:
            inputs.append(wild_inputs(data.dropna(), o["code"], outcome_design=o["outcome_design"]))
            codes.append(o["code"])
        except ERRORS:
            continue  # left to the Holm part of the family
    if not inputs:
        return {}
    t_obs, t_star = joint_wild_t(inputs, draws=draws, seed=seed)
    return dict(zip(codes, romano_wolf_pvalues(t_obs, t_star).tolist(), strict=True))


def plan_outcome_count(questions: tuple[Question, ...]) -> dict[str, int]:
    """m of the primary and secondary families, counted before anything is estimated."""
    outcomes = [o for q in questions for o in q.outcomes]
    return {
        "primary": sum(o.primary for o in outcomes),
        "secondary": sum(not o.primary for o in outcomes),
    }


def answer_questions(
    family_panel: pd.DataFrame,
    professional_panel: pd.DataFrame,
    questions: tuple[Question, ...],
    *,
    design: str = designs.DEFAULT_DESIGN,
    multiplicity: str = designs.DEFAULT_MULTIPLICITY,
    inference: str = "cr2",
    draws: int = 0,
    seed: int | None = None,
    progress: ProgressFn | None = None,
) -> dict:
    """Every question with its outcomes estimated, adjusted over the whole plan and given a
    verdict. ``design`` is the plan's (aligned, or calendar for a plan frozen before it)."""
    if design not in designs.DESIGNS:
        raise ValueError(f"design must be one of {', '.join(designs.DESIGNS)}; got {design!r}")
    family_panel = family_panel.assign(
        rel=family_panel["year"] - family_panel["intake_year"],
        arm01=(family_panel["arm"] == "intervention").astype(float),
    )
    questions = (*questions, *threshold_questions(family_panel))
    counted = plan_outcome_count(questions)
    total = sum(len(q.outcomes) for q in questions) or 1
    done, answered = 0, []
    for question in questions:
        outcomes = []
        for outcome in question.outcomes:
            row = _answer_outcome(
                question,
                outcome,
                family_panel,
                professional_panel,
                design=design,
                inference=inference,
                draws=draws,
                seed=seed,
            )
            broken = derive.instrument_break_warning(family_panel, outcome.code, outcome.label_nl)
            if broken:
                row["warnings"] = [*row.get("warnings", []), broken]
            if outcome.code.startswith(derive.THRESHOLD_PREFIX):
                row["warnings"] = [*row.get("warnings", []), THRESHOLD_NOTE]
            if outcome.unit == "family":
                segments = version_segments(
                    question,
                    outcome,
                    family_panel,
                    professional_panel,
                    design=design,
                    inference=inference,
                    draws=draws,
                    seed=seed,
                )
                if segments:
                    row["version_segments"] = segments
            outcomes.append(json_safe(row))
            done += 1
            if progress:
                progress(int(90 * done / total), f"{question.code} {outcome.code}")
        answered.append(
            {
                "code": question.code,
                "group": question.group,
                "text": question.text_nl,
                "not_answered_reason": question.not_answered_reason,
                "outcomes": outcomes,
            }
        )
    rw = None
    if multiplicity == "romano-wolf":
        rw = romano_wolf_family(family_panel, answered, draws=draws or 999, seed=seed)
    family = adjust(answered, method=multiplicity, romano_wolf=rw)
    family["counted_before_estimation"] = counted
    return {"questions": answered, "design": design, "multiplicity": family}
