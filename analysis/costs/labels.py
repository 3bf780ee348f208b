"""Words for the cost model's codes on pages (issue 20): domains, units and the sensitivity
scenarios, from one place. The engine stays pure (codes only); the pages translate here."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from analysis.costs.models import Unit

DOMAIN_LABELS = {
    "child": _("child"),
    "psychosocial": _("psychosocial"),
    "socio_economic": _("socio-economic"),
}

#: The baseline report's sensitivity scenarios (analysis/costs/scenarios.py), by code.
SCENARIO_LABELS = {
    "ww_minimum_wage": (
        _("WW on minimum wage"),
        _("WW benefit at 70% of the minimum wage: 13,624 (2015) instead of 24,850."),
    ),
    "disability_alternative": (
        _("Alternative disability benefit"),
        _("Sickness/disability benefit 14,440.80 instead of 13,295."),
    ),
    "other_benefit_alternative": (
        _("Alternative other provision"),
        _("Other social provision 11,951.12 instead of 14,900."),
    ),
    "crime_with_suffering": (
        _("Crime including suffering"),
        _("Crime items scaled by 1,811,180.67 / 1,001,975.62 (production loss and suffering)."),
    ),
    "youth_care_1_3_trajectories": (
        _("1.3 youth-care trajectories per person"),
        _("Ambulant and day-treatment volumes divided by 1.3."),
    ),
}


def domain_label(code: str) -> str:
    return str(DOMAIN_LABELS.get(code, code))


def unit_label(code: str) -> str:
    return str(dict(Unit.choices).get(code, code))


def scenario_name(code: str, default: str = "") -> str:
    return str(SCENARIO_LABELS[code][0]) if code in SCENARIO_LABELS else default or code


def scenario_description(code: str, default: str = "") -> str:
    return str(SCENARIO_LABELS[code][1]) if code in SCENARIO_LABELS else default


#: Notes the migrations seeded (analysis/costs/migrations/0002): shown in the reader's language;
#: a note someone typed is shown as typed.
SEEDED_NOTES = {
    "The baseline report's catalogue (cost_catalogue_2014.csv).": _(
        "The baseline report's catalogue (NJi 2016, prices of 2014)."
    ),
}


def catalogue_note(note: str) -> str:
    return str(SEEDED_NOTES.get(note, note))
