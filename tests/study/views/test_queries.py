"""Query pages: the study's open queries, a query's thread (answer, close), open queries on the
record grid and the wave page; a coach sees none of it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from study.models import DataQuery, Indicator, QualityRule
from study.services.values import indicator_values_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def query(study, family, researcher):
    QualityRule.objects.create(
        study=study,
        kind=QualityRule.Kind.RANGE,
        indicator=Indicator.objects.get(code="bijstand", study__isnull=True),
        params={"min": 0, "max": 4},
    )
    indicator_values_record(wave=family.waves.get(index=1), values={"bijstand": 6}, user=researcher)
    return DataQuery.objects.get()


def test_the_query_is_listed_shown_on_the_grid_and_the_wave(
    client, researcher, study, family, query
):
    client.force_login(researcher)
    listing = client.get(reverse("study:query_list", args=[study.pk])).content.decode()
    assert f'id="query-{query.pk}"' in listing
    grid = client.get(reverse("study:record_status", args=[study.pk]))
    assert grid.context["grid"]["rows"][0]["open_queries"] == 1
    wave_page = client.get(reverse("study:wave_entry", args=[query.wave_id])).content.decode()
    assert reverse("study:query_detail", args=[query.pk]) in wave_page


def test_answer_and_close_on_the_thread_page(client, researcher, data_manager, query):
    url = reverse("study:query_detail", args=[query.pk])
    client.force_login(researcher)
    page = client.get(url).content.decode()
    assert 'id="answer-form"' in page and 'id="close-form"' not in page
    client.post(url, {"action": "answer", "text": "Checked: right."})
    query.refresh_from_db()
    assert query.status == "answered"
    client.force_login(data_manager)
    assert client.post(url, {"action": "close", "reason": ""}).status_code == 400
    client.post(url, {"action": "close", "reason": "confirmed by the registry"})
    query.refresh_from_db()
    assert query.status == "closed" and query.closed_by == data_manager


def test_a_coach_cannot_see_queries(client, coach, study, query):
    client.force_login(coach)
    assert client.get(reverse("study:query_detail", args=[query.pk])).status_code == 404
    assert client.get(reverse("study:query_list", args=[study.pk])).status_code == 404


def test_a_closed_query_is_reopened_on_its_page_and_the_grid_links_per_family(
    client, researcher, data_manager, study, family, query
):
    from study.services.quality import query_close

    query_close(query=query, reason="fine", user=data_manager)
    url = reverse("study:query_detail", args=[query.pk])
    client.force_login(researcher)
    page = client.get(url).content.decode()
    assert 'id="reopen-form"' in page and 'id="answer-form"' not in page
    assert client.post(url, {"action": "reopen", "reason": ""}).status_code == 400
    client.post(url, {"action": "reopen", "reason": "the registry was corrected"})
    query.refresh_from_db()
    assert query.status == "open"
    grid = client.get(reverse("study:record_status", args=[study.pk])).content.decode()
    per_family = f"{reverse('study:query_list', args=[study.pk])}?family={family.pk}"
    assert per_family in grid
    listing = client.get(per_family)
    assert [q.pk for q in listing.context["queries"]] == [query.pk]
