"""Throttling is per user: one user over the limit gets a readable 429, another is unaffected."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from tests.otp import api_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_per_minute(monkeypatch):
    # The class reads its rates once at import; override them for this test only.
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min"})
    cache.clear()
    yield
    cache.clear()


def api(user) -> APIClient:
    return api_verified(user)


def test_a_user_over_the_limit_gets_429_and_another_user_does_not(
    three_per_minute, researcher, data_manager, study
):
    busy, calm = api(researcher), api(data_manager)
    assert [busy.get("/api/studies/").status_code for _ in range(3)] == [200, 200, 200]
    response = busy.get("/api/studies/")
    assert response.status_code == 429
    assert "throttled" in response.json()["detail"].lower()
    assert int(response.headers["Retry-After"]) > 0
    assert calm.get("/api/studies/").status_code == 200
    assert busy.get("/api/families/").status_code == 429  # the limit is per user, not per URL
