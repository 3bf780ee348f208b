"""The family's survey answers at a wave (T0 and later)."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from study.models import Source, Wave, WaveSurvey
from study.services.common import audited_save
from study.services.values import ConflictError, lock_wave, parse_version, wave_version

SURVEY_TEXT_FIELDS = ("qol_instrument",)
SURVEY_FIELDS = (*WaveSurvey.SCORE_FIELDS, *SURVEY_TEXT_FIELDS, "missing_codes")


def _normal(field: str, value: object) -> object:
    """An answer as stored: "" is no answer (NULL for numbers, "" for the text field)."""
    if field in SURVEY_TEXT_FIELDS:
        return "" if value is None else str(value)
    if field == "missing_codes":
        return dict(value or {})  # type: ignore[call-overload]
    return None if value == "" else value


def _same(field: str, a: object, b: object) -> bool:
    if field in WaveSurvey.SCORE_FIELDS and a is not None and b is not None:
        try:
            return float(a) == float(b)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
    return a == b


def survey_as_of(wave: Wave, history_id: int) -> dict[str, object]:
    """The wave's survey answers as they stood at a version (from its history)."""
    row = (
        WaveSurvey.history.filter(wave_id=wave.pk, history_id__lte=history_id)
        .order_by("-history_id")
        .values(*SURVEY_FIELDS, "is_deleted", "history_type")
        .first()
    )
    if row is None or row["is_deleted"] or row["history_type"] == "-":
        return {f: _normal(f, None) for f in SURVEY_FIELDS}
    return {f: _normal(f, row[f]) for f in SURVEY_FIELDS}


@transaction.atomic
def wave_survey_record(
    *,
    wave: Wave,
    data: Mapping[str, object],
    user=None,
    source: str = Source.MANUAL,
    base_version: str | None = None,
    reason: str = "",
) -> WaveSurvey:
    """Record (or change) a family's survey answers for a wave (T0 or later).

    Only answers that differ from the stored ones are written. With `base_version` (see
    `study.services.values.wave_version`) an answer someone else changed since that version is
    not overwritten: ConflictError. Holds the wave's row lock (one survey per wave, no race)."""
    lock_wave(wave)
    if wave.is_pre_intake:
        raise ValidationError(_("Surveys belong to T0 or later, not to pre-intake registry years."))
    unknown = set(data) - set(SURVEY_FIELDS)
    if unknown:
        raise ValidationError({f: _("Unknown survey field.") for f in sorted(unknown)})
    survey = WaveSurvey.objects.filter(wave=wave).first() or WaveSurvey(wave=wave)
    if survey.is_deleted:
        survey.is_deleted, survey.deleted_at, survey.deleted_reason = False, None, ""
    wanted = {f: _normal(f, v) for f, v in data.items()}
    changed = {f: v for f, v in wanted.items() if not _same(f, _normal(f, getattr(survey, f)), v)}
    base = parse_version(base_version)
    if base is not None and changed:
        before = survey_as_of(wave, base[1])
        conflicts = {
            f: {"theirs": _shown(getattr(survey, f)), "yours": _shown(v)}
            for f, v in changed.items()
            if not _same(f, before[f], _normal(f, getattr(survey, f)))
        }
        if conflicts:
            raise ConflictError(conflicts, wave_version(wave))
    if not changed and survey.pk is not None:
        return survey
    for field, value in changed.items():
        setattr(survey, field, value)
    survey.source = source
    audited_save(
        survey, user=user, reason=f"survey recorded: {reason}" if reason else "survey recorded"
    )
    return survey


def _shown(value: object) -> str:
    return "" if value is None else str(value)
