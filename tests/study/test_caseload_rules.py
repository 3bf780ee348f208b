"""The caseload rule asked two ways (a queryset for lists, one EXISTS for contact logging) gives
the same answer in every case."""

from datetime import date

import pytest

from study import selectors
from study.models import CaseloadAssignment, Family
from study.roles import Role
from study.services.care import caseload_assign
from study.services.families import family_soft_delete
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
    both.groups.add(*researcher.groups.all())
    families = [own, ended, future, deleted, theirs]
    for user in (coach, other_coach, researcher, both, make_user(Role.GEMEENTE)):
        listed = set(Family.objects.on_caseload_of(user).values_list("pk", flat=True))
        asked = {f.pk for f in families if selectors.caseload_has(user, f.pk)}
        assert listed == asked, user
    assert selectors.caseload_has(coach, own.pk)
    assert not selectors.caseload_has(coach, 999_999)
    assert {f.pk for f in families if selectors.caseload_has(coach, f.pk)} == {own.pk}
