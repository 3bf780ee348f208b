"""Only the wijkcoach whose caseload holds the family logs contacts with it (a researcher who may
read the family may not log a contact as if they were its coach)."""

import pytest

from tests.otp import api_verified

pytestmark = pytest.mark.django_db

PAYLOAD = {
    "occurred_at": "2026-11-20T10:00:00+01:00",
    "kind": "phone",
    "duration_minutes": 15,
    "initiated_by": "coach",
}


def post(user, family_id):
    client = api_verified(user)
    return client.post("/api/contacts/", {**PAYLOAD, "family": family_id}, format="json")


def test_only_the_caseload_coach_logs_contacts(family, coach, other_coach, researcher):
    assert post(coach, family.pk).status_code == 201
    for outsider in (researcher, other_coach):
        response = post(outsider, family.pk)
        assert response.status_code == 400
        assert response.json() == {"family": ["No family with this id on your caseload."]}
    # An id that does not exist gets the same answer: the API does not reveal which ids exist.
    assert post(coach, 999_999).json() == post(other_coach, family.pk).json()
