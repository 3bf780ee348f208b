"""The pre-registered analysis plan as data (pure: no Django).

A plan's content holds the questions with their outcomes, which outcomes are primary, the
covariates, the design (``aligned`` on both arms' intake, the default, or ``calendar``), each
question's model and each outcome's design and model (analysis/effects/designs.py), inference,
clustering, the multiplicity family (``holm`` over all primary outcomes of the plan by default, or
``bonferroni``; Benjamini-Hochberg across the secondary ones), bootstrap draws and seed. A plan
frozen before design and model were apart names ``estimator: twfe`` instead of a design: it keeps
the calendar-time design until a researcher revises the plan with a reason.
Its SHA-256 is taken over canonical JSON, so the same content always has the same hash. A run's
deviations are the differences between the plan it followed and what it actually used.
"""

from __future__ import annotations

import hashlib
import json

from analysis.effects import designs
from analysis.effects.questions import question_model

#: Run parameters a plan fixes; any other run parameter is bookkeeping (price year, plan version).
PLAN_PARAMS = ("design", "estimator", "multiplicity", "inference", "draws", "seed", "honest")
HONEST_RESTRICTIONS = ("rm", "sd")
HONEST_TARGETS = ("average", "first")
HONEST_SD_METHODS = ("FLCI", "C-LF")
#: HonestDiD as the plan fixes it: both restrictions, the average of T1 ... T4 (T0 weight 0),
#: R's defaults: C-LF for Delta^RM and the fixed-length CI (FLCI) for Delta^SD (exact, a few
#: milliseconds per M: analysis/did/honest_flci.py; benchmarks/diagnostics_speed.py times it).
#: A plan may choose C-LF for Delta^SD; a plan frozen with C-LF (the default until FLCI was
#: made fast) keeps it, because its content records the method. The report names the test used.
HONEST_DEFAULTS = {"restrictions": ["rm", "sd"], "target": "average", "sd_method": "FLCI"}
#: The planned MDE: power 0.8; ``rho`` None = the lag-1 correlation of the pre-intake years.
POWER_DEFAULTS = {"power": 0.8, "rho": None, "reps": 1000}
# Deviations are printed in the (Dutch) report: the names below are its words.
PARAM_NAMES = {
    "design": "design",
    "estimator": "schatter",
    "multiplicity": "multipliciteitscorrectie",
    "inference": "inferentie",
    "draws": "bootstrap-trekkingen",
    "seed": "seed",
    "honest": "HonestDiD-instellingen",
}
QUESTION_FIELDS = {
    "title": "vraagtekst",
    "unit": "eenheid",
    "expected_direction": "verwachte richting",
    "model": "model",
    "primary": "primair",
}
OUTCOME_FIELDS = {
    "kind": "type",
    "better": "gunstige richting",
    "primary": "primair",
    "design": "design",
    "model": "model",
}
IN_PLAN, LEFT_OUT, NOT_IN_PLAN, ADDED = (
    "in het plan",
    "weggelaten",
    "niet in het plan",
    "toegevoegd",
)


def _question(q: dict) -> dict:
    return {
        "code": q["code"],
        "title": q.get("title", ""),
        "unit": q.get("unit", "family"),
        "expected_direction": q.get("expected_direction", "decrease"),
        "model": question_model(q),
        "primary": bool(q.get("primary", True)),
        "outcomes": [
            {
                "code": o["code"],
                "label": o.get("label", o["code"]),
                "kind": o.get("kind", "continuous"),
                "better": o.get("better", "decrease"),
                "primary": bool(o.get("primary", True)),
                # Declared by the outcome registry: what the outcome's data allow, its model.
                "design": designs.outcome_design(o["code"]),
                "model": designs.outcome_model(
                    o["code"], o.get("kind", "continuous"), question_model(q)
                ),
            }
            for o in q.get("outcomes") or []
        ],
    }


def plan_content(questions: list[dict], params: dict) -> dict:
    """The content of a plan from the study's active questions and the analysis parameters."""
    qs = [_question(q) for q in questions]
    outcomes = [o for q in qs for o in q["outcomes"]]
    return {
        "questions": qs,
        "primary_outcomes": sorted({o["code"] for o in outcomes if o["primary"]}),
        "secondary_outcomes": sorted({o["code"] for o in outcomes if not o["primary"]}),
        "covariates": list(params.get("covariates") or []),
        **_design(params),
        "inference": params.get("inference", "cr2"),
        "clustering": params.get("clustering", "family"),
        "multiplicity": multiplicity_of(params),
        "multiplicity_family": "all primary outcomes of the plan, counted before estimation; "
        "Benjamini-Hochberg across the secondary outcomes",
        "alpha": float(params.get("alpha", 0.05)),
        "draws": int(params.get("draws") or 0),
        "seed": params.get("seed"),
        "honest": honest_settings(params.get("honest")),
        "power": power_settings(params.get("power")),
        **({"planned_mde": params["planned_mde"]} if "planned_mde" in params else {}),
    }


def honest_settings(value: dict | None) -> dict:
    """The plan's HonestDiD settings, checked: ``restrictions`` (rm, sd), ``target`` (average
    of T1 ... T4 or first = T1), ``sd_method`` for Delta^SD (FLCI or C-LF). Raises ValueError."""
    out = {**HONEST_DEFAULTS, **(value or {})}
    restrictions = [r for r in HONEST_RESTRICTIONS if r in list(out["restrictions"] or [])]
    if not restrictions or len(restrictions) != len(set(out["restrictions"])):
        raise ValueError(f"HonestDiD restrictions: one or both of {', '.join(HONEST_RESTRICTIONS)}")
    if out["target"] not in HONEST_TARGETS:
        raise ValueError(f"HonestDiD target must be one of {', '.join(HONEST_TARGETS)}")
    if out["sd_method"] not in HONEST_SD_METHODS:
        raise ValueError(f"Delta^SD method must be one of {', '.join(HONEST_SD_METHODS)}")
    return {"restrictions": restrictions, "target": out["target"], "sd_method": out["sd_method"]}


def power_settings(value: dict | None) -> dict:
    """The planned MDE's settings, checked: ``power`` in (0.5, 0.99], ``rho`` None (estimated
    from the pre-intake years) or an assumed lag-1 correlation in [0, 0.95], ``reps`` 200 ...
    20000 simulated panels. Raises ValueError."""
    out = {**POWER_DEFAULTS, **(value or {})}
    power, rho, reps = float(out["power"]), out["rho"], int(out["reps"])
    if not 0.5 < power <= 0.99:
        raise ValueError("the target power must lie between 0.5 and 0.99")
    if rho is not None:
        rho = float(rho)
        if not 0.0 <= rho <= 0.95:
            raise ValueError("the assumed serial correlation must lie between 0 and 0.95")
    if not 200 <= reps <= 20000:
        raise ValueError("the simulated panels must number 200 to 20000")
    return {"power": power, "rho": rho, "reps": reps}


def _design(params: dict) -> dict:
    """``design``; a legacy plan's ``estimator`` is kept as it was while its design is calendar."""
    design = designs.design_from_params(params)
    out = {"design": design}
    if "design" not in params and params.get("estimator") in ("twfe",):
        out["estimator"] = params["estimator"]
    return out


def multiplicity_of(params: dict) -> str:
    """The plan's multiplicity method (an older plan's free text means Holm)."""
    method = params.get("multiplicity")
    return str(method) if method in designs.MULTIPLICITY else designs.DEFAULT_MULTIPLICITY


def content_hash(content: dict) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def plan_params(content: dict) -> dict:
    """The run parameters a plan fixes (the defaults of a run that follows it)."""
    return {k: content[k] for k in PLAN_PARAMS if k in content}


def deviations(content: dict, questions: list[dict], params: dict) -> list[dict]:
    """What a run used that differs from the plan: one row {what, planned, used} per difference."""
    rows: list[dict] = []
    for key in PLAN_PARAMS:
        if key in content and key in params and params[key] != content[key]:
            rows.append({"what": PARAM_NAMES[key], "planned": content[key], "used": params[key]})
    planned = {q["code"]: _question(q) for q in content.get("questions", [])}
    used = {q["code"]: _question(q) for q in questions}
    for code in sorted(planned.keys() - used.keys()):
        rows.append({"what": f"vraag {code}", "planned": IN_PLAN, "used": LEFT_OUT})
    for code in sorted(used.keys() - planned.keys()):
        rows.append({"what": f"vraag {code}", "planned": NOT_IN_PLAN, "used": ADDED})
    for code in sorted(planned.keys() & used.keys()):
        rows += _question_deviations(code, planned[code], used[code])
    return rows


def _question_deviations(code: str, p: dict, u: dict) -> list[dict]:
    rows: list[dict] = []
    for f, name in QUESTION_FIELDS.items():
        if p[f] != u[f]:
            rows.append({"what": f"vraag {code}: {name}", "planned": p[f], "used": u[f]})
    p_out = {o["code"]: o for o in p["outcomes"]}
    u_out = {o["code"]: o for o in u["outcomes"]}
    for oc in sorted(p_out.keys() - u_out.keys()):
        rows.append({"what": f"vraag {code}: uitkomst {oc}", "planned": IN_PLAN, "used": LEFT_OUT})
    for oc in sorted(u_out.keys() - p_out.keys()):
        rows.append({"what": f"vraag {code}: uitkomst {oc}", "planned": NOT_IN_PLAN, "used": ADDED})
    for oc in sorted(p_out.keys() & u_out.keys()):
        for f, name in OUTCOME_FIELDS.items():
            if p_out[oc][f] != u_out[oc][f]:
                what = f"vraag {code}: uitkomst {oc}, {name}"
                rows.append({"what": what, "planned": p_out[oc][f], "used": u_out[oc][f]})
    return rows
