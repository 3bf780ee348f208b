"""Token authentication asks the per-study memberships on every request: a role taken away counts
from the very next request."""

import pytest

from study.models import StudyMembership
from study.services.studies import membership_end
from tests.otp import api_verified

pytestmark = pytest.mark.django_db


def test_roles_are_read_per_request_and_changes_apply_at_once(family, coach):
    client = api_verified(coach)
    assert [f["id"] for f in client.get("/api/families/").json()["results"]] == [family.pk]
    membership_end(membership=StudyMembership.objects.get(user=coach, role="wijkcoach"))
    assert client.get("/api/families/").json()["results"] == []
    coach.is_superuser = True  # the installation administrator holds every role
    coach.save()
    assert [f["id"] for f in client.get("/api/families/").json()["results"]] == [family.pk]
