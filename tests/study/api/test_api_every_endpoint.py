"""Every study endpoint, every role: which objects a role lists, and 404 (never 403, never the
data) for an object outside the role's scope. Roles are per study: the data manager is the data
manager of the study ("own", "other"); the installation administrator (superuser) sees all.

Objects per endpoint: "own" belongs to the wijkcoach's family, "other" to another coach's family
in the same study, "foreign" to a family (or professional) of a study the researcher is not on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from rest_framework.test import APIClient

from study.models import Professional
from study.roles import Role
from study.services.care import care_involvement_add, caseload_assign
from study.services.contacts import contact_log
from study.services.professionals import professional_survey_record
from study.services.studies import membership_grant
from study.services.surveys import wave_survey_record
from study.services.values import indicator_values_record
from tests.factories import make_family, make_study, make_user
from tests.otp import api_verified

pytestmark = pytest.mark.django_db

ALL = {"own", "other", "foreign"}
STUDY = {"own", "other"}
NONE: set[str] = set()

# endpoint -> role -> the objects it lists (and may open; the rest answer 404)
VISIBLE = {
    "studies": {
        "researcher": {"own"},
        "data_manager": {"own"},
        "admin": {"own", "foreign"},
        "coach": {"own"},
        "gemeente": {"own"},
    },
    "families": {
        "researcher": STUDY,
        "data_manager": STUDY,
        "admin": ALL,
        "coach": {"own"},
        "gemeente": NONE,
    },
    "waves": {
        "researcher": STUDY,
        "data_manager": STUDY,
        "admin": ALL,
        "coach": {"own"},
        "gemeente": NONE,
    },
    "contacts": {
        "researcher": STUDY,
        "data_manager": STUDY,
        "admin": ALL,
        "coach": {"own"},
        "gemeente": NONE,
    },
    "care-involvements": {
        "researcher": STUDY,
        "data_manager": STUDY,
        "admin": ALL,
        "coach": {"own"},
        "gemeente": NONE,
    },
    "indicator-values": {
        "researcher": STUDY,
        "data_manager": STUDY,
        "admin": ALL,
        "coach": NONE,
        "gemeente": NONE,
    },
    "members": {
        "researcher": STUDY,
        "data_manager": STUDY,
        "admin": ALL,
        "coach": NONE,
        "gemeente": NONE,
    },
    "wave-surveys": {
        "researcher": STUDY,
        "data_manager": STUDY,
        "admin": ALL,
        "coach": NONE,
        "gemeente": NONE,
    },
    "professionals": {
        "researcher": {"own"},
        "data_manager": {"own"},
        "admin": {"own", "foreign"},
        "coach": NONE,
        "gemeente": NONE,
    },
    "professional-surveys": {
        "researcher": {"own"},
        "data_manager": {"own"},
        "admin": {"own", "foreign"},
        "coach": NONE,
        "gemeente": NONE,
    },
}


def _family_objects(family, coach, researcher) -> dict[str, int]:
    wave = family.waves.get(index=0)
    value = indicator_values_record(wave=wave, values={"bijstand": 1}, user=researcher)
    assert value.created == 1
    survey = wave_survey_record(wave=wave, data={"satisfaction": 7}, user=researcher)
    contact = contact_log(
        family=family,
        coach=coach,
        occurred_at=datetime(2022, 5, 1, 10, tzinfo=UTC),
        kind="phone",
        duration_minutes=15,
        initiated_by="coach",
    )
    involvement = care_involvement_add(
        family=family,
        organisation="GGZ",
        discipline="therapist",
        start_date=date(2021, 2, 1),
        user=coach,
    )
    return {
        "families": family.pk,
        "waves": wave.pk,
        "contacts": contact.pk,
        "care-involvements": involvement.pk,
        "indicator-values": wave.values.get().pk,
        "members": family.members.order_by("pk").first().pk,
        "wave-surveys": survey.pk,
    }


def _professional_objects(study, researcher) -> dict[str, int]:
    professional = Professional.objects.create(
        study=study, organisation="Wijkteam", approach=Professional.Approach.NEW
    )
    survey = professional_survey_record(
        professional=professional, year=2022, answers={"job_satisfaction": 8}, user=researcher
    )
    return {"professionals": professional.pk, "professional-surveys": survey.pk}


@pytest.fixture
def world(study, family, other_family, researcher, coach, other_coach):
    foreign_researcher = make_user(Role.RESEARCHER)
    foreign_coach = make_user(Role.WIJKCOACH)
    foreign_study = make_study()
    membership_grant(study=foreign_study, user=foreign_researcher, role=Role.RESEARCHER)
    foreign_family = make_family(foreign_study, user=foreign_researcher)
    caseload_assign(family=foreign_family, coach=foreign_coach, start_date=date(2021, 3, 1))
    objects = {
        "own": _family_objects(family, coach, researcher),
        "other": _family_objects(other_family, other_coach, researcher),
        "foreign": _family_objects(foreign_family, foreign_coach, foreign_researcher),
    }
    objects["own"].update(_professional_objects(study, researcher))
    objects["foreign"].update(_professional_objects(foreign_study, foreign_researcher))
    objects["own"]["studies"] = study.pk
    objects["foreign"]["studies"] = foreign_study.pk
    return objects


def _client(user) -> APIClient:
    return api_verified(user) if user is not None else APIClient()


def _listed_ids(client, endpoint: str) -> set[int]:
    response = client.get(f"/api/{endpoint}/")
    assert response.status_code == 200, (endpoint, response.content)
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize("role", ["researcher", "data_manager", "admin", "coach", "gemeente"])
@pytest.mark.parametrize("endpoint", sorted(VISIBLE))
def test_each_role_lists_and_opens_only_its_scope(
    request, world, endpoint, role, data_manager, researcher, coach, gemeente_user
):
    admin = make_user(None)
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    user = {
        "researcher": researcher,
        "data_manager": data_manager,
        "admin": admin,
        "coach": coach,
        "gemeente": gemeente_user,
    }[role]
    client = _client(user)
    expected = VISIBLE[endpoint][role]
    objects = {label: ids[endpoint] for label, ids in world.items() if endpoint in ids}
    listed = _listed_ids(client, endpoint) & set(objects.values())
    assert listed == {objects[label] for label in expected}, (endpoint, role)
    for label, pk in objects.items():
        response = client.get(f"/api/{endpoint}/{pk}/")
        if label in expected:
            assert response.status_code == 200, (endpoint, role, label)
            assert response.json()["id"] == pk
        else:
            assert response.status_code == 404, (endpoint, role, label, response.status_code)
            assert "detail" in response.json()


@pytest.mark.parametrize("endpoint", sorted(VISIBLE))
def test_anonymous_gets_401_everywhere(world, endpoint):
    client = _client(None)
    pk = world["own"][endpoint]
    for url in (f"/api/{endpoint}/", f"/api/{endpoint}/{pk}/"):
        response = client.get(url)
        assert response.status_code == 401, url
        assert response.json()["detail"]


def test_outsider_researcher_sees_nothing_of_the_study(world):
    stranger = make_user(Role.RESEARCHER)
    membership_grant(study=make_study(), user=stranger, role=Role.RESEARCHER)
    client = _client(stranger)
    for endpoint in VISIBLE:
        for label in ("own", "other"):
            pk = world[label].get(endpoint)
            if pk is not None:
                assert client.get(f"/api/{endpoint}/{pk}/").status_code == 404, endpoint


def test_a_researcher_who_is_also_a_coach_gets_no_research_data_of_the_caseload(world, coach):
    """Research data (members, surveys, values) follow the researcher role of their study, not
    the caseload: a coach of this study who is a researcher of the foreign study."""
    from study.models import Study

    foreign = Study.objects.get(pk=world["foreign"]["studies"])
    membership_grant(study=foreign, user=coach, role=Role.RESEARCHER)
    client = _client(coach)
    for endpoint in ("members", "wave-surveys", "indicator-values"):
        listed = _listed_ids(client, endpoint)
        assert world["foreign"][endpoint] in listed, endpoint
        assert not listed & {world["own"][endpoint], world["other"][endpoint]}, endpoint
        assert client.get(f"/api/{endpoint}/{world['own'][endpoint]}/").status_code == 404
    assert client.get(f"/api/families/{world['own']['families']}/").status_code == 200
    assert client.get(f"/api/members/{world['own']['members']}/").status_code == 404
    assert client.get(f"/api/wave-surveys/{world['own']['wave-surveys']}/").status_code == 404
