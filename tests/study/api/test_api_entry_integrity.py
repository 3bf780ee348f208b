"""Writes through the API never lose an update or write twice: versions (409 on a stale one),
Idempotency-Key (a repeat returns the first answer), clearing with null, parallel writes to one
wave without a 5xx (PostgreSQL)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from study.models import Contact, IdempotencyRecord, IndicatorValue, WaveSurvey
from study.services.values import indicator_values_record, wave_version
from tests.otp import api_verified

pytestmark = pytest.mark.django_db

CONTACT = {
    "occurred_at": "2026-11-20T10:00:00+01:00",
    "kind": "phone",
    "duration_minutes": 15,
    "initiated_by": "coach",
}


def _live(wave) -> dict[str, IndicatorValue]:
    return {v.indicator.code: v for v in IndicatorValue.objects.alive().filter(wave=wave)}


def test_a_wave_carries_its_version_as_etag(researcher, family):
    wave = family.waves.get(index=1)
    response = api_verified(researcher).get(f"/api/waves/{wave.pk}/")
    assert response.status_code == 200
    assert response["ETag"] == f'"{wave_version(wave)}"' and response.json()["version"]


def test_a_stale_version_is_a_409_naming_the_field_and_nothing_is_saved(researcher, family):
    wave = family.waves.get(index=1)
    indicator_values_record(wave=wave, values={"ww": 0})
    client = api_verified(researcher)
    stale = client.get(f"/api/waves/{wave.pk}/")["ETag"]
    first = client.post(
        "/api/indicator-values/record/",
        {"wave": wave.pk, "values": {"ww": "1"}},
        format="json",
        HTTP_IF_MATCH=stale,
    )
    assert first.status_code == 200, first.content
    second = client.post(
        "/api/indicator-values/record/",
        {"wave": wave.pk, "values": {"ww": "2", "bijstand": "1"}, "version": stale.strip('"')},
        format="json",
    )
    assert second.status_code == 409, second.content
    body = second.json()
    assert body["conflicts"] == {"ww": {"theirs": "1", "yours": "2"}}
    assert body["version"] == wave_version(wave)
    assert _live(wave)["ww"].value == Decimal("1.00") and "bijstand" not in _live(wave)


def test_a_stale_version_merges_when_other_fields_changed(researcher, family):
    wave = family.waves.get(index=1)
    client = api_verified(researcher)
    stale = wave_version(wave)
    indicator_values_record(wave=wave, values={"ww": 1})
    response = client.post(
        "/api/indicator-values/record/",
        {"wave": wave.pk, "values": {"bijstand": "2"}, "version": stale},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert {c: v.value for c, v in _live(wave).items()} == {
        "ww": Decimal("1.00"),
        "bijstand": Decimal("2.00"),
    }


def test_null_clears_a_value(researcher, family):
    wave = family.waves.get(index=1)
    indicator_values_record(wave=wave, values={"ww": 1, "bijstand": 2})
    response = api_verified(researcher).post(
        "/api/indicator-values/record/",
        {"wave": wave.pk, "values": {"ww": None}},
        format="json",
    )
    assert response.status_code == 200 and response.json()["cleared"] == 1
    assert set(_live(wave)) == {"bijstand"}


def test_a_stale_survey_version_is_a_409(researcher, family):
    wave = family.waves.get(index=0)
    client = api_verified(researcher)
    stale = wave_version(wave)
    client.post("/api/wave-surveys/", {"wave": wave.pk, "satisfaction": 7}, format="json")
    response = client.post(
        "/api/wave-surveys/",
        {"wave": wave.pk, "satisfaction": 4, "version": stale},
        format="json",
    )
    assert response.status_code == 409, response.content
    assert response.json()["conflicts"]["satisfaction"]["theirs"] == "7"
    assert WaveSurvey.objects.get(wave=wave).satisfaction == 7


def test_the_same_idempotency_key_twice_logs_one_contact(coach, family):
    client = api_verified(coach)
    body = {**CONTACT, "family": family.pk}
    first = client.post("/api/contacts/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/contacts/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert Contact.objects.filter(family=family).count() == 1
    other = client.post("/api/contacts/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert other.status_code == 201 and Contact.objects.filter(family=family).count() == 2


def test_a_key_reused_for_another_body_is_refused(coach, family):
    client = api_verified(coach)
    body = {**CONTACT, "family": family.pk}
    client.post("/api/contacts/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    response = client.post(
        "/api/contacts/",
        {**body, "duration_minutes": 30},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert response.status_code == 422
    assert Contact.objects.filter(family=family).count() == 1


def test_a_failed_write_does_not_burn_its_key(coach, family):
    client = api_verified(coach)
    bad = {**CONTACT, "family": family.pk, "duration_minutes": 0}
    assert (
        client.post("/api/contacts/", bad, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code
        == 400
    )
    assert not IdempotencyRecord.objects.exists()


def test_keys_are_per_person(coach, other_coach, family, other_family):
    api_verified(coach).post(
        "/api/contacts/", {**CONTACT, "family": family.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    response = api_verified(other_coach).post(
        "/api/contacts/",
        {**CONTACT, "family": other_family.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert response.status_code == 201
    assert Contact.objects.count() == 2


@pytest.mark.parametrize(
    "path,body",
    [
        ("/api/indicator-values/record/", lambda w: {"wave": w.pk, "values": {"ww": "1"}}),
        ("/api/indicator-values/bulk/", lambda w: [{"wave": w.pk, "values": {"ww": "1"}}]),
        ("/api/wave-surveys/", lambda w: {"wave": w.pk, "satisfaction": 3}),
    ],
)
def test_research_writes_replay_with_the_same_key(researcher, family, path, body):
    wave = family.waves.get(index=1)
    client = api_verified(researcher)
    first = client.post(path, body(wave), format="json", HTTP_IDEMPOTENCY_KEY="same")
    histories = IndicatorValue.history.count() + WaveSurvey.history.count()
    again = client.post(path, body(wave), format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert first.status_code == again.status_code and first.status_code < 300, first.content
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert IndicatorValue.history.count() + WaveSurvey.history.count() == histories


def test_bulk_contacts_replay(coach, family):
    client = api_verified(coach)
    items = [
        {**CONTACT, "family": family.pk},
        {**CONTACT, "family": family.pk, "kind": "home_visit"},
    ]
    first = client.post("/api/contacts/bulk/", items, format="json", HTTP_IDEMPOTENCY_KEY="b")
    again = client.post("/api/contacts/bulk/", items, format="json", HTTP_IDEMPOTENCY_KEY="b")
    assert first.json() == again.json() and Contact.objects.count() == 2


def test_a_coach_cannot_record_values_even_with_a_key(coach, family):
    wave = family.waves.get(index=1)
    response = api_verified(coach).post(
        "/api/indicator-values/record/",
        {"wave": wave.pk, "values": {"ww": "1"}},
        format="json",
        HTTP_IDEMPOTENCY_KEY="x",
    )
    assert response.status_code == 403
    assert not IdempotencyRecord.objects.exists()


# --- parallel writes (PostgreSQL: real row locks and unique indexes) ------------------------


def _clients(user, n: int) -> list[APIClient]:
    """n clients of one person (one token: a new login replaces the previous token)."""
    header = api_verified(user)._credentials["HTTP_AUTHORIZATION"]
    clients = []
    for _ in range(n):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        clients.append(client)
    return clients


def _parallel(n: int, work) -> list:
    results: list = [None] * n
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=20)
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and concurrent inserts need PostgreSQL"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_value_writes_to_one_wave_give_no_5xx(researcher, family):
    wave = family.waves.get(index=1)
    clients = _clients(researcher, 20)

    def work(i: int):
        body = {"wave": wave.pk, "values": {"ww": str(i % 10), "bijstand": "1"}}
        return clients[i].post("/api/indicator-values/record/", body, format="json").status_code

    codes = _parallel(20, work)
    assert codes == [200] * 20, codes
    live = IndicatorValue.objects.alive().filter(wave=wave)
    assert sorted(live.values_list("indicator__code", flat=True)) == ["bijstand", "ww"]
    ww = live.get(indicator__code="ww")
    last = ww.history.order_by("-history_id").first()
    assert last.value == ww.value, "the stored value is the last one written"


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_survey_posts_and_same_key_contacts_give_no_5xx(researcher, coach, family):
    wave = family.waves.get(index=0)
    researchers = _clients(researcher, 8)
    codes = _parallel(
        8,
        lambda i: (
            researchers[i]
            .post("/api/wave-surveys/", {"wave": wave.pk, "satisfaction": i}, format="json")
            .status_code
        ),
    )
    assert all(c in (200, 201) for c in codes), codes
    assert WaveSurvey.objects.filter(wave=wave).count() == 1
    coaches = _clients(coach, 8)
    body = {**CONTACT, "family": family.pk}
    codes = _parallel(
        8,
        lambda i: (
            coaches[i]
            .post("/api/contacts/", body, format="json", HTTP_IDEMPOTENCY_KEY="double")
            .status_code
        ),
    )
    assert codes == [201] * 8, codes
    assert Contact.objects.filter(family=family).count() == 1


def test_old_keys_are_forgotten(coach, family):
    from datetime import timedelta

    from django.utils import timezone

    from study.idempotency import idempotency_prune

    client = api_verified(coach)
    client.post(
        "/api/contacts/",
        {**CONTACT, "family": family.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="old",
    )
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=8))
    assert idempotency_prune() == 1
    assert not IdempotencyRecord.objects.exists()


def test_a_professional_survey_replays_with_the_same_key(researcher, study):
    from study.models import Professional, ProfessionalSurvey

    professional = Professional.objects.create(
        study=study, code="P-01", organisation="Wijkteam", approach="new"
    )
    client = api_verified(researcher)
    body = {"professional": professional.pk, "year": 2025, "autonomy": 3}
    first = client.post("/api/professional-surveys/", body, format="json", HTTP_IDEMPOTENCY_KEY="p")
    histories = ProfessionalSurvey.history.count()
    again = client.post("/api/professional-surveys/", body, format="json", HTTP_IDEMPOTENCY_KEY="p")
    assert first.status_code == 201 and again.status_code == 201, first.content
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert ProfessionalSurvey.history.count() == histories
    other = client.post(
        "/api/professional-surveys/",
        {**body, "autonomy": 4},
        format="json",
        HTTP_IDEMPOTENCY_KEY="p",
    )
    assert other.status_code == 422
