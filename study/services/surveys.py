"""The family's survey answers at a wave (T0 and later)."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from study.models import Source, Wave, WaveSurvey
from study.services.common import audited_save, ensure_unlocked


@transaction.atomic
def wave_survey_record(
    *, wave: Wave, data: Mapping[str, object], user=None, source: str = Source.MANUAL
) -> WaveSurvey:
    """Record (or change) a family's survey answers for a wave (T0 or later)."""
    ensure_unlocked(wave)
    if wave.is_pre_intake:
        raise ValidationError(_("Surveys belong to T0 or later, not to pre-intake registry years."))
    survey = WaveSurvey.objects.filter(wave=wave).first() or WaveSurvey(wave=wave)
    allowed = set(WaveSurvey.SCORE_FIELDS) | {"qol_instrument", "missing_codes"}
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError({f: _("Unknown survey field.") for f in sorted(unknown)})
    for field, value in data.items():
        setattr(survey, field, None if value == "" else value)
    survey.source = source
    audited_save(survey, user=user, reason="survey recorded")
    return survey
