"""The second factor on the API (the review's critical hole): a password-only session and a
password-only token get a readable 401 on every endpoint of the schema, for every role that needs
a second factor; a token is issued only with a valid code (or to a verified session), with the
same answer for every way a login fails; the token endpoint is throttled."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from study.services.care import caseload_assign
from tests.access_matrix.checks import api_schema
from tests.factories import make_family, make_member, make_study
from tests.otp import PASSWORD, authenticator, code, login_verified

pytestmark = pytest.mark.django_db

OTP_ROLES = ["researcher", "datamanager", "coordinator", "wijkcoach"]
#: The door itself: it takes the code (tested below).
LOGIN = {("post", "/api/auth/token/")}


def _operations():
    for path, operations in sorted(api_schema()["paths"].items()):
        for method in operations:
            if method in {"get", "post", "put", "patch", "delete"} and (method, path) not in LOGIN:
                yield method, re.sub(r"\{[^}]+\}", "1", path)


OPERATIONS = list(_operations())


@pytest.fixture
def member(request, study):
    role = request.param
    user = make_member(study, role)
    if role == "wijkcoach":
        caseload_assign(family=make_family(study), coach=user, start_date=study.start_date)
    authenticator(user)  # enrolled: only this session or token skipped the code
    return user


def _refused(response) -> bool:
    return response.status_code in (401, 403) and bool(response.json().get("detail"))


@pytest.mark.parametrize("member", OTP_ROLES, indirect=True)
def test_a_password_only_session_is_refused_on_every_endpoint(member):
    client = Client()
    client.force_login(member)  # the password step only
    failures = [
        f"{method.upper()} {url}: {response.status_code}"
        for method, url in OPERATIONS
        if not _refused(response := getattr(client, method)(url))
    ]
    assert failures == []
    assert client.get("/api/schema/").status_code == 401


@pytest.mark.parametrize("member", OTP_ROLES, indirect=True)
def test_a_password_only_token_is_refused_on_every_endpoint(member):
    """A token without a second factor (issued before this change, or while the user needed
    none) opens nothing."""
    token = Token.objects.create(user=member)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    failures = [
        f"{method.upper()} {url}: {response.status_code}"
        for method, url in OPERATIONS
        if not _refused(response := getattr(client, method)(url))
    ]
    assert failures == []
    assert "second factor" in client.get("/api/families/").json()["detail"]


def test_the_verified_session_and_a_token_with_a_code_get_in(study):
    researcher = make_member(study, "researcher")
    client = login_verified(Client(), researcher)
    assert client.get("/api/families/").status_code == 200
    assert client.get("/api/schema/").status_code == 200


def _login(username, password=PASSWORD, otp=None, client=None):
    data = {"username": username, "password": password}
    if otp is not None:
        data["otp"] = otp
    return (client or APIClient()).post("/api/auth/token/", data)


def test_a_token_needs_a_valid_code_and_every_failure_answers_alike(study):
    researcher = make_member(study, "researcher")
    device = authenticator(researcher)
    answers = [
        _login(researcher.username),  # no code
        _login(researcher.username, otp="000000"),  # a wrong code
        _login(researcher.username, password="wrong-password-1", otp=code(device)),
        _login("nobody-by-this-name", otp="123456"),  # no such user
    ]
    assert {(r.status_code, r.content) for r in answers} == {
        (answers[0].status_code, answers[0].content)
    }
    assert answers[0].status_code == 400 and answers[0].json()["non_field_errors"]
    assert not Token.objects.filter(user=researcher).exists()
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):  # django-otp's throttle
        response = _login(researcher.username, otp=code(device))
    assert response.status_code == 200
    token = Token.objects.get(user=researcher)
    assert token.factor.device_id == device.persistent_id
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/families/").status_code == 200


def test_a_recovery_code_gets_a_token_once(study):
    from study.services.accounts import recovery_codes_generate

    researcher = make_member(study, "researcher")
    codes = recovery_codes_generate(user=researcher)
    assert _login(researcher.username, otp=codes[0]).status_code == 200
    assert _login(researcher.username, otp=codes[0]).status_code == 400


def test_a_verified_session_gets_a_token_without_typing_a_code(study):
    researcher = make_member(study, "researcher")
    client = login_verified(APIClient(enforce_csrf_checks=False), researcher)
    response = client.post("/api/auth/token/")
    assert response.status_code == 200
    assert Token.objects.get(user=researcher).factor is not None


def test_a_half_logged_in_session_gets_no_token_from_the_endpoint(study):
    researcher = make_member(study, "researcher")
    authenticator(researcher)
    client = APIClient()
    client.force_login(researcher)
    assert client.post("/api/auth/token/").status_code == 400
    assert not Token.objects.filter(user=researcher).exists()


def test_a_token_issued_while_no_factor_was_needed_stops_when_one_is(study):
    from study.services.studies import membership_grant

    coach = make_member(make_study(coach_otp_required=False), "wijkcoach")
    response = _login(coach.username)
    assert response.status_code == 200  # no second factor needed: the password is enough
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/studies/").status_code == 200
    membership_grant(study=study, user=coach, role="researcher")
    assert client.get("/api/studies/").status_code == 401


def test_the_token_endpoint_is_throttled_per_address_and_per_username(study, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    rates = {
        **SimpleRateThrottle.THROTTLE_RATES,
        "token_address": "5/min",
        "token_username": "3/min",
    }
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    statuses = [_login("rita", password=f"guess-{i}").status_code for i in range(4)]
    assert statuses == [400, 400, 400, 429]  # one username, whatever the address
    other = [_login(f"user{i}", password="guess").status_code for i in range(3)]
    assert other == [400, 429, 429]  # one address, every username
    assert "throttled" in _login("someone").json()["detail"].lower()
