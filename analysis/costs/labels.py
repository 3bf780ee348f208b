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


#: The baseline catalogue's items (cost_catalogue_2014.csv), by code: a short name for pages.
#: A catalogue version someone typed keeps its own description (shown as typed).
ITEM_LABELS = {
    "ww_benefit": _("Unemployment benefit (WW)"),
    "ww_admin": _("Administration of WW benefit (UWV)"),
    "bijstand_benefit": _("Social assistance (bijstand), couple"),
    "bijstand_admin": _("Administration of social assistance per client"),
    "disability_benefit": _("Sickness or disability benefit (ZW/WAO/WIA/Waz)"),
    "disability_admin": _("Administration of disability benefit (UWV)"),
    "other_benefit": _("Other social provision (IOAW/IOAZ/Bbz/Wajong)"),
    "other_benefit_admin": _("Administration of other social provision (UWV)"),
    "low_income": _("Municipal poverty policy incl. special assistance"),
    "crime_murder": _("Police suspect: murder or manslaughter"),
    "crime_sexual": _("Police suspect: sexual offence"),
    "crime_property": _("Police suspect: property offence"),
    "crime_assault": _("Police suspect: assault"),
    "crime_threat": _("Police suspect: threat"),
    "crime_vandalism_public_order": _("Police suspect: vandalism or public order"),
    "crime_traffic": _("Police suspect: road traffic offence"),
    "crime_economic": _("Police suspect: economic offence"),
    "crime_drugs": _("Police suspect: opium act offence"),
    "crime_other": _("Police suspect: other offence"),
    "awbz_psychosocial": _("AWBZ/Wlz indication, psychosocial"),
    "awbz_intellectual": _("AWBZ/Wlz indication, intellectual disability"),
    "awbz_physical": _("AWBZ/Wlz indication, physical"),
    "ggz_basic": _("Basic mental health care (basis-GGZ)"),
    "ggz_specialised": _("Specialised mental health care (specialistische GGZ)"),
    "youth_probation": _("Youth probation (jeugdreclassering)"),
    "youth_care_ambulant": _("Ambulant youth care trajectory"),
    "youth_care_day_treatment": _("Youth care day treatment"),
    "youth_care_residential": _("Residential youth care (24 hours)"),
    "supervision_order_ots": _("Family supervision order (OTS)"),
    "foster_care_allowance": _("Foster care allowance"),
    "foster_care_guidance": _("Foster care guidance"),
    "guardianship": _("Guardianship (voogdij)"),
}


def item_label(code: str, description: str = "") -> str:
    """A price item's name in the reader's language: the baseline catalogue's items by code,
    any other item by its own description (or its code when it has none)."""
    if code in ITEM_LABELS:
        return str(ITEM_LABELS[code])
    return description or code


def indicator_labels(codes: str) -> str:
    """ "ggz_basic, jeugdhulp_ambulant" (as the engine names missing indicators) in words, in
    the reader's language, from the indicator catalogue."""
    from django.utils.translation import get_language

    from study.catalogue import catalogue_specs

    dutch = (get_language() or "nl").startswith("nl")
    names = {spec.code: spec.label_nl if dutch else spec.label_en for spec in catalogue_specs()}
    return ", ".join(
        names.get(code.strip(), code.strip()) for code in codes.split(",") if code.strip()
    )


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
