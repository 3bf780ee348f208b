"""The planned MDE of a plan being frozen: the study's design and pre-intake data as frames,
the simulation in analysis/effects/planned_mde.py."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from django.conf import settings as django_settings

from analysis.effects import derive, planned_mde
from study import panels
from study.models import Family, Study


def _frames(study: Study) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(families with arm01 and intake_year, family-year rows up to each family's T0)."""
    families = Family.objects.alive().filter(study=study)
    fam = panels.family_frame(families)
    if fam.empty:
        return pd.DataFrame(columns=["family_id", "arm01", "intake_year"]), pd.DataFrame()
    panel = derive.family_year_panel(
        fam,
        panels.indicator_wide_frame(families),
        panels.survey_frame(families),
        panels.involvement_frame(families),
        panels.contact_frame(families),
    )
    panel = panel.loc[panel["year"] <= panel["intake_year"]].copy()  # never post-intake data
    panel["arm01"] = (panel["arm"] == "intervention").astype(float)
    enrolled = fam[["family_id", "intake_year"]].assign(
        arm01=(fam["arm"] == "intervention").astype(float)
    )
    return enrolled, panel


def _planned_numbers(study: Study) -> tuple[int, int]:
    if study.enrolment_target:
        half = int(study.enrolment_target) // 2
        return half, int(study.enrolment_target) - half
    n_int = int(study.intervention_cap)
    return n_int, int(study.comparison_cap or n_int)


def _kept(previous: dict | None, recompute: bool) -> dict:
    return {} if previous is None or recompute else dict(previous.get("planned_mde") or {})


def simulation_needed(
    *, content: dict, previous: dict | None = None, recompute: bool = False
) -> bool:
    """Whether :func:`with_planned_mde` simulates (seconds per outcome) or only carries the
    earlier version's MDEs over (at once): the freeze request uses it to refuse a revision that
    changes nothing before any job is queued."""
    if content.get("design") == "calendar":
        return False
    kept = _kept(previous, recompute)
    return not kept or bool(planned_mde.simulated_codes(content) - set(kept.get("outcomes") or {}))


def with_planned_mde(
    *,
    study: Study,
    content: dict,
    previous: dict | None = None,
    recompute: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict:
    """``content`` with ``planned_mde``: computed at the first freeze; a revision keeps the
    earlier version's values (pre-registered), computing only primary outcomes it lacks, and
    all of them again only when the revision changes the power settings (``recompute``).
    ``progress(done, total, code)``: before each simulated outcome (analysis/effects/planned_mde)."""
    kept = _kept(previous, recompute)
    kept_outcomes = dict(kept.get("outcomes") or {})
    primary = set(content.get("primary_outcomes") or [])
    # Only outcomes the simulation covers count as missing (a professional outcome never has one).
    missing = planned_mde.simulated_codes(content) - set(kept_outcomes)
    if content.get("design") == "calendar":
        return {
            **content,
            "planned_mde": {
                "computed": False,
                "reason": "het plan volgt het kalenderontwerp; het MDE is gesimuleerd voor het "
                "ontwerp op intake",
            },
        }
    if kept and not missing:
        kept_outcomes = {c: v for c, v in kept_outcomes.items() if c in primary}
        return {**content, "planned_mde": {**kept, "outcomes": kept_outcomes}}
    enrolled, observed = _frames(study)
    n_int, n_cmp = _planned_numbers(study)
    families, source = planned_mde.planned_families(
        enrolled, n_intervention=n_int, n_comparison=n_cmp, start_year=study.start_date.year
    )
    fresh = planned_mde.planned_mde(
        content,
        families=families,
        observed=observed,
        pre_years=study.pre_intake_years,
        waves=study.n_waves,
        design_source=source,
        only=missing if kept else None,
        default_reps=django_settings.PLANNED_MDE_REPS,
        progress=progress,
    )
    if kept:
        fresh = {**kept, "outcomes": {**kept_outcomes, **fresh["outcomes"]}}
        fresh["outcomes"] = {c: v for c, v in fresh["outcomes"].items() if c in primary}
    return {**content, "planned_mde": fresh}
