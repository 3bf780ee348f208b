"""Lockout by (username, client address) plus a limit per address across accounts, the address
taken from REMOTE_ADDR unless the app runs behind trusted proxies (BEHIND_PROXY)."""

import os
import subprocess
import sys

import pytest
from django.test import RequestFactory

from tests.factories import make_user
from tracker.security import client_ip

LOGIN = "/accounts/login/"
PASSWORD = "pw-for-tests-123"
ATTACKER, OFFICE = "203.0.113.7", "198.51.100.20"


def _login(client, username, password, address, **headers):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )


@pytest.mark.django_db
def test_failures_from_one_address_do_not_lock_the_account_for_everyone(client):
    """Before: ten wrong passwords for a username locked that account everywhere (so anyone
    could lock out every researcher)."""
    make_user("researcher", username="anna", password=PASSWORD)
    for _ in range(10):
        _login(client, "anna", "wrong-password", ATTACKER)
    assert _login(client, "anna", PASSWORD, ATTACKER).status_code == 429
    assert _login(client, "anna", PASSWORD, OFFICE).status_code == 302


@pytest.mark.django_db
def test_one_address_cannot_try_a_few_passwords_on_every_account(client):
    for i in range(10):
        make_user("researcher", username=f"user{i}", password=PASSWORD)
        _login(client, f"user{i}", "wrong-password", ATTACKER)
    make_user("researcher", username="fresh", password=PASSWORD)
    locked = _login(client, "fresh", PASSWORD, ATTACKER)
    assert locked.status_code == 429 and b"Too many failed login attempts" in locked.content
    assert _login(client, "fresh", PASSWORD, OFFICE).status_code == 302


@pytest.mark.django_db
def test_without_a_proxy_a_forwarded_for_header_is_ignored(client, settings):
    settings.BEHIND_PROXY = False
    make_user("researcher", username="bert", password=PASSWORD)
    for i in range(10):  # a client pretending to come from ten addresses
        _login(client, "bert", "wrong-password", ATTACKER, HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
    assert _login(client, "bert", PASSWORD, ATTACKER).status_code == 429


def test_the_client_address_comes_from_the_trusted_proxy_only(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.44"
    )
    settings.BEHIND_PROXY = False
    assert client_ip(request) == "10.1.1.1"
    settings.BEHIND_PROXY, settings.TRUSTED_PROXY_COUNT = True, 1
    assert client_ip(request) == "192.0.2.44"  # what our proxy saw; 6.6.6.6 is the client's claim
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "6.6.6.6"
    settings.TRUSTED_PROXY_COUNT = 3  # fewer hops than proxies: not through them
    assert client_ip(request) == "10.1.1.1"
    bogus = RequestFactory().get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="not-an-ip")
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(bogus) == "10.1.1.1"


def _setting(name: str, **env) -> str:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "DEBUG": "1",
        **env,
    }
    code = (
        f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_https_header_of_a_proxy_is_trusted_only_behind_one():
    assert _setting("SECURE_PROXY_SSL_HEADER", BEHIND_PROXY="0") == "None"
    assert _setting("SECURE_PROXY_SSL_HEADER", BEHIND_PROXY="1") == (
        "('HTTP_X_FORWARDED_PROTO', 'https')"
    )


def test_the_lockout_parameters_are_the_pair_and_the_address():
    assert _setting("AXES_LOCKOUT_PARAMETERS") == "[['username', 'ip_address'], 'ip_address']"
