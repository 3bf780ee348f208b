"""Studies and who works on them: creating a study with its two arms, granting memberships."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from study.models import Arm, Study, StudyMembership
from study.services.common import audited_save


@transaction.atomic
def study_create(*, name: str, municipality: str, start_date: date, user=None, **options) -> Study:
    """A new study with its two arms (intervention and care as usual)."""
    study = Study(name=name, municipality=municipality, start_date=start_date, **options)
    audited_save(study, user=user, reason="study created")
    for kind in Arm.Kind:
        arm = Arm(study=study, kind=kind)
        audited_save(arm, user=user, reason="study created")
    return study


@transaction.atomic
def membership_grant(*, study: Study, user, role: str, granted_by=None) -> StudyMembership:
    """Give a user a role in a study (what the role may do: `study.access`)."""
    membership = StudyMembership.objects.filter(study=study, user=user, role=role).first()
    if membership is None:
        membership = StudyMembership(study=study, user=user, role=role, active=True)
        audited_save(membership, user=granted_by, reason="membership granted")
    elif not membership.active:
        membership.active = True
        audited_save(membership, user=granted_by, reason="membership re-activated")
    return membership


@transaction.atomic
def membership_end(*, membership: StudyMembership, ended_by=None, reason: str = "") -> None:
    """Take a role in a study away (the row stays, inactive, with its history)."""
    if membership.active:
        membership.active = False
        audited_save(membership, user=ended_by, reason=f"membership ended: {reason}".strip(": "))
