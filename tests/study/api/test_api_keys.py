"""Per-study API keys for service accounts: issued by a data manager of the study from a
verified session, shown once and stored as a hash, limited to their scopes and their study,
expiring, revocable, every use logged, described in the OpenAPI schema."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from study.models import ApiKey, ApiKeyUse
from study.services import api_keys
from tests.access_matrix.checks import api_schema
from tests.factories import make_family, make_member, make_study
from tests.otp import authenticator, login_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(study):
    return make_member(study, "datamanager")


def _issue(study, manager, scopes, days=30):
    _key, secret = api_keys.api_key_issue(
        study=study,
        name="Gemeentelijk systeem",
        scopes=scopes,
        days=days,
        user=manager,
        second_factor=True,
    )
    return secret


def _with_key(secret) -> APIClient:
    client = APIClient(REMOTE_ADDR="192.0.2.10")
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


def test_a_data_manager_issues_a_key_from_a_verified_session_and_sees_it_once(
    client, study, manager
):
    login_verified(client, manager)
    page = client.post(
        f"/studies/{study.pk}/api-keys/",
        {"name": "Suite4Sociaal", "scopes": ["families:read", "research:write"], "days": "30"},
    )
    assert page.status_code == 200
    secret = page.context["secret"]
    key = ApiKey.objects.get()
    assert secret.startswith(f"etk_{key.prefix}_")
    assert secret.split("_", 2)[2] not in {key.key_hash, key.prefix, key.name}
    assert key.scopes == ["families:read", "research:write"]
    listed = client.get(f"/studies/{study.pk}/api-keys/")
    assert secret not in listed.content.decode() and key.prefix in listed.content.decode()
    assert not key.service_user.has_usable_password()


def test_issuing_needs_the_second_factor_and_the_data_manager_of_the_study(
    client, study, manager, researcher, settings
):
    settings.OTP_REQUIRED = True
    authenticator(manager)
    client.force_login(manager)  # the password only
    response = client.post(f"/studies/{study.pk}/api-keys/", {"name": "x", "days": "3"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/")
    with pytest.raises(PermissionDenied):
        api_keys.api_key_issue(
            study=study,
            name="x",
            scopes=["families:read"],
            days=3,
            user=manager,
            second_factor=False,
        )
    login_verified(Client(), researcher)
    researcher_client = login_verified(Client(), researcher)
    assert researcher_client.get(f"/studies/{study.pk}/api-keys/").status_code == 403
    other_manager = make_member(make_study(), "datamanager")
    assert (
        login_verified(Client(), other_manager).get(f"/studies/{study.pk}/api-keys/").status_code
        == 404
    )
    assert not ApiKey.objects.exists()


def test_a_key_reads_only_its_scopes_in_its_study_and_every_use_is_logged(study, manager, family):
    foreign = make_family(make_study())
    client = _with_key(_issue(study, manager, ["families:read"]))
    listed = {f["id"] for f in client.get("/api/families/").json()["results"]}
    assert family.pk in listed and foreign.pk not in listed
    assert client.get(f"/api/families/{foreign.pk}/").status_code == 404
    assert client.get("/api/indicator-values/").json()["results"] == []  # no research:read
    assert client.post("/api/contacts/", {"family": family.pk}, format="json").status_code == 400
    uses = list(ApiKeyUse.objects.order_by("at"))
    assert [(u.method, u.path) for u in uses][:2] == [
        ("GET", "/api/families/"),
        ("GET", f"/api/families/{foreign.pk}/"),
    ]
    assert {u.client_address for u in uses} == {"192.0.2.10"}
    assert ApiKey.objects.get().last_used_at is not None


def test_a_write_scope_records_research_data_of_its_own_study_only(study, manager, family):
    foreign = make_family(make_study())
    client = _with_key(_issue(study, manager, ["research:write"]))
    own = client.post(
        "/api/indicator-values/record/",
        {"wave": family.waves.get(index=0).pk, "values": {"bijstand": "1"}},
        format="json",
    )
    assert own.status_code == 200 and own.json()["created"] == 1, own.content
    other = client.post(
        "/api/indicator-values/record/",
        {"wave": foreign.waves.get(index=0).pk, "values": {"bijstand": "1"}},
        format="json",
    )
    assert other.status_code == 400 and not foreign.waves.get(index=0).values.exists()
    history = family.waves.get(index=0).values.get().history.first()
    assert history.history_user.username.startswith("apikey-")  # the audit trail names the key


def test_revoked_expired_wrong_and_malformed_keys_get_a_readable_401(client, study, manager):
    secret = _issue(study, manager, ["families:read"], days=1)
    assert _with_key(secret).get("/api/families/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        assert _with_key(secret).get("/api/families/").status_code == 401
    wrong = secret[:-4] + ("aaaa" if not secret.endswith("aaaa") else "bbbb")
    for bad in (wrong, "etk_nope", "not-a-key"):
        response = _with_key(bad).get("/api/families/")
        assert response.status_code == 401 and response.json()["detail"], bad
    key = ApiKey.objects.get()
    login_verified(client, manager)
    assert client.post(f"/studies/{study.pk}/api-keys/{key.pk}/revoke/").status_code == 302
    response = _with_key(secret).get("/api/families/")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoked_by == manager


def test_a_key_cannot_be_issued_with_an_unknown_scope_or_for_too_long(study, manager):
    from django.core.exceptions import ValidationError

    for scopes, days in ((["everything"], 30), ([], 30), (["families:read"], 400)):
        with pytest.raises(ValidationError):
            api_keys.api_key_issue(
                study=study, name="x", scopes=scopes, days=days, user=manager, second_factor=True
            )


def test_the_schema_describes_the_api_key():
    schemes = api_schema()["components"]["securitySchemes"]
    assert schemes["apiKeyAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schemes["apiKeyAuth"]["description"],
    }
    assert "Api-Key" in schemes["apiKeyAuth"]["description"]


def test_every_secret_is_accepted_whatever_its_characters(study, manager, monkeypatch):
    """A secret may hold "_" and "-" (URL-safe base64): the key id is split off the front."""
    monkeypatch.setattr(api_keys.secrets, "token_urlsafe", lambda n: "a_b-c_d" * 6)
    secret = _issue(study, manager, ["families:read"])
    assert _with_key(secret).get("/api/families/").status_code == 200
