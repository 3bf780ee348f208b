"""Professionals of a study: registering and deactivating them, and their yearly surveys
(recording a year again changes that year's survey)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from study import access
from study.models import Professional, ProfessionalSurvey, Study
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


def _require(user, study: Study) -> None:
    if not access.has_right(user, study, access.Right.RESEARCH_WRITE):
        raise PermissionDenied(
            _("Only the study's researchers and data managers register professionals.")
        )


@transaction.atomic
def professional_register(
    *, study: Study, organisation: str, approach: str, user, account=None
) -> Professional:
    """A professional of the study (a pseudonymous code; `account`: their own login, for the
    yearly survey)."""
    _require(user, study)
    if not organisation.strip():
        raise ValidationError({"organisation": _("Give the organisation.")})
    professional = Professional(
        study=study, organisation=organisation.strip(), approach=approach, user=account
    )
    audited_save(professional, user=user, reason="professional registered")
    return professional


@transaction.atomic
def professional_deactivate(
    *, professional: Professional, on: date, reason: str, user
) -> Professional:
    """The professional stops in the study (their surveys stay)."""
    _require(user, professional.study)
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason.")})
    professional.active, professional.ended_on = False, on
    audited_save(professional, user=user, reason=f"professional deactivated: {reason.strip()}")
    return professional
