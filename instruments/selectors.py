"""The read side of instruments: versions a study may use, and administrations the user may read
(access through study.access only)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from instruments.legacy import AdministrationRow, survey_rows
from instruments.models import Administration, InstrumentVersion
from instruments.services import instruments_ensure_shipped
from study import access
from study.models import Family, Study, WaveSurvey


def instrument_version_list(*, study: Study | None = None) -> QuerySet[InstrumentVersion]:
    """The shipped versions and, with a study, the versions loaded for it."""
    instruments_ensure_shipped()
    scope = Q(study__isnull=True)
    if study is not None:
        scope |= Q(study=study)
    return InstrumentVersion.objects.filter(scope).order_by("code", "version")


def entry_versions(*, study: Study) -> list[InstrumentVersion]:
    """The newest version of each instrument a study may enter (older ones keep their data)."""
    newest: dict[str, InstrumentVersion] = {}
    for row in instrument_version_list(study=study):
        newest[row.code] = row
    return list(newest.values())


def administration_list(user, *, families: QuerySet[Family] | None = None):
    """The live administrations of the families the user may read instruments of."""
    visible = access.instrument_families(user)
    if families is not None:
        visible = visible.filter(pk__in=families.values("pk"))
    return (
        Administration.objects.alive()
        .filter(wave__family__in=visible)
        .select_related("instrument_version", "wave", "wave__family")
        .order_by("wave__family_id", "wave__index", "instrument_code")
    )


def wave_administration_list(wave) -> QuerySet[Administration]:
    """The live administrations of one wave, for a caller that has checked the user's right to
    enter instruments for its family (`Right.INSTRUMENT_ENTER`, which makes every one of them
    readable through `administration_list`): the same rows, without the access subqueries."""
    return (
        Administration.objects.alive()
        .filter(wave=wave)
        .select_related("instrument_version")
        .order_by("instrument_code")
    )


def administration_get(user, pk: int) -> Administration | None:
    return administration_list(user).filter(pk=pk).first()


def administration_rows(families: QuerySet[Family]) -> list[AdministrationRow]:
    """Every administration of these families (already access-checked by the caller): the
    stored ones and the wave survey's questions seen as one-item instruments."""
    stored = [
        AdministrationRow(
            wave_id=a["wave_id"],
            instrument=a["instrument_code"],
            version=a["instrument_version__version"],
            answers=a["answers"],
            missing_codes=a["missing_codes"],
            scores=a["scores"],
        )
        for a in Administration.objects.alive()
        .filter(wave__family__in=families)
        .values(
            "wave_id",
            "instrument_code",
            "instrument_version__version",
            "answers",
            "missing_codes",
            "scores",
        )
    ]
    survey_values = list(
        WaveSurvey.objects.alive()
        .filter(wave__family__in=families)
        .values(
            "wave_id",
            "satisfaction",
            "qol_rating",
            "reachability",
            "participation_step",
            "missing_codes",
        )
    )
    return stored + survey_rows(survey_values)
