"""Through the API: a study set up with minimisation over district and household and with
contact notes open to research; families enrolled by a municipal system get the arm drawn by
minimisation, revealed in the answer and logged; the notes follow the study's setting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from study import allocation
from study.models import AllocationRecord, Contact, Study
from study.roles import Role
from study.services.care import caseload_assign
from study.services.contacts import contact_log
from tests.factories import make_family, make_member, make_study, make_user
from tests.otp import api_verified
from tests.study.api.test_api_setup import _enrolment, _key

pytestmark = pytest.mark.django_db


def test_a_minimisation_study_through_the_api():
    home = make_study(municipality="", municipality_code="GM0164")
    manager = make_member(home, Role.DATA_MANAGER)
    created = api_verified(manager).post(
        "/api/study-set-up/",
        {
            "name": "Hengelo minimisatie",
            "municipality_code": "GM0164",
            "start_date": "2026-01-01",
            "allocation_method": "randomised",
            "randomisation": "minimisation",
            "allocation_strata": "wijk,household",
            "enrolment_target": 60,
            "contact_notes_for_research": True,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["randomisation"], data["allocation_strata"]) == ("minimisation", "wijk,household")
    assert data["contact_notes_for_research"] is True
    study = Study.objects.get(pk=data["id"])

    system = _key(study, manager, ["research:write", "families:read"])
    answers = []
    for i in range(12):
        adults = [{"role": "adult", "birth_year": 1980}] * (1 + i % 2)
        body = _enrolment(
            study,
            wijk=["Noord", "Zuid", "Oost"][i % 3],
            members=[*adults, {"role": "child", "birth_year": 2016}],
        )
        answer = system.post("/api/families/", body, format="json")
        assert answer.status_code == 201, answer.content
        answers.append(answer.json())
    records = {r.family_id: r for r in AllocationRecord.objects.filter(study=study)}
    assert len(records) == 12
    for answer in answers:
        record = records[answer["id"]]
        assert answer["arm"] == record.arm_kind  # revealed at enrolment, as logged
        assert record.method == allocation.METHOD_MINIMISATION
    counts: dict = {}
    for record in records.values():
        allocation.add_to_counts(
            counts, allocation.levels_of(record.stratum, strata="wijk,household"), record.arm_kind
        )
    worst = max(
        abs(c.get("intervention", 0) - c.get("comparison", 0))
        for levels in counts.values()
        for c in levels.values()
    )
    assert worst <= allocation.MARGINAL_BOUND
    bad = system.post(
        "/api/study-set-up/", {"name": "x", "randomisation": "minimisation"}, format="json"
    )
    assert bad.status_code == 403  # a key sets up no study


def test_minimisation_needs_a_randomised_study_through_the_api():
    home = make_study(municipality="", municipality_code="GM0164")
    manager = make_member(home, Role.DATA_MANAGER)
    refused = api_verified(manager).post(
        "/api/study-set-up/",
        {
            "name": "Matched minimisatie",
            "municipality_code": "GM0164",
            "start_date": "2026-01-01",
            "randomisation": "minimisation",
        },
        format="json",
    )
    assert refused.status_code == 400 and "randomisation" in refused.json()


@pytest.mark.parametrize(
    ("role", "allowed", "expected"),
    [
        (Role.RESEARCHER, False, ""),
        (Role.RESEARCHER, True, "schuld; BSN *********"),
        (Role.DATA_MANAGER, False, ""),
        (Role.DATA_MANAGER, True, "schuld; BSN *********"),
    ],
)
def test_contact_notes_per_role_through_the_api(role, allowed, expected):
    study = make_study(contact_notes_for_research=allowed)
    reader = make_member(study, role)
    coach = make_user(Role.WIJKCOACH)
    family = make_family(study)
    caseload_assign(family=family, coach=coach, start_date=timezone.localdate())
    contact = contact_log(
        family=family,
        coach=coach,
        occurred_at=datetime(2026, 5, 1, 10, tzinfo=UTC),
        kind=Contact.Kind.PHONE,
        duration_minutes=5,
        initiated_by=Contact.Initiator.COACH,
    )
    Contact.objects.filter(pk=contact.pk).update(note="schuld; BSN 123456782")
    listed = api_verified(reader).get("/api/contacts/").json()["results"]
    assert [row["note"] for row in listed] == [expected]
    detail = api_verified(reader).get(f"/api/contacts/{contact.pk}/").json()
    assert detail["note"] == expected
    # The coach who wrote it reads it in full; the gemeente reads no contact at all.
    assert api_verified(coach).get(f"/api/contacts/{contact.pk}/").json()["note"] == (
        "schuld; BSN 123456782"
    )
    gemeente = make_member(study, Role.GEMEENTE)
    assert api_verified(gemeente).get("/api/contacts/").json()["results"] == []
