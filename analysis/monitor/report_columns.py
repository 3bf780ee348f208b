"""The baseline report's per-wijk table columns and the catalogue indicators behind each (pure)."""

from __future__ import annotations

from analysis.monitor.catalogue import Catalogue

ADULT_POLICE_CODES = [
    "adult_police_murder",
    "adult_police_sexual",
    "adult_police_property",
    "adult_police_assault",
    "adult_police_threat",
    "adult_police_vandalism",
    "adult_police_traffic",
    "adult_police_economic",
    "adult_police_drugs",
    "adult_police_other",
]

#: Report column -> (core domain, catalogue codes; a household counts when any code marks a
#: problem). Order and names follow almelo_wijken_2014.csv.
REPORT_COLUMNS: dict[str, tuple[int, list[str]]] = {
    "se_bijstand": (1, ["bijstand"]),
    "se_moves_2plus": (1, ["moves"]),
    "se_ww": (1, ["ww"]),
    "se_other_social_benefit": (1, ["other_benefit"]),
    "se_disability_benefit": (1, ["disability_benefit"]),
    "se_low_income": (1, ["low_income"]),
    "adult_basis_ggz": (2, ["adult_ggz_basic_eur"]),
    "adult_specialised_ggz": (2, ["adult_ggz_specialised_eur"]),
    "adult_police_suspect": (2, ADULT_POLICE_CODES),
    "child_youth_care_ambulant": (3, ["child_youth_care_ambulant"]),
    "child_youth_care_day_treatment": (3, ["child_youth_care_day_treatment"]),
    "child_youth_probation": (3, ["child_youth_probation"]),
    "child_youth_care_residential": (3, ["child_youth_care_residential_days"]),
    "child_basis_ggz": (3, ["child_ggz_basic_eur"]),
    "child_specialised_ggz": (3, ["child_ggz_specialised_eur"]),
    "child_guardianship": (3, ["child_guardianship"]),
    "child_foster_care": (3, ["child_foster_care_days"]),
    "child_supervision_order_ots": (3, ["child_ots"]),
    "child_police_suspect": (3, ["child_police_offences"]),
}

#: Report columns holding "any problem" per domain.
DOMAIN_COLUMNS = {
    1: "se_any_socio_economic",
    2: "adult_any_psychosocial_adult",
    3: "child_any_psychosocial_child",
}


def indicator_columns(catalogue: Catalogue) -> dict[str, tuple[int, list[str]]]:
    """The report's columns plus one column per classifying indicator the report did not show.

    A study may add indicators to the catalogue: they appear here under their own code.
    """
    covered = {code for _, codes in REPORT_COLUMNS.values() for code in codes}
    columns = {
        name: (d, [c for c in codes if c in catalogue.codes])
        for name, (d, codes) in REPORT_COLUMNS.items()
    }
    for indicator in catalogue.indicators:
        if indicator.mpg_domain is not None and indicator.code not in covered:
            columns[indicator.code] = (indicator.mpg_domain, [indicator.code])
    return {name: spec for name, spec in columns.items() if spec[1]}
