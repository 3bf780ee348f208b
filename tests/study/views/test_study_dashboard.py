"""The study dashboard: counts over every family, the family list paged by 50, the read log
naming the families shown."""

from __future__ import annotations

import pytest
from django.urls import reverse

from study.models import AccessEvent
from tests.factories import make_family

pytestmark = pytest.mark.django_db


def _dashboard(client, study, **params):
    response = client.get(reverse("study:study_detail", args=[study.pk]), params)
    assert response.status_code == 200
    return response


def test_the_family_list_pages_by_50_and_the_counts_cover_every_family(client, researcher, study):
    study.intervention_cap = 1000
    study.save(update_fields=["intervention_cap"])
    made = {make_family(study, "intervention", user=researcher).pk for _ in range(55)}
    client.force_login(researcher)
    first = _dashboard(client, study)
    on_first = [f.pk for f in first.context["families"]]
    assert len(on_first) == 50
    html = first.content.decode()
    assert 'id="family-next"' in html and "?page=2" in html
    event = AccessEvent.objects.filter(action="study.families").order_by("-pk").first()
    assert sorted(event.family_ids) == sorted(on_first) and event.row_count == 50

    second = _dashboard(client, study, page=2)
    on_second = [f.pk for f in second.context["families"]]
    assert len(on_second) == 5 and set(on_first) | set(on_second) == made
    assert second.context["dashboard"]["n_families"] == 55
    assert second.context["dashboard"]["arms"]["intervention"]["total"] == 55
    html = second.content.decode()
    assert "Families 51-55 of 55" in html and 'id="family-next"' not in html
    for pk in on_second:
        assert reverse("study:family_detail", args=[pk]) in html
    event = AccessEvent.objects.filter(action="study.families").order_by("-pk").first()
    assert sorted(event.family_ids) == sorted(on_second) and event.row_count == 5


def test_a_short_family_list_has_no_pager(client, researcher, study, family, other_family):
    client.force_login(researcher)
    response = _dashboard(client, study)
    assert {f.pk for f in response.context["families"]} == {family.pk, other_family.pk}
    assert 'id="family-pages"' not in response.content.decode()
