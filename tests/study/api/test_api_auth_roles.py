"""Token authentication reads the user's roles with the token (one query on PostgreSQL); a role
taken away counts from the very next request."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_roles_come_with_the_token_and_changes_apply_at_once(family, coach):
    client = APIClient()
    token = client.post(
        "/api/auth/token/", {"username": coach.username, "password": "pw-for-tests-123"}
    ).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert [f["id"] for f in client.get("/api/families/").json()["results"]] == [family.pk]
    coach.groups.remove(Group.objects.get(name="wijkcoach"))
    assert client.get("/api/families/").json()["results"] == []
    coach.is_superuser = True  # a superuser counts as data manager
    coach.save()
    assert [f["id"] for f in client.get("/api/families/").json()["results"]] == [family.pk]
