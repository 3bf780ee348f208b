"""The wave survey's single questions read as one-item instruments, so nothing recorded before
the instruments existed is lost (and nothing is copied).

Decision: a view, not a data migration. `WaveSurvey` stays the one record of these answers (its
page, API, imports and version checks write it); copying them into administrations would make a
second copy that drifts from the first at the next correction. Exports, the API and the
family's pages read them here as administrations of the shipped one-item versions, marked
`origin="wave_survey"`. The survey's free `qol_instrument`/`qol_score` pair stays a survey
column: a free text name and a number are not an instrument definition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from instruments.library import shipped_definition
from instruments.scoring import score_all

#: WaveSurvey field -> (instrument code, version, item code) of its one-item instrument.
SURVEY_ITEMS: dict[str, tuple[str, int, str]] = {
    "satisfaction": ("survey_satisfaction", 1, "satisfaction"),
    "qol_rating": ("survey_qol_rating", 1, "qol_rating"),
    "reachability": ("survey_reachability", 1, "reachability"),
    "participation_step": ("participatieladder", 1, "step"),
}


@dataclass(frozen=True)
class AdministrationRow:
    """An administration as exports and the API read it, stored or seen through the survey."""

    wave_id: int
    instrument: str
    version: int
    answers: Mapping[str, int]
    missing_codes: Mapping[str, str]
    scores: Mapping[str, float | None]
    origin: str = "administration"  # administration | wave_survey
    extra: Mapping[str, object] = field(default_factory=dict)


def survey_rows(surveys: Iterable[Mapping[str, object]]) -> list[AdministrationRow]:
    """One-item administrations from WaveSurvey rows (`values()` with wave_id, the four fields
    and missing_codes); a question neither answered nor coded is no administration."""
    rows = []
    # A one-item instrument has few answers (0-10): each is scored once per call, not per row
    # (every row gets its own copy of the scores).
    scored: dict[tuple[str, int | None], dict[str, float | None]] = {}
    for survey in surveys:
        codes = survey.get("missing_codes") or {}
        for fld, (code, version, item) in SURVEY_ITEMS.items():
            value, missing = survey.get(fld), codes.get(fld, "")  # type: ignore[attr-defined]
            if value is None and not missing:
                continue
            number = None if value is None else int(value)  # type: ignore[call-overload]
            answers = {} if number is None else {item: number}
            key = (fld, number)
            if key not in scored:
                scored[key] = score_all(shipped_definition(code, version), answers)
            rows.append(
                AdministrationRow(
                    wave_id=int(survey["wave_id"]),  # type: ignore[call-overload]
                    instrument=code,
                    version=version,
                    answers=answers,
                    missing_codes={item: missing} if missing else {},
                    scores=dict(scored[key]),
                    origin="wave_survey",
                )
            )
    return rows
