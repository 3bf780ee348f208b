"""Token authentication asks the per-study memberships on every request: a role taken away counts
from the very next request."""

import pytest
from rest_framework.test import APIClient

from study.models import StudyMembership
from study.services.studies import membership_end

pytestmark = pytest.mark.django_db


def test_roles_are_read_per_request_and_changes_apply_at_once(family, coach):
    client = APIClient()
    token = client.post(
        "/api/auth/token/", {"username": coach.username, "password": "pw-for-tests-123"}
    ).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert [f["id"] for f in client.get("/api/families/").json()["results"]] == [family.pk]
    membership_end(membership=StudyMembership.objects.get(user=coach, role="wijkcoach"))
    assert client.get("/api/families/").json()["results"] == []
    coach.is_superuser = True  # the installation administrator holds every role
    coach.save()
    assert [f["id"] for f in client.get("/api/families/").json()["results"]] == [family.pk]
