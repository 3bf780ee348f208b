"""API tokens: expiry after API_TOKEN_TTL (frozen clock), rotation at re-login, revocation, and a
disabled user's token failing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils.dateparse import parse_datetime
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import make_user
from tests.otp import authenticator, code

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-password-1"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def rita(study):
    from study.services.studies import membership_grant

    user = make_user("researcher", username="rita", password=PASSWORD)
    membership_grant(study=study, user=user, role="researcher")
    return user


def login(username="rita", password=PASSWORD):
    """Username, password and a valid code of the user's authenticator (a researcher needs it)."""
    user = User.objects.filter(username=username).first()
    otp = code(authenticator(user)) if user is not None else "123456"
    return APIClient().post(
        "/api/auth/token/", {"username": username, "password": password, "otp": otp}
    )


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_login_returns_token_and_expiry(rita, settings):
    settings.API_TOKEN_TTL = 3600
    with time_machine.travel(T0, tick=False):
        response = login()
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires"}
    assert parse_datetime(body["expires"]) == T0 + timedelta(hours=1)


def test_token_expires_after_the_ttl_with_a_readable_401(rita, settings):
    settings.API_TOKEN_TTL = 3600
    with time_machine.travel(T0, tick=False):
        token = login().json()["token"]
    with time_machine.travel(T0 + timedelta(minutes=59), tick=False):
        assert with_token(token).get("/api/studies/").status_code == 200
    with time_machine.travel(T0 + timedelta(minutes=61), tick=False):
        response = with_token(token).get("/api/studies/")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Token")


def test_default_ttl_is_eight_hours_from_the_environment_default(rita):
    from django.conf import settings as django_settings

    assert django_settings.API_TOKEN_TTL == 8 * 3600
    with time_machine.travel(T0, tick=False):
        token = login().json()["token"]
    with time_machine.travel(T0 + timedelta(hours=7, minutes=59), tick=False):
        assert with_token(token).get("/api/studies/").status_code == 200
    with time_machine.travel(T0 + timedelta(hours=8, minutes=1), tick=False):
        assert with_token(token).get("/api/studies/").status_code == 401


def test_relogin_rotates_the_token_even_when_sending_the_expired_one(rita, settings):
    settings.API_TOKEN_TTL = 60
    with time_machine.travel(T0, tick=False):
        old = login().json()["token"]
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        client = with_token(old)  # a client that still sends its expired token can log in
        response = client.post(
            "/api/auth/token/",
            {"username": "rita", "password": PASSWORD, "otp": code(authenticator(rita))},
        )
        assert response.status_code == 200
        new = response.json()["token"]
        assert new != old
        assert with_token(old).get("/api/studies/").status_code == 401
        assert with_token(new).get("/api/studies/").status_code == 200
    assert Token.objects.filter(user=rita).count() == 1


def test_delete_revokes_the_token(rita):
    token = login().json()["token"]
    client = with_token(token)
    assert client.delete("/api/auth/token/").status_code == 204
    response = with_token(token).get("/api/studies/")
    assert response.status_code == 401 and response.json()["detail"]
    assert not Token.objects.filter(user=rita).exists()


def test_post_revoke_for_clients_without_delete(rita):
    token = login().json()["token"]
    assert with_token(token).post("/api/auth/token/revoke/").status_code == 204
    assert with_token(token).get("/api/studies/").status_code == 401


def test_revoking_needs_a_login(rita):
    response = APIClient().delete("/api/auth/token/")
    assert response.status_code == 401 and response.json()["detail"]


def test_disabling_a_user_makes_the_token_fail(rita):
    token = login().json()["token"]
    assert with_token(token).get("/api/studies/").status_code == 200
    rita.is_active = False
    rita.save(update_fields=["is_active"])
    response = with_token(token).get("/api/studies/")
    assert response.status_code == 401 and response.json()["detail"]
    assert login().status_code == 400  # and no new token


def test_wrong_password_gives_a_readable_400(rita):
    response = login(password="wrong-password")
    assert response.status_code == 400
    assert response.json()["non_field_errors"]
    assert not Token.objects.filter(user=rita).exists()
