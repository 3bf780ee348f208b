"""The REST API per role: same access rules as the pages, writes through the services."""

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from study.models import Contact
from study.services.contacts import contact_log
from study.services.values import indicator_values_record
from study.services.waves import wave_lock
from tests.factories import make_user
from tests.otp import api_verified, authenticator, code

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    return api_verified(user) if user is not None else APIClient()


def test_token_login_returns_a_token_that_authenticates(family):
    rita = make_user("researcher", username="rita", password="a-long-password-1")
    response = APIClient().post(
        "/api/auth/token/",
        {"username": "rita", "password": "a-long-password-1", "otp": code(authenticator(rita))},
    )
    assert response.status_code == 200
    token = response.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/families/").status_code == 200


def test_anonymous_gets_401_or_403():
    assert api().get("/api/families/").status_code in (401, 403)


def test_researcher_lists_families_without_linkage_key(researcher, family, other_family):
    data = api(researcher).get("/api/families/").json()
    rows = data["results"]
    assert {r["pseudonym"] for r in rows} == {family.pseudonym, other_family.pseudonym}
    assert {"id", "pseudonym", "arm", "wijk"} <= set(rows[0])
    assert "linkage_key" not in rows[0]


def test_coach_sees_only_own_family_and_404_for_another(coach, family, other_family):
    client = api(coach)
    assert [r["id"] for r in client.get("/api/families/").json()["results"]] == [family.pk]
    assert client.get(f"/api/families/{other_family.pk}/").status_code == 404


def test_gemeente_sees_no_family(gemeente_user, family):
    client = api(gemeente_user)
    assert client.get("/api/families/").json()["results"] == []
    assert client.get(f"/api/families/{family.pk}/").status_code == 404
    assert client.get("/api/contacts/").json()["results"] == []


def test_coach_never_receives_registry_values(coach, researcher, family):
    indicator_values_record(wave=family.waves.get(index=0), values={"bijstand": 1}, user=researcher)
    assert api(coach).get("/api/indicator-values/").json()["results"] == []
    assert len(api(researcher).get("/api/indicator-values/").json()["results"]) == 1


def test_coach_logs_a_contact_and_cannot_for_another_family(coach, family, other_family):
    payload = {
        "family": family.pk,
        "occurred_at": "2024-05-01T10:00:00Z",
        "kind": "phone",
        "duration_minutes": 15,
        "initiated_by": "coach",
    }
    assert api(coach).post("/api/contacts/", payload, format="json").status_code == 201
    payload["family"] = other_family.pk
    response = api(coach).post("/api/contacts/", payload, format="json")
    assert response.status_code == 400 and "family" in response.json()
    assert Contact.objects.filter(family=other_family).count() == 0


def test_bulk_contacts_are_all_or_nothing(coach, family):
    good = {
        "family": family.pk,
        "occurred_at": "2024-05-01T10:00:00Z",
        "kind": "phone",
        "duration_minutes": 15,
        "initiated_by": "coach",
    }
    bad = {**good, "duration_minutes": 0}
    response = api(coach).post("/api/contacts/bulk/", [good, bad], format="json")
    assert response.status_code == 400 and "1" in response.json()["errors"]
    assert Contact.objects.count() == 0
    assert api(coach).post("/api/contacts/bulk/", [good, good], format="json").status_code == 201
    assert Contact.objects.count() == 2


def test_private_note_is_hidden_from_others(coach, researcher, family):
    contact_log(
        family=family,
        coach=coach,
        occurred_at=datetime(2024, 5, 1, 10, tzinfo=UTC),
        kind="phone",
        duration_minutes=10,
        initiated_by="coach",
        note="confidential",
        note_private=True,
    )
    assert api(researcher).get("/api/contacts/").json()["results"][0]["note"] == ""
    assert api(coach).get("/api/contacts/").json()["results"][0]["note"] == "confidential"


def test_values_bulk_reports_errors_by_item_and_field_and_saves_nothing(researcher, family):
    w0, w1 = family.waves.get(index=0), family.waves.get(index=1)
    items = [
        {"wave": w0.pk, "values": {"bijstand": "1"}},
        {"wave": w1.pk, "values": {"child_foster_care_days": "400"}},
    ]
    response = api(researcher).post("/api/indicator-values/bulk/", items, format="json")
    assert response.status_code == 400
    assert "child_foster_care_days" in response.json()["errors"]["1"]
    assert not w0.values.exists()


def test_locked_wave_refuses_api_writes(researcher, family):
    wave = wave_lock(wave=family.waves.get(index=0), user=researcher)
    response = api(researcher).post(
        "/api/indicator-values/record/", {"wave": wave.pk, "values": {"ww": "1"}}, format="json"
    )
    assert response.status_code == 400


def test_schema_and_docs_are_served(client, researcher):
    assert api(researcher).get("/api/schema/").status_code == 200
    client.force_login(researcher)  # the docs are pages for a signed-in browser
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/api/redoc/").status_code == 200
