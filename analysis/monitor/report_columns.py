"""The baseline report's per-wijk table columns and the catalogue indicators behind each (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from analysis.monitor.catalogue import Catalogue


@dataclass(frozen=True)
class Group:
    """A report column counting every catalogue code of a group at one level (see the catalogue's
    ``group`` column): an indicator added to the group joins the column."""

    name: str
    level: str


#: Report column -> (core domain, its catalogue codes or the catalogue group whose codes it
#: counts); a household counts when any code marks a problem. Order and names follow
#: almelo_wijken_2014.csv.
REPORT_COLUMNS: dict[str, tuple[int, tuple[str, ...] | Group]] = {
    "se_bijstand": (1, ("bijstand",)),
    "se_moves_2plus": (1, ("moves",)),
    "se_ww": (1, ("ww",)),
    "se_other_social_benefit": (1, ("other_benefit",)),
    "se_disability_benefit": (1, ("disability_benefit",)),
    "se_low_income": (1, ("low_income",)),
    "adult_basis_ggz": (2, ("adult_ggz_basic_eur",)),
    "adult_specialised_ggz": (2, ("adult_ggz_specialised_eur",)),
    "adult_police_suspect": (2, Group("police", "adult")),
    "child_youth_care_ambulant": (3, ("child_youth_care_ambulant",)),
    "child_youth_care_day_treatment": (3, ("child_youth_care_day_treatment",)),
    "child_youth_probation": (3, ("child_youth_probation",)),
    "child_youth_care_residential": (3, ("child_youth_care_residential_days",)),
    "child_basis_ggz": (3, ("child_ggz_basic_eur",)),
    "child_specialised_ggz": (3, ("child_ggz_specialised_eur",)),
    "child_guardianship": (3, ("child_guardianship",)),
    "child_foster_care": (3, ("child_foster_care_days",)),
    "child_supervision_order_ots": (3, ("child_ots",)),
    "child_police_suspect": (3, Group("police", "child")),
}

#: Report columns holding "any problem" per domain.
DOMAIN_COLUMNS = {
    1: "se_any_socio_economic",
    2: "adult_any_psychosocial_adult",
    3: "child_any_psychosocial_child",
}


def column_codes(catalogue: Catalogue, column: str) -> list[str]:
    """The catalogue codes a report column counts (none when the catalogue lacks them)."""
    source = REPORT_COLUMNS[column][1]
    if isinstance(source, Group):
        try:
            return catalogue.codes_in_group(source.name, source.level)
        except KeyError:
            return []
    return [code for code in source if code in catalogue.codes]


def indicator_columns(catalogue: Catalogue) -> dict[str, tuple[int, list[str]]]:
    """The report's columns plus one column per classifying indicator the report did not show.

    A study may add indicators to the catalogue: they appear here under their own code, or in
    the column of their group.
    """
    columns = {
        name: (domain, column_codes(catalogue, name))
        for name, (domain, _) in REPORT_COLUMNS.items()
    }
    covered = {code for _, codes in columns.values() for code in codes}
    for indicator in catalogue.indicators:
        if indicator.mpg_domain is not None and indicator.code not in covered:
            columns[indicator.code] = (indicator.mpg_domain, [indicator.code])
    return {name: spec for name, spec in columns.items() if spec[1]}
