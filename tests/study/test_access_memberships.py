"""The user's memberships are read once per request (study.access._memberships) and read again
after any change of a membership; the one-family check answers as the family set does."""

from datetime import date, timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from study import access, selectors
from study.access import Right
from study.models import CareInvolvement, Contact, Family, StudyMembership, Wave
from study.roles import Role
from study.services.api_keys import api_key_issue
from study.services.care import care_involvement_add, caseload_assign, caseload_end
from study.services.contacts import contact_log
from study.services.families import family_soft_delete
from study.services.studies import membership_end, membership_grant
from tests.factories import make_family, make_study, make_user


def test_rights_are_read_once_per_user_object(django_assert_num_queries, researcher, study):
    access.has_right(researcher, study, Right.RESEARCH_READ)  # reads the memberships
    with django_assert_num_queries(0):
        assert access.has_right(researcher, study, Right.ANALYSE)
        assert access.study_rights(researcher, study) >= {Right.PLAN_EDIT}
        assert access.study_roles(researcher, study) == {Role.RESEARCHER}
        assert access.roles_held(researcher) == {Role.RESEARCHER}
        assert not access.has_right(researcher, study, Right.WAVE_UNLOCK)


def test_a_granted_role_counts_at_once_on_the_same_user_object(study):
    user = make_user(None)
    assert not access.has_right(user, study, Right.RESEARCH_READ)
    membership_grant(study=study, user=user, role=Role.DATA_MANAGER)
    assert access.has_right(user, study, Right.WAVE_UNLOCK)
    assert access.roles_held(user) == {Role.DATA_MANAGER}


def test_an_ended_role_stops_at_once_by_service_save_update_and_delete(study, family):
    user = make_user(None)
    membership = membership_grant(study=study, user=user, role=Role.RESEARCHER)
    assert access.family_has_right(user, family, Right.RESEARCH_READ)
    membership_end(membership=membership, reason="left the project")
    assert not access.family_has_right(user, family, Right.RESEARCH_READ)
    assert not access.has_right(user, study, Right.VIEW_STUDY)

    StudyMembership.objects.filter(pk=membership.pk).update(active=True)  # no save signal
    assert access.has_right(user, study, Right.RESEARCH_READ)
    StudyMembership.objects.filter(pk=membership.pk).delete()
    assert not access.has_right(user, study, Right.RESEARCH_READ)
    StudyMembership.objects.bulk_create(
        [StudyMembership(study=study, user=user, role=Role.GEMEENTE, active=True)]
    )
    assert access.study_roles(user, study) == {Role.GEMEENTE}
    membership = StudyMembership.objects.get(user=user)
    membership.role = Role.COORDINATOR
    membership.save()
    assert access.has_right(user, study, Right.CASELOAD_MANAGE)


def _users_of_every_kind(study, other_study):
    researcher = make_user(None)
    membership_grant(study=study, user=researcher, role=Role.RESEARCHER)
    coach = make_user(None)
    membership_grant(study=study, user=coach, role=Role.WIJKCOACH)
    both = make_user(None)  # researcher of the other study, coach in this one
    membership_grant(study=study, user=both, role=Role.WIJKCOACH)
    membership_grant(study=other_study, user=both, role=Role.RESEARCHER)
    ended_coach = make_user(None)
    ended = membership_grant(study=study, user=ended_coach, role=Role.WIJKCOACH)
    coordinator = make_user(None)
    membership_grant(study=study, user=coordinator, role=Role.COORDINATOR)
    admin = make_user(None)
    admin.is_superuser = True
    admin.save()
    stranger = make_user(None)
    return {
        "researcher": researcher,
        "coach": coach,
        "both": both,
        "ended_coach": ended_coach,
        "coordinator": coordinator,
        "admin": admin,
        "stranger": stranger,
    }, ended


@pytest.fixture
def world(researcher):
    """Users of every kind and families in every state a check can meet."""
    study, other_study = make_study(), make_study()
    users, ended = _users_of_every_kind(study, other_study)
    on_caseload, off_caseload, gone = (make_family(study) for _ in range(3))
    former = make_family(study)
    foreign = make_family(other_study)
    for coach in (users["coach"], users["both"], users["ended_coach"]):
        caseload_assign(family=on_caseload, coach=coach, start_date=date(2021, 3, 1))
        caseload_assign(family=gone, coach=coach, start_date=date(2021, 3, 1))
    assignment = caseload_assign(family=former, coach=users["coach"], start_date=date(2021, 3, 1))
    caseload_end(assignment=assignment, end_date=date(2022, 1, 1))
    membership_grant(study=study, user=researcher, role=Role.DATA_MANAGER)
    membership_grant(study=other_study, user=researcher, role=Role.DATA_MANAGER)
    families = [on_caseload, off_caseload, gone, former, foreign]
    scribe = make_user(None)  # a coach of every family, who logs one contact with each
    for family in families:
        caseload_assign(family=family, coach=scribe, start_date=date(2021, 3, 1))
        contact_log(
            family=family,
            coach=scribe,
            occurred_at=timezone.now() - timedelta(hours=1),
            kind="phone",
            duration_minutes=15,
            initiated_by="coach",
        )
        care_involvement_add(
            family=family,
            organisation="Wijkteam",
            discipline="Maatschappelijk werk",
            organisation_other=True,
            discipline_other=True,
            start_date=date(2021, 4, 1),
            user=researcher,
        )
    family_soft_delete(family=gone, user=researcher, reason="enrolled twice")
    membership_end(membership=ended, reason="moved")
    key, _secret = api_key_issue(
        study=study,
        name="registry",
        scopes=["families:read", "research:read", "caseloads:write"],
        days=30,
        user=researcher,
        second_factor=True,
    )
    service = key.service_user
    service._api_key = key
    users["service"] = service
    return users, families


@pytest.mark.parametrize("right", list(Right))
def test_one_family_check_answers_as_the_family_set(right, world):
    users, families = world
    for name, user in users.items():
        allowed = set(access.families_with(user, right).values_list("pk", flat=True))
        for family in families:
            fresh = Family.objects.get(pk=family.pk)
            expected = family.pk in allowed
            assert access.family_has_right(user, fresh, right) == expected, (name, family.pk)
            assert access.family_has_right(user, family.pk, right) == expected, (name, family.pk)


def test_one_record_lookups_open_exactly_the_visible_families(world):
    """family_get, wave_get, contact_get and care_involvement_get: a record of a family in
    `visible_families`, or 404 (never 403), for every kind of user."""
    users, families = world
    records = [
        (selectors.family_get, Family.objects.filter(pk__in=[f.pk for f in families])),
        (selectors.wave_get, Wave.objects.filter(family__in=[f.pk for f in families])),
        (selectors.contact_get, Contact.objects.filter(family__in=[f.pk for f in families])),
        (
            selectors.care_involvement_get,
            CareInvolvement.objects.filter(family__in=[f.pk for f in families]),
        ),
    ]
    opened = 0
    for name, user in users.items():
        visible = set(access.visible_families(user).values_list("pk", flat=True))
        for lookup, rows in records:
            for row in rows:
                family_id = row.pk if isinstance(row, Family) else row.family_id
                alive = not getattr(row, "is_deleted", False)
                if family_id in visible and alive:
                    assert lookup(user, row.pk).pk == row.pk, (name, lookup.__name__)
                    opened += 1
                else:
                    with pytest.raises(Http404):
                        lookup(user, row.pk)
        for lookup, _rows in records:
            with pytest.raises(Http404):
                lookup(user, "not-a-number")
    assert opened > 0
