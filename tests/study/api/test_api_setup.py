"""The set-up through the API, as a municipal system with a per-study API key and as people
with verified tokens: studies with arms, invitations, enrolment with the allocation, caseloads
assigned and handed over, a drop-out, professionals; per role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from study import access
from study.models import AllocationRecord, CaseloadAssignment, Family, StudyMembership
from study.roles import Role
from study.services import api_keys
from tests.factories import make_member, make_study
from tests.otp import api_verified

pytestmark = pytest.mark.django_db


def _key(study, manager, scopes) -> APIClient:
    _k, secret = api_keys.api_key_issue(
        study=study,
        name="Gemeente systeem",
        scopes=scopes,
        days=30,
        user=manager,
        second_factor=True,
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


def _enrolment(study, **overrides) -> dict:
    return {
        "study": study.pk,
        "intake_date": str(timezone.localdate()),
        "wijk": "Noord",
        "elig_socio_economic": True,
        "elig_adult_psychosocial": True,
        "elig_child_psychosocial": True,
        "elig_chronic": True,
        "members": [{"role": "adult", "birth_year": 1985}, {"role": "child", "birth_year": 2016}],
        **overrides,
    }


@pytest.fixture
def randomised():
    study = make_study(
        municipality="",
        municipality_code="GM0164",
        allocation_method="randomised",
        enrolment_target=60,
    )
    manager = make_member(study, Role.DATA_MANAGER)
    return study, manager


def test_a_municipal_system_sets_up_a_randomised_study_through_the_api(randomised, mailoutbox):
    study, manager = randomised
    system = _key(
        study, manager, ["research:write", "families:read", "members:write", "caseloads:write"]
    )

    listed = system.get("/api/studies/").json()["results"]
    assert [s["id"] for s in listed] == [study.pk]
    assert {a["kind"] for a in listed[0]["arms"]} == {"intervention", "comparison"}
    assert listed[0]["municipality_code"] == "GM0164"

    invited = system.post(
        "/api/memberships/",
        {"study": study.pk, "email": "coach1@wijkteam.nl", "role": "wijkcoach"},
        format="json",
    )
    assert invited.status_code == 201, invited.content
    second = system.post(
        "/api/memberships/",
        {"study": study.pk, "email": "coach2@wijkteam.nl", "role": "wijkcoach"},
        format="json",
    )
    coach1, coach2 = invited.json()["user"], second.json()["user"]

    enrolled = [system.post("/api/families/", _enrolment(study), format="json") for _ in range(4)]
    assert all(r.status_code == 201 for r in enrolled), [r.content for r in enrolled]
    ids = [r.json()["id"] for r in enrolled]
    for response in enrolled:
        record = AllocationRecord.objects.get(family_id=response.json()["id"])
        assert response.json()["arm"] == record.arm_kind
    chosen = system.post("/api/families/", _enrolment(study, arm="intervention"), format="json")
    assert chosen.status_code == 400 and "arm" in chosen.json()

    start = str(timezone.localdate() - timedelta(days=10))
    assigned = system.post(
        "/api/caseloads/", {"families": ids, "coach": coach1, "on": start}, format="json"
    )
    assert assigned.json() == {"changed": 4}
    today = str(timezone.localdate())
    handed = system.post(
        "/api/caseloads/hand-over/",
        {"families": ids[:1], "coach": coach2, "on": today},
        format="json",
    )
    assert handed.status_code == 200, handed.content
    old_coach = StudyMembership.objects.get(user_id=coach1).user
    assert ids[0] not in set(access.visible_families(old_coach).values_list("pk", flat=True))
    assert {
        a["coach"] for a in system.get("/api/caseloads/", {"family": ids[0]}).json()["results"]
    } == {
        coach1,
        coach2,
    }


def test_a_key_without_the_scope_or_of_another_study_is_refused(randomised):
    study, manager = randomised
    reader = _key(study, manager, ["families:read"])
    assert reader.post("/api/families/", _enrolment(study), format="json").status_code == 403
    assert (
        reader.post(
            "/api/memberships/",
            {"study": study.pk, "email": "x@example.nl", "role": "researcher"},
            format="json",
        ).status_code
        == 403
    )
    other = make_study()
    other_key = _key(
        other, make_member(other, Role.DATA_MANAGER), ["research:write", "members:write"]
    )
    assert other_key.post("/api/families/", _enrolment(study), format="json").status_code == 400
    assert not Family.objects.filter(study=study).exists()


def test_people_per_role(study, researcher, gemeente_user, coach, family):
    coordinator = make_member(study, Role.COORDINATOR)
    manager = make_member(study, Role.DATA_MANAGER)
    as_gemeente, as_coordinator = api_verified(gemeente_user), api_verified(coordinator)
    as_researcher, as_coach, as_manager = (
        api_verified(researcher),
        api_verified(coach),
        api_verified(manager),
    )
    body = _enrolment(study, arm="comparison")
    assert as_gemeente.post("/api/families/", body, format="json").status_code == 403
    assert as_coordinator.post("/api/families/", body, format="json").status_code == 403
    assert as_researcher.post("/api/families/", body, format="json").status_code == 201

    status_url = f"/api/families/{family.pk}/status/"
    drop = {"status": "dropped_out", "on": str(timezone.localdate()), "reason": "wants to stop"}
    assert as_coach.post(status_url, drop, format="json").status_code == 403
    assert as_researcher.post(status_url, {**drop, "reason": ""}, format="json").status_code == 400
    assert as_researcher.post(status_url, drop, format="json").status_code == 200
    family.refresh_from_db()
    assert family.status == "dropped_out"

    new_coach = make_member(study, Role.WIJKCOACH)
    hand_over = {"families": [family.pk], "coach": new_coach.pk, "on": str(timezone.localdate())}
    assert as_coach.post("/api/caseloads/hand-over/", hand_over, format="json").status_code == 400
    assert (
        as_researcher.post("/api/caseloads/hand-over/", hand_over, format="json").status_code == 400
    )
    assert (
        as_coordinator.post("/api/caseloads/hand-over/", hand_over, format="json").status_code
        == 200
    )
    assert CaseloadAssignment.objects.filter(family=family, coach=new_coach).exists()

    invite = {"study": study.pk, "email": "nieuw@example.nl", "role": "researcher"}
    assert as_researcher.post("/api/memberships/", invite, format="json").status_code == 403
    assert as_manager.post("/api/memberships/", invite, format="json").status_code == 201
    assert as_researcher.get("/api/memberships/").json()["results"] == []

    pro = {"study": study.pk, "organisation": "Wijkteam", "approach": "new"}
    assert as_gemeente.post("/api/professionals/", pro, format="json").status_code == 403
    created = as_researcher.post("/api/professionals/", pro, format="json")
    assert created.status_code == 201
    stop = as_researcher.post(
        f"/api/professionals/{created.json()['id']}/deactivate/",
        {"on": "2026-05-01", "reason": "left"},
        format="json",
    )
    assert stop.status_code == 200


def test_the_schema_describes_the_set_up_endpoints():
    schema = APIClient().get("/api/schema/?format=json")
    assert schema.status_code in (200, 401, 403)
    from tests.access_matrix.checks import api_schema

    paths = api_schema()["paths"]
    for path in (
        "/api/memberships/",
        "/api/caseloads/",
        "/api/caseloads/hand-over/",
        "/api/families/{id}/status/",
    ):
        assert path in paths
    assert "post" in paths["/api/families/"]


def test_a_study_is_set_up_through_the_api_by_a_data_manager_only(study, researcher):
    manager = make_member(study, Role.DATA_MANAGER)
    as_manager, as_researcher = api_verified(manager), api_verified(researcher)
    body = {
        "name": "Hengelo API",
        "municipality_code": "GM0164",
        "start_date": "2026-01-01",
        "allocation_method": "randomised",
        "enrolment_target": 60,
        "intervention_name": "Gezin Centraal",
    }
    assert as_researcher.post("/api/study-set-up/", body, format="json").status_code == 403
    wrong = as_manager.post(
        "/api/study-set-up/", {**body, "municipality_code": "GM9999"}, format="json"
    )
    assert wrong.status_code == 400 and "municipality_code" in wrong.json()
    created = as_manager.post("/api/study-set-up/", body, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["municipality"] == "Hengelo" and data["allocation_method"] == "randomised"
    assert {a["kind"]: a["name"] for a in data["arms"]}["intervention"] == "Gezin Centraal"
    new = StudyMembership.objects.get(study_id=data["id"], user=manager)
    assert new.role == Role.DATA_MANAGER
    key_owner = _key(study, manager, ["research:write", "members:write"])
    assert (
        key_owner.post("/api/study-set-up/", {**body, "name": "Via key"}, format="json").status_code
        == 403
    )
