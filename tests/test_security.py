"""Security promises: lockout, sessions, headers, deploy checks, a clear 503."""

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import time_machine
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_user

LOGIN = "/accounts/login/"
PASSWORD = "pw-for-tests-123"


def _login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


@pytest.mark.django_db
def test_ten_failed_logins_lock_the_account_and_then_the_right_password_is_refused(client):
    make_user("researcher", username="anna", password=PASSWORD)
    for _ in range(9):
        assert _login(client, "anna", "wrong-password").status_code == 200
    assert _login(client, "anna", "wrong-password").status_code == 429  # the tenth locks
    response = _login(client, "anna", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_nine_failures_do_not_lock(client):
    make_user("researcher", username="bert", password=PASSWORD)
    for _ in range(9):
        _login(client, "bert", "wrong-password")
    response = _login(client, "bert", PASSWORD)
    assert response.status_code == 302


@pytest.mark.django_db
def test_unknown_username_looks_like_a_wrong_password(client):
    make_user("researcher", username="carla", password=PASSWORD)
    wrong = _login(client, "carla", "nope-nope-nope").content.decode()
    unknown = _login(client, "nobody-here", "nope-nope-nope").content.decode()

    def strip(html):
        return [line for line in html.splitlines() if "csrf" not in line and "value=" not in line]

    assert strip(wrong) == strip(unknown)


@pytest.mark.django_db
def test_session_key_rotates_at_login(client):
    make_user("researcher", username="dirk", password=PASSWORD)
    client.get(LOGIN)
    client.session.save()
    before = client.session.session_key
    _login(client, "dirk", PASSWORD)
    assert client.session.session_key != before


@pytest.mark.django_db
def test_inactivity_of_20_minutes_ends_the_session(client):
    make_user("researcher", username="eva", password=PASSWORD)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _login(client, "eva", PASSWORD)
        assert client.get(reverse("study:home")).status_code == 200
        clock.shift(timedelta(minutes=19))
        assert client.get(reverse("study:home")).status_code == 200
        clock.shift(timedelta(minutes=21))
        assert client.get(reverse("study:home")).status_code == 302


@pytest.mark.django_db
def test_activity_keeps_the_session_but_writes_it_at_most_once_a_minute(client):
    from django.contrib.sessions.models import Session

    make_user("researcher", username="evert", password=PASSWORD)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _login(client, "evert", PASSWORD)
        client.get(reverse("study:home"))
        key = client.session.session_key
        expiry = Session.objects.get(pk=key).expire_date
        clock.shift(timedelta(seconds=30))
        client.get(reverse("study:home"))  # within the minute: no write
        assert Session.objects.get(pk=key).expire_date == expiry
        for _ in range(8):  # 40 minutes of a request every 5 minutes: still signed in
            clock.shift(timedelta(minutes=5))
            assert client.get(reverse("study:home")).status_code == 200
        assert Session.objects.get(pk=key).expire_date > expiry + timedelta(minutes=39)
        clock.shift(timedelta(minutes=20, seconds=1))
        assert client.get(reverse("study:home")).status_code == 302


@pytest.mark.django_db
def test_absolute_session_lifetime_is_enforced(client, settings):
    make_user("researcher", username="fons", password=PASSWORD)
    _login(client, "fons", PASSWORD)
    assert client.get(reverse("study:home")).status_code == 200
    session = client.session
    session["_login_at"] = time.time() - settings.SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    assert client.get(reverse("study:home")).status_code == 302


@pytest.mark.django_db
def test_an_expired_session_on_the_api_gets_a_readable_401(client, settings):
    make_user("researcher", username="fien", password=PASSWORD)
    _login(client, "fien", PASSWORD)
    session = client.session
    session["_login_at"] = time.time() - settings.SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    response = client.get("/api/families/")
    assert response.status_code == 401 and "expired" in response.json()["detail"]


@pytest.mark.django_db
def test_disabling_a_user_ends_their_session(client):
    user = make_user("researcher", username="gert", password=PASSWORD)
    _login(client, "gert", PASSWORD)
    user.is_active = False
    user.save()
    assert client.get(reverse("study:home")).status_code == 302


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy(client):
    header = client.get(LOGIN)["Content-Security-Policy"]
    assert "script-src 'self'" in header and "frame-ancestors 'none'" in header


@pytest.mark.django_db
def test_database_outage_gives_a_clear_503(client, monkeypatch):
    user = make_user("researcher")
    client.force_login(user)

    def broken(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("study.selectors.study_list", broken)
    response = client.get(reverse("study:home"))
    assert response.status_code == 503
    assert "Tijdelijk niet beschikbaar" in response.content.decode()


def test_deploy_check_is_clean_with_production_settings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "DEBUG": "0",
        "SECRET_KEY": "Zq8!pW3#vL9@tR6^mN2&kB5*yH7(cF4)xD1-sG0=jU8+aE3_oI6~",
        "LINKAGE_KEY": "a-production-linkage-key",
        "AUDIT_KEY": "a-production-audit-key",
        "ALLOWED_HOSTS": "tracker.example.nl",
        "SITE_URL": "https://tracker.example.nl",
    }
    env.pop(
        "DJANGO_ALLOW_ASYNC_UNSAFE", None
    )  # set by the browser tests' conftest, never in production
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_keys():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tracker.settings", "DEBUG": "0"}
    env.pop("SECRET_KEY", None)
    env.pop("LINKAGE_KEY", None)
    env.pop("AUDIT_KEY", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SECRET_KEY, LINKAGE_KEY and AUDIT_KEY must be set" in result.stderr


def test_production_settings_refuse_to_start_without_a_site_url():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "DEBUG": "0",
        "SECRET_KEY": "Zq8!pW3#vL9@tR6^mN2&kB5*yH7(cF4)xD1-sG0=jU8+aE3_oI6~",
        "LINKAGE_KEY": "a-production-linkage-key",
        "AUDIT_KEY": "a-production-audit-key",
        "ALLOWED_HOSTS": "tracker.example.nl",
    }
    env.pop("SITE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SITE_URL must be set when DEBUG is off" in result.stderr
    env["SITE_URL"] = "https://tracker.example.nl/"
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SITE_URL)"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip() == "https://tracker.example.nl", result.stderr


@pytest.mark.django_db
def test_linkage_key_secret_is_nowhere_in_the_database_or_logs(settings, caplog):
    from django.db import connection

    from study.demo import seed_demo
    from tests.factories import make_family, make_study

    settings.LINKAGE_KEY = "very-secret-linkage-key-4711"
    caplog.set_level("DEBUG")
    seed_demo(seed=3)
    make_family(make_study(), identifier="111222333")
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            if any(settings.LINKAGE_KEY in str(cell) for row in cursor.fetchall() for cell in row):
                found.append(table)
    assert found == []
    assert settings.LINKAGE_KEY not in caplog.text
