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
from analysis.questions import Outcome, Question, improved, verdict

ProgressFn = Callable[[int, str], None]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, np.generic):
        return _clean(value.item())
    return value


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
        use_ppml = estimator == "ppml" or (estimator == "auto" and outcome.kind == "count")
        if use_ppml:
            res = did.ppml_twfe(data, unit=unit, time="year", cohort="cohort", outcome=outcome.code)
            row.update(
                estimator="Poisson PML (unit + year effects)",
                effect=res.effect,
                ci_low=res.ci_low,
                ci_high=res.ci_high,
                p=res.p_value,
                df=res.df,
                scale="relatieve verandering (exp(b) - 1)",
                n_units=res.n_units,
                n_treated=res.n_treated_units,
                warnings=list(res.warnings),
                methods=did.methods_paragraph(res),
            )
        else:
            robust = ("cr2", "cr1", "cv3", "wild") if draws else ("cr2", "cr1", "cv3")
            res = did.twfe(
                data,
                unit=unit,
                time="year",
                cohort="cohort",
                outcome=outcome.code,
                inference=inference,
                draws=draws or 999,
                seed=seed,
                robustness=robust,
            )
            scale = "procentpunten" if outcome.kind == "binary" else "eenheden van de uitkomst"
            factor = 100.0 if outcome.kind == "binary" else 1.0
            row.update(
                estimator="TWFE DiD (gezin + jaar vaste effecten)",
                effect=res.att * factor,
                ci_low=res.ci_low * factor,
                ci_high=res.ci_high * factor,
                p=res.p_value,
                df=res.df,
                scale=scale,
                n_units=res.n_units,
                n_treated=res.n_treated_units,
                warnings=list(res.warnings),
                methods=did.methods_paragraph(res),
                robustness={
                    k: {kk: _clean(vv) for kk, vv in v.items()} for k, v in res.robustness.items()
                },
            )
    except (did.PanelError, did.InferenceError, ValueError, np.linalg.LinAlgError) as exc:
        row.update(error=str(exc), effect=None, p=None)
    return {k: _clean(v) for k, v in row.items()}


def adjust(questions: list[dict]) -> None:
    """Holm within each question's primary outcomes, BH across all secondary outcomes."""
    secondary = [
        o for q in questions for o in q["outcomes"] if not o["primary"] and o.get("p") is not None
    ]
    for question in questions:
        primary = [o for o in question["outcomes"] if o["primary"] and o.get("p") is not None]
        for o, p_adj in zip(
            primary, did.holm([o["p"] for o in primary]) if primary else [], strict=True
        ):
            o["p_adjusted"], o["adjustment"] = p_adj, "Holm (primair)"
    for o, p_adj in zip(
        secondary,
        did.benjamini_hochberg([o["p"] for o in secondary]) if secondary else [],
        strict=True,
    ):
        o["p_adjusted"], o["adjustment"] = p_adj, "Benjamini-Hochberg (secundair)"
    for question in questions:
        for o in question["outcomes"]:
            o.setdefault("p_adjusted", None)
            o["verdict"] = verdict(o.get("effect"), o.get("p_adjusted"), o["better"])
            o["improved"] = improved(o["verdict"], o["better"])


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
                "mean": _clean(mean),
                "ci_low": _clean(mean - half),
                "ci_high": _clean(mean + half),
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


def answer_questions(
    family_panel: pd.DataFrame,
    professional_panel: pd.DataFrame,
    questions: tuple[Question, ...],
    *,
    inference: str = "cr2",
    draws: int = 0,
    seed: int | None = None,
    progress: ProgressFn | None = None,
) -> dict:
    """Every question with its outcomes estimated, adjusted and given a verdict."""
    family_panel = family_panel.assign(rel=family_panel["year"] - family_panel["intake_year"])
    total = sum(len(q.outcomes) for q in questions) or 1
    done, answered = 0, []
    for question in questions:
        outcomes = []
        for outcome in question.outcomes:
            if outcome.unit == "professional":
                panel, unit, arm_col, rel_col = professional_panel, "unit", "approach", "year"
            else:
                panel, unit, arm_col, rel_col = family_panel, "family_id", "arm", "rel"
            if outcome.code not in panel or panel[outcome.code].notna().sum() == 0:
                row = {
                    "code": outcome.code,
                    "label": outcome.label_nl,
                    "kind": outcome.kind,
                    "better": outcome.better,
                    "primary": outcome.primary,
                    "effect": None,
                    "p": None,
                    "error": "geen gegevens vastgelegd voor deze uitkomst",
                }
            else:
                row = estimate_outcome(
                    panel,
                    outcome,
                    unit=unit,
                    inference=inference,
                    draws=draws,
                    seed=seed,
                    estimator=question.estimator,
                )
                row["means"] = arm_means(
                    panel, outcome.code, unit=unit, arm_col=arm_col, rel_col=rel_col
                )
                if outcome.primary and outcome.kind != "count" and outcome.unit == "family":
                    row["event_study"] = event_for(panel, outcome.code, unit=unit)
            outcomes.append(row)
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
    adjust(answered)
    return {"questions": answered}


def attrition_summary(families: pd.DataFrame) -> list[dict]:
    """Families per arm and status (the flow table of the methods section)."""
    table = families.groupby(["arm", "status"]).size().rename("n").reset_index()
    return [{"arm": r.arm, "status": r.status, "n": int(r.n)} for r in table.itertuples()]


def dose_summary(panel: pd.DataFrame) -> list[dict]:
    """Contacts and hours per family per year after intake, by arm (the dose of the approach)."""
    post = panel.loc[panel["year"] >= panel["intake_year"]]
    grouped = post.groupby("arm")
    return [
        {
            "arm": arm,
            "families": int(g["family_id"].nunique()),
            "contacts_per_year": _clean(float(g["contacts"].mean())),
            "hours_per_year": _clean(float(g["contact_hours"].mean())),
        }
        for arm, g in grouped
    ]


def mde_for(panel: pd.DataFrame, code: str) -> dict | None:
    """Minimum detectable effect (80% power, 5%) from the observed spread of an outcome."""
    data = panel[["family_id", "arm", "year", "intake_year", code]].dropna()
    if data.empty:
        return None
    sd = float(data[code].std(ddof=1))
    if not sd or math.isnan(sd):
        return None
    fam_means = data.groupby("family_id")[code].mean()
    icc = (
        float(min(max(fam_means.var(ddof=1) / (sd * sd), 0.0), 0.95)) if len(fam_means) > 2 else 0.3
    )
    n_t = int(data.loc[data["arm"] == "intervention", "family_id"].nunique())
    n_c = int(data.loc[data["arm"] != "intervention", "family_id"].nunique())
    n_pre = max(
        1, int((data["year"] <= data["intake_year"]).groupby(data["family_id"]).sum().median())
    )
    n_post = max(
        1, int((data["year"] > data["intake_year"]).groupby(data["family_id"]).sum().median())
    )
    try:
        res = did.mde_analytic(n_t, n_c, n_pre, n_post, icc, sd)
    except (ValueError, did.PanelError):
        return None
    return {
        "outcome": code,
        "mde": _clean(float(res.mde)),
        "sd": _clean(sd),
        "icc": _clean(icc),
        "n_treated": n_t,
        "n_control": n_c,
    }
