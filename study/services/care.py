"""Care around a family: wijkcoach caseloads and the care workers (hulpverleners) involved."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from study import access
from study.models import CareInvolvement, CaseloadAssignment, Family, StudyMembership
from study.roles import Role
from study.services.common import audited_save


def _coach_may_touch(*, user, family: Family) -> None:
    if not access.family_has_right(user, family, access.Right.CARE_WRITE):
        raise PermissionDenied(_("No family with this id on your caseload."))


def _ensure_coach_membership(*, family: Family, coach, user) -> None:
    """A caseload makes its coach a wijkcoach of the family's study: the membership is granted
    (audited) when the coach has none; an ended membership is not revived by a caseload."""
    membership = StudyMembership.objects.filter(
        study_id=family.study_id, user=coach, role=Role.WIJKCOACH
    ).first()
    if membership is None:
        membership = StudyMembership(study_id=family.study_id, user=coach, role=Role.WIJKCOACH)
        audited_save(membership, user=user, reason="wijkcoach membership with a caseload")
    elif not membership.active:
        raise ValidationError(
            {"coach": _("This coach's membership of the study has ended: grant it again first.")}
        )


@transaction.atomic
def caseload_assign(*, family: Family, coach, start_date: date, user=None) -> CaseloadAssignment:
    if not coach.is_active:
        raise ValidationError({"coach": _("Only an active user can have a caseload.")})
    _ensure_coach_membership(family=family, coach=coach, user=user)
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
