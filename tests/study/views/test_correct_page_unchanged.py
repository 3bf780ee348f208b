"""Speed work on the correction page must not change who may open it or what it shows:
`selectors.contact_get_with_rights` answers 404 exactly when `contact_get` does and gives
`access.family_rights`; `access.may_correct` given those rights answers as without them; and
`access.note_view` (one contact, rights already read) is `access.note_reader`'s answer, for every
kind of user and contact, before and after a hand-over and a notes grant, with the study's
research setting off and on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.http import Http404
from django.utils import timezone

from study import access, selectors
from study.models import Contact, Study
from study.roles import Role
from study.services import care
from study.services.contacts import contact_log
from study.services.studies import membership_grant
from tests.factories import make_family, make_member, make_user

pytestmark = pytest.mark.django_db


def _users(study, coach, other_coach, researcher, data_manager, gemeente_user):
    inactive = make_user(Role.RESEARCHER)
    membership_grant(study=study, user=inactive, role=Role.RESEARCHER)
    inactive.is_active = False
    inactive.save()
    admin = make_user(None)
    admin.is_superuser = True
    admin.save()
    outsider = make_user(Role.RESEARCHER)
    coordinator = make_member(study, Role.COORDINATOR)
    return [
        coach,
        other_coach,
        researcher,
        data_manager,
        gemeente_user,
        inactive,
        admin,
        outsider,
        coordinator,
    ]


def _contact(family, coach, *, private=False):
    return contact_log(
        family=family,
        coach=coach,
        occurred_at=datetime(2022, 5, 1, 10, tzinfo=UTC),
        kind=Contact.Kind.PHONE,
        duration_minutes=10,
        initiated_by=Contact.Initiator.COACH,
        note="gesprek",
        note_private=private,
    )


def _compare(users, pks):
    for user in users:
        for pk in pks:
            try:
                old = selectors.contact_get(user, pk)
            except Http404:
                with pytest.raises(Http404):
                    selectors.contact_get_with_rights(user, pk)
                continue
            contact, rights = selectors.contact_get_with_rights(user, pk)
            assert contact == old
            assert rights == access.family_rights(user, old.family)
            for right in (access.Right.CONTACT_LOG, access.Right.CARE_WRITE):
                for recorded_by_id in (None, contact.coach_id, user.pk):
                    kwargs = {"recorded_by_id": recorded_by_id, "right": right}
                    assert access.may_correct(
                        user, contact.family, rights=rights, **kwargs
                    ) == access.may_correct(user, contact.family, **kwargs)
            expected = access.note_reader(user)(old)
            assert access.note_view(user, contact, rights=rights) == expected, (user, pk)


def test_the_correction_page_s_reads_are_the_old_reads(
    study, family, other_family, coach, other_coach, researcher, data_manager, gemeente_user
):
    users = _users(study, coach, other_coach, researcher, data_manager, gemeente_user)
    contacts = [
        _contact(family, coach),
        _contact(family, coach, private=True),
        _contact(other_family, other_coach),
    ]
    deleted_family = make_family(study, user=researcher)
    care.caseload_assign(family=deleted_family, coach=coach, start_date=family.intake_date)
    gone = _contact(deleted_family, coach)
    deleted_family.is_deleted = True
    deleted_family.save()
    pks = [c.pk for c in contacts] + [gone.pk, 999999, "x"]
    _compare(users, pks)
    Study.objects.filter(pk=study.pk).update(contact_notes_for_research=True)
    _compare(users, pks)
    # After a hand-over to the other coach, with and without the coordinator's grant.
    coordinator = users[-1]
    care.caseloads_hand_over(
        families=[family], coach=other_coach, on=timezone.localdate(), user=coordinator
    )
    _compare(users, pks)
    care.notes_grant(family=family, coach=other_coach, reason="lopend", user=coordinator)
    _compare(users, pks)
    Study.objects.filter(pk=study.pk).update(contact_notes_for_research=False)
    _compare(users, pks)
