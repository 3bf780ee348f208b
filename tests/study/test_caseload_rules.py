"""The caseload rule asked two ways (a queryset for lists, one EXISTS for contact logging) gives
the same answer in every case, and holds only in studies where the coach is an active wijkcoach
member."""

from datetime import date

import pytest

from study import access
from study.models import CaseloadAssignment, StudyMembership
from study.roles import Role
from study.services.care import caseload_assign
from study.services.families import family_soft_delete
from study.services.studies import membership_grant
from tests.factories import make_family, make_user

pytestmark = pytest.mark.django_db


def test_caseload_has_agrees_with_on_caseload_of(study, researcher, coach, other_coach):
    own = make_family(study, user=researcher)
    caseload_assign(family=own, coach=coach, start_date=date(2021, 3, 1))
    ended = make_family(study, user=researcher)
    caseload_assign(family=ended, coach=coach, start_date=date(2021, 3, 1))
    CaseloadAssignment.objects.filter(family=ended).update(end_date=date(2022, 1, 1))
    future = make_family(study, user=researcher)
    caseload_assign(family=future, coach=coach, start_date=date(2099, 1, 1))
    deleted = make_family(study, user=researcher)
    caseload_assign(family=deleted, coach=coach, start_date=date(2021, 3, 1))
    family_soft_delete(family=deleted, reason="test", user=researcher)
    theirs = make_family(study, user=researcher)
    caseload_assign(family=theirs, coach=other_coach, start_date=date(2021, 3, 1))
    both = make_user(Role.WIJKCOACH)
    membership_grant(study=study, user=both, role=Role.RESEARCHER)
    caseload_assign(family=theirs, coach=both, start_date=date(2021, 3, 1))
    ended_member = make_user(Role.WIJKCOACH)
    caseload_assign(family=own, coach=ended_member, start_date=date(2021, 3, 1))
    StudyMembership.objects.filter(user=ended_member).update(active=False)
    families = [own, ended, future, deleted, theirs]
    users = (coach, other_coach, researcher, both, ended_member, make_user(Role.GEMEENTE))
    for user in users:
        listed = set(access.caseload_families(user).values_list("pk", flat=True))
        asked = {f.pk for f in families if access.on_caseload(user, f.pk)}
        assert listed == asked, user
    assert access.on_caseload(coach, own.pk)
    assert not access.on_caseload(coach, 999_999)
    assert {f.pk for f in families if access.on_caseload(coach, f.pk)} == {own.pk}
    assert {f.pk for f in families if access.on_caseload(both, f.pk)} == {theirs.pk}
    assert not access.caseload_families(ended_member).exists()
