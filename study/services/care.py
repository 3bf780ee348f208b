"""Care around a family: wijkcoach caseloads and the care workers (hulpverleners) involved."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from study.models import CareInvolvement, CaseloadAssignment, Family
from study.roles import Role
from study.services.common import audited_save


def _coach_may_touch(*, user, family: Family) -> None:
    if not Family.objects.visible_to(user).filter(pk=family.pk).exists():
        raise PermissionDenied(_("No family with this id on your caseload."))


@transaction.atomic
def caseload_assign(*, family: Family, coach, start_date: date, user=None) -> CaseloadAssignment:
    if not coach.groups.filter(name=Role.WIJKCOACH).exists():
        raise ValidationError({"coach": _("Only a wijkcoach can have a caseload.")})
    assignment = CaseloadAssignment(family=family, coach=coach, start_date=start_date)
    audited_save(assignment, user=user, reason="caseload assigned")
    return assignment


@transaction.atomic
def caseload_end(
    *, assignment: CaseloadAssignment, end_date: date, user=None
) -> CaseloadAssignment:
    assignment.end_date = end_date
    audited_save(assignment, user=user, reason="caseload ended")
    return assignment


@transaction.atomic
def care_involvement_add(
    *,
    family: Family,
    organisation: str,
    discipline: str,
    start_date: date,
    end_date: date | None = None,
    user=None,
) -> CareInvolvement:
    _coach_may_touch(user=user, family=family)
    if end_date and end_date < start_date:
        raise ValidationError({"end_date": _("The end date lies before the start date.")})
    involvement = CareInvolvement(
        family=family,
        organisation=organisation,
        discipline=discipline,
        start_date=start_date,
        end_date=end_date,
        recorded_by=user,
    )
    audited_save(involvement, user=user, reason="care worker added")
    return involvement


@transaction.atomic
def care_involvement_end(
    *, involvement: CareInvolvement, end_date: date, user=None
) -> CareInvolvement:
    _coach_may_touch(user=user, family=involvement.family)
    if end_date < involvement.start_date:
        raise ValidationError({"end_date": _("The end date lies before the start date.")})
    involvement.end_date = end_date
    audited_save(involvement, user=user, reason="care worker ended")
    return involvement
