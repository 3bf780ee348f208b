"""Professionals' yearly surveys (recording a year again changes that year's survey)."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from study.models import Professional, ProfessionalSurvey
from study.services.common import audited_save


@transaction.atomic
def professional_survey_record(
    *, professional: Professional, year: int, answers: Mapping[str, int | None], user=None
) -> ProfessionalSurvey:
    unknown = set(answers) - set(ProfessionalSurvey.SCALES)
    if unknown:
        raise ValidationError({f: _("Unknown survey field.") for f in sorted(unknown)})
    survey = ProfessionalSurvey.objects.alive().filter(
        professional=professional, year=year
    ).first() or ProfessionalSurvey(professional=professional, year=year)
    for field, value in answers.items():
        setattr(survey, field, value)
    audited_save(survey, user=user, reason="professional survey recorded")
    return survey
