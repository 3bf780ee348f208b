"""The readable audit trail: names not ids, old → new values with labels, created values shown,
filters by person, wave, field and date, pages, CSV, and every look access-logged."""

from __future__ import annotations

import pytest
from django.urls import reverse

from study.models import AccessEvent
from study.services.values import indicator_values_record
from study.services.waves import wave_entry_record, wave_lock, wave_unlock
from tests.factories import make_family

pytestmark = pytest.mark.django_db


def _html(client, url, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_family_trail_shows_names_labels_and_old_and_new_values(
    client, family, researcher, data_manager
):
    t1 = family.waves.get(index=1)
    indicator_values_record(wave=t1, values={"bijstand": 2}, user=researcher)
    wave_entry_record(wave=t1, values={"bijstand": "3"}, user=researcher)
    wave_lock(wave=t1, user=researcher)
    wave_unlock(wave=t1, user=data_manager, reason="typo")
    client.force_login(researcher)
    html = _html(client, reverse("study:family_audit", args=[family.pk]))
    assert "social assistance" in html, "the indicator's label, not its id"
    assert "2 → 3" in html
    assert "— → 2" in html, "a created value shows its value"
    assert f"{researcher.username} → —" in html, "locked by: a name, not an id"
    assert "typo" in html


def test_filters_by_person_wave_field_and_date(client, family, researcher, data_manager):
    indicator_values_record(wave=family.waves.get(index=0), values={"ww": 1}, user=researcher)
    indicator_values_record(
        wave=family.waves.get(index=1), values={"bijstand": 1}, user=data_manager
    )
    client.force_login(researcher)
    url = reverse("study:family_audit", args=[family.pk])
    by_person = _html(client, url, person=data_manager.username)
    assert "social assistance" in by_person and "unemployment" not in by_person
    by_wave = _html(client, url, wave="0")
    assert "unemployment" in by_wave and "social assistance" not in by_wave
    by_field = _html(client, url, field="ww")
    assert "unemployment" in by_field and "social assistance" not in by_field
    assert "No changes match" in _html(client, url, since="2999-01-01")


def test_the_trail_is_paged(client, study, researcher):
    family = make_family(study, user=researcher)
    for i in range(60):
        indicator_values_record(
            wave=family.waves.get(index=1), values={"bijstand": i % 10}, user=researcher
        )
    client.force_login(researcher)
    url = reverse("study:family_audit", args=[family.pk])
    first = _html(client, url)
    assert 'id="audit-next"' in first and first.count('<tr class="audit-') == 50
    second = _html(client, url, page="2")
    assert 'rel="prev"' in second and second.count('<tr class="audit-') > 0


def test_csv_export_and_every_look_is_access_logged(client, family, researcher):
    indicator_values_record(wave=family.waves.get(index=1), values={"bijstand": 2}, user=researcher)
    client.force_login(researcher)
    url = reverse("study:family_audit", args=[family.pk])
    before = AccessEvent.objects.filter(action__startswith="audit.").count()
    client.get(url)
    response = client.get(url, {"format": "csv", "field": "bijstand"})
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[0].startswith("when,who,what")
    assert researcher.username in body and ",2," in body
    actions = list(
        AccessEvent.objects.filter(action__startswith="audit.")
        .order_by("id")
        .values_list("action", "detail")
    )[before:]
    assert [a for a, _d in actions] == ["audit.view", "audit.export"]
    assert "field=bijstand" in actions[1][1]


def test_the_study_wide_trail_covers_its_families_for_researchers_only(
    client, study, family, other_family, researcher, coach
):
    indicator_values_record(wave=family.waves.get(index=1), values={"bijstand": 2}, user=researcher)
    indicator_values_record(wave=other_family.waves.get(index=1), values={"ww": 1}, user=researcher)
    client.force_login(researcher)
    url = reverse("study:study_audit", args=[study.pk])
    html = _html(client, url)
    assert family.pseudonym in html and other_family.pseudonym in html
    assert url in _html(client, reverse("study:study_detail", args=[study.pk]))
    client.force_login(coach)
    assert client.get(url).status_code == 404
