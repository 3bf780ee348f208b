"""The statistician's checks (issue 14) of a run's primary aligned family outcomes (pure).

:func:`add_diagnostics` calls :func:`analysis.did.diagnostics.outcome_diagnostics` once per
PRIMARY family outcome answered with the aligned design and writes its parts into that outcome's
row (``honest``, ``ipw``, ``robustness``, ``mde_planned``, ``ci_width``); at run level it adds
``balance`` (standardised mean differences per variable and period, every registry outcome of
the panel) and names the multiplicity family and method in ``multiplicity``.

The MDE is computed at the alpha the outcome faces under the plan's multiplicity rule: Holm's
first (strictest) step alpha / m over the m primary outcomes of the plan, which is also
Bonferroni's, and the conservative bound used for Romano-Wolf.

Randomisation inference and the MDE simulation take their draws from the run's bootstrap
settings (``draws``; ``diagnostic_draws`` overrides, ``mde_reps`` the simulated panels).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from analysis.did.diagnostics import PARTS, outcome_diagnostics
from analysis.did.matching import household_balance, matching_diagnostics
from analysis.did.panel import json_safe
from analysis.effects import plan as plan_core
from analysis.effects.derive import REGISTRY_DERIVATIONS

#: Draws when the run has no bootstrap draws of its own (RI p-values need some).
DEFAULT_DRAWS = 999
#: Care outcomes the chronicity criterion of the eligibility rule forces to be present in T-2
#: and T-1: pre-intake differences between the arms are small by selection.
ELIGIBILITY_OUTCOMES = frozenset(
    {
        "parent_mental_health_care",
        "youth_care_ambulant",
        "child_youth_care",
        "child_protection",
        "repeated_care",
    }
)
ROW_PARTS = ("honest", "ipw", "robustness", "mde_planned", "ci_width")
T0_MODE = {"pre_period": "own", "t0_only": "baseline"}


def diagnostics_wanted(params: dict, default: bool = True) -> bool:
    """Whether a run computes the diagnostics: its ``diagnostics`` option, else ``default``."""
    value = params.get("diagnostics")
    return default if value is None else bool(value)


def diagnostic_draws(params: dict) -> tuple[int, int]:
    """(RI / wild draws, MDE simulated panels) of a run."""
    draws = int(params.get("diagnostic_draws") or params.get("draws") or 0) or DEFAULT_DRAWS
    reps = int(params.get("mde_reps") or 0) or max(draws, 200)
    return draws, reps


def mde_alpha(multiplicity: dict) -> float:
    """The alpha of the strictest step of the primary family: alpha / m."""
    alpha = float(multiplicity.get("alpha", 0.05))
    m = int((multiplicity.get("primary") or {}).get("m") or 1)
    return alpha / max(m, 1)


def _eligible(o: dict) -> bool:
    return (
        bool(o.get("primary"))
        and o.get("design") == "aligned"
        and o.get("outcome_design") in T0_MODE
        and o.get("model") in ("linear", "lpm", "ppml")
        and o.get("effect") is not None
    )


STRATUM = "allocation_stratum"
#: Randomised by permuted blocks: the block of the allocation log a family was allocated in
#: (its stratum and block number, one label).
ALLOCATION_BLOCK = "allocation_block"
#: Matched studies: the pair or set a family was matched in (Family.match_set).
BLOCK = "match_set"


def _frame(panel: pd.DataFrame, code: str) -> pd.DataFrame:
    extra = [c for c in (STRATUM, ALLOCATION_BLOCK, BLOCK) if c in panel]
    data = panel[["family_id", "year", "intake_year", "arm", code, *extra]].copy()
    data["arm01"] = (data["arm"] == "intervention").astype(float)
    return data.drop(columns="arm")


def outcome_parts(
    panel: pd.DataFrame,
    o: dict,
    *,
    alpha_mde: float,
    draws: int,
    reps: int,
    seed: int,
    parts: dict[str, bool] | None = None,
    randomised: bool = False,
    honest: dict | None = None,
    ri_note: str | None = None,
) -> dict[str, Any]:
    """outcome_diagnostics of one outcome row, called as the run calls it (randomisation
    inference within intake year x allocation block when the panel has ``ALLOCATION_BLOCK``,
    else within intake year x allocation stratum when it has ``STRATUM``, within intake year
    x matched pair when it has ``BLOCK``; HonestDiD as the plan's ``honest``)."""
    on = dict.fromkeys(PARTS, True) | {"balance": False} | dict(parts or {})
    frame = _frame(panel, o["code"])
    h = plan_core.honest_settings(honest)
    blocks = next((c for c in (ALLOCATION_BLOCK, BLOCK) if c in frame), None)
    return outcome_diagnostics(
        frame,
        strata=STRATUM if STRATUM in frame else None,
        blocks=blocks,
        randomised=randomised,
        ri_note=ri_note,
        honest_target=h["target"],
        honest_restrictions=h["restrictions"],
        sd_method=h["sd_method"],
        outcome=o["code"],
        model=o["model"],
        t0=T0_MODE[o["outcome_design"]],
        parts=on,
        draws=draws,
        seed=seed,
        mde_alpha=alpha_mde,
        mde_reps=reps,
        unit="family_id",
        time="year",
        arm="arm01",
        intake="intake_year",
    )


def run_balance(panel: pd.DataFrame, *, variables: list[str] | None = None) -> list[dict] | dict:
    """Balance rows of every registry outcome present in the panel (or ``variables``)."""
    names = variables or [c for c in REGISTRY_DERIVATIONS if c in panel and panel[c].notna().any()]
    if not names:
        return {"computed": False, "reason": "geen registeruitkomsten in het panel"}
    data = panel[["family_id", "year", "intake_year", "arm", *names]].copy()
    data["arm01"] = (data["arm"] == "intervention").astype(float)
    out = outcome_diagnostics(
        data.drop(columns="arm"),
        outcome=names[0],
        parts={p: p == "balance" for p in PARTS},
        balance_variables=names,
        unit="family_id",
        time="year",
        arm="arm01",
        intake="intake_year",
    )
    return out["balance"]


def pre_intake_levels(panel: pd.DataFrame, event: int = -1) -> pd.DataFrame:
    """Per family the registry outcomes at T``event`` (the balance after matching uses T-1)."""
    names = [c for c in REGISTRY_DERIVATIONS if c in panel and panel[c].notna().any()]
    at = panel.loc[panel["year"] - panel["intake_year"] == event, ["family_id", *names]]
    return at.drop_duplicates("family_id").rename(columns={n: f"{n} T{event}" for n in names})


PPML_LINES = {
    "cr1": "Poisson PML, CR1 (G - 1 df)",
    "cr2": "Poisson PML, CR2 (Bell-McCaffrey voor GLM, Satterthwaite df)",
    "score_bootstrap": "Poisson PML, wild score bootstrap (Kline-Santos), geclusterd per gezin",
}


def ppml_robustness(checks: dict) -> list[dict]:
    """The robustness lines of a Poisson PML outcome: its own CR1, CR2 and score bootstrap,
    each as the relative change exp(b) - 1 (the main effect's units)."""
    out = []
    for method, label in PPML_LINES.items():
        r = checks.get(method)
        if not r:
            continue
        out.append(
            {
                "line": label,
                "method": method,
                "estimate": r.get("effect"),
                "ci_low": r.get("effect_ci_low"),
                "ci_high": r.get("effect_ci_high"),
                "p_value": r.get("p_value"),
                **({"draws": r["draws"]} if "draws" in r else {}),
            }
        )
    return json_safe(out)


def _one_outcome(
    panel: pd.DataFrame,
    o: dict,
    kwargs: dict[str, Any],
    *,
    timings: dict[str, float] | None,
    parts: dict[str, bool] | None,
) -> None:
    """The parts of one primary aligned outcome into its row (timed part by part if asked)."""
    if isinstance(o.get("robustness"), dict):  # the fit's own inference methods, kept apart
        o["inference_checks"] = o.pop("robustness")
    o["eligibility_tied"] = (
        kwargs.pop("chronicity_rule", True) and o["code"] in ELIGIBILITY_OUTCOMES
    )
    planned = (kwargs.pop("planned_mde", None) or {}).get("outcomes", {}).get(o["code"])
    if planned is not None:
        # The plan's pre-registered MDE; the run does not simulate its own.
        o["mde_planned"] = {**planned, "source": "plan"}
        parts = {**(parts or {}), "mde_planned": False}
    if timings is None:
        got = outcome_parts(panel, o, parts=parts, **kwargs)
        o.update({p: json_safe(got[p]) for p in ROW_PARTS if p in got})
        if planned is None and isinstance(o.get("mde_planned"), dict):
            o["mde_planned"]["source"] = "run"
        _ppml_lines(o, parts)
        _conceal_blocks(o)
        return
    for part in ROW_PARTS:
        if parts is not None and not parts.get(part, True):
            continue
        started = time.perf_counter()
        got = outcome_parts(panel, o, parts={p: p == part for p in PARTS}, **kwargs)
        timings[part] = timings.get(part, 0.0) + time.perf_counter() - started
        o[part] = json_safe(got[part])
    if planned is None and isinstance(o.get("mde_planned"), dict):
        o["mde_planned"]["source"] = "run"
    _ppml_lines(o, parts)
    _conceal_blocks(o)


def _conceal_blocks(o: dict) -> None:
    """An RI line within allocation blocks keeps out how many cells there were and how many
    assignments an exact test enumerated: with the revealed sequence they would tell how many
    blocks were drawn, and so where the open block began (the allocation's concealment)."""
    for line in o.get("robustness") or []:
        if isinstance(line, dict) and line.get("within") == ALLOCATION_BLOCK:
            line.pop("cells", None)
            if line.get("exact"):
                line["draws"] = None


def _ppml_lines(o: dict, parts: dict[str, bool] | None) -> None:
    """A PPML outcome's robustness panel: its own inference lines (the linear panel is not
    run for it)."""
    if o.get("model") == "ppml" and (parts or {}).get("robustness", True):
        lines = ppml_robustness(o.get("inference_checks") or {})
        if lines:
            o["robustness"] = lines


def add_diagnostics(
    panel: pd.DataFrame,
    results: dict,
    *,
    params: dict,
    timings: dict[str, float] | None = None,
    parts: dict[str, bool] | None = None,
    progress: Callable[[str], None] | None = None,
    randomised: bool = False,
    chronicity_rule: bool = True,
    planned_mde: dict | None = None,
    families: pd.DataFrame | None = None,
    match_variables: str | None = None,
    candidates: pd.DataFrame | None = None,
    ri_note: str | None = None,
) -> dict:
    """Write the diagnostics into ``results`` (the run's answers) and return it.

    ``panel`` is the family-year panel of the run (derive.family_year_panel). Every outcome row
    gets ``primary``; each primary aligned family outcome gets the parts of ROW_PARTS and
    ``eligibility_tied`` (a care outcome under a rule with the chronicity criterion,
    ``chronicity_rule``). ``randomised``: the study allocated its arms at random (else the RI
    line is a permutation check); a column ``allocation_block`` in ``panel`` (stratum and block
    of the allocation log) makes RI permute within intake year x block, else a column
    ``allocation_stratum`` within intake year x stratum (``ri_note``: why not within blocks,
    e.g. minimisation), a column ``match_set`` (matched studies) within intake year x pair. ``planned_mde``: the plan's pre-registered
    MDEs (plan content ``planned_mde``): an outcome that has one shows it as ``mde_planned``
    (``source: plan``) instead of a simulation of the run (``source: run``). The HonestDiD
    settings come from ``params["honest"]`` (the plan's). ``families`` (the run's family
    frame: arm, intake_year, n_adult, n_child, and match_set in a matched study) adds the
    household characteristics to ``balance``; ``match_variables`` (not None: a matched study)
    adds ``matching``: how the sets were formed and the balance after matching of the household
    characteristics and the registry outcomes at T-1. ``timings`` (if given) collects
    seconds per part.
    """
    multiplicity = results.setdefault("multiplicity", {})
    method = (multiplicity.get("primary") or {}).get("method", "")
    multiplicity["family"] = "alle primaire uitkomsten van het plan, geteld vóór de schatting"
    multiplicity["method"] = method
    alpha_mde = mde_alpha(multiplicity)
    multiplicity["mde_alpha"] = alpha_mde
    draws, reps = diagnostic_draws(params)
    seed = int(params.get("seed") or 0)
    results["diagnostics"] = {
        "computed": True,
        "draws": draws,
        "mde_reps": reps,
        "mde_alpha": alpha_mde,
        "mde_alpha_rule": "alpha / m (eerste stap van Holm, gelijk aan Bonferroni)",
    }
    kwargs: dict[str, Any] = {
        "alpha_mde": alpha_mde,
        "draws": draws,
        "reps": reps,
        "seed": seed,
        "randomised": randomised,
        "honest": params.get("honest"),
        "ri_note": ri_note,
    }
    for q in results.get("questions", []):
        for o in q["outcomes"]:
            o["primary"] = bool(o.get("primary"))
            if _eligible(o):
                if progress:
                    progress(o["code"])
                _one_outcome(
                    panel,
                    o,
                    {**kwargs, "chronicity_rule": chronicity_rule, "planned_mde": planned_mde},
                    timings=timings,
                    parts=parts,
                )
    started = time.perf_counter()
    balance = run_balance(panel)
    if families is not None and isinstance(balance, list):
        balance = balance + household_balance(families)
    results["balance"] = json_safe(balance)
    if match_variables is not None and families is not None:
        results["matching"] = matching_diagnostics(
            families,
            match_variables=match_variables,
            outcomes=pre_intake_levels(panel),
            candidates=candidates,
        )
    if timings is not None:
        timings["balance"] = timings.get("balance", 0.0) + time.perf_counter() - started
    return results
