"""The record status dashboard: families x waves, each status in colour and in words, filters by
arm, wijk, coach and status, counts per wave; the same status words on every page."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from study.services.care import caseload_assign
from study.services.waves import wave_complete, wave_lock
from tests.factories import make_family, make_user

pytestmark = pytest.mark.django_db


def _grid(client, study, **params):
    response = client.get(reverse("study:record_status", args=[study.pk]), params)
    assert response.status_code == 200
    return response


def test_the_grid_shows_every_family_and_wave_in_colour_and_words(
    client, researcher, study, family, other_family
):
    t0 = family.waves.get(index=0)
    wave_complete(wave=t0, on=date(2021, 3, 5), user=researcher)
    wave_lock(wave=family.waves.get(index=-1), user=researcher)
    client.force_login(researcher)
    response = _grid(client, study)
    html = response.content.decode()
    row = html.split(f'id="family-{family.pk}"')[1].split("</tr>")[0]
    assert 'class="badge completed"' in row and ">completed<" in row
    assert 'class="badge locked"' in row and ">locked<" in row
    assert f'id="family-{other_family.pk}"' in html
    counts = dict(response.context["grid"]["counts"])[0]
    assert dict(counts)["completed"] == 1


def test_filters_by_arm_wijk_coach_and_status(
    client, researcher, study, family, other_family, coach
):
    wave_complete(wave=family.waves.get(index=0), on=date(2021, 3, 5), user=researcher)
    third = make_family(study, wijk="Kerkelanden", user=researcher)
    client.force_login(researcher)

    def shown(**params):
        return {r["family"].pk for r in _grid(client, study, **params).context["grid"]["rows"]}

    assert shown(arm="comparison") == {other_family.pk}
    assert shown(wijk="Kerkelanden") == {third.pk}
    assert shown(coach=coach.username) == {family.pk}
    assert shown(status="completed") == {family.pk}


def test_a_coach_sees_only_the_families_on_their_caseload(
    client, study, family, other_family, coach
):
    client.force_login(coach)
    rows = _grid(client, study).context["grid"]["rows"]
    assert [r["family"].pk for r in rows] == [family.pk]


def test_the_same_status_words_on_the_family_page_and_the_wave_page(client, researcher, family):
    client.force_login(researcher)
    wave = family.waves.get(index=1)
    today = timezone.localdate()
    status = wave.record_status(today)
    family_page = client.get(reverse("study:family_detail", args=[family.pk])).content.decode()
    wave_page = client.get(reverse("study:wave_entry", args=[wave.pk])).content.decode()
    word = {"planned": "planned", "due": "due", "overdue": "overdue"}[status]
    badge = f'<span class="badge {status}">{word}</span>'
    assert badge in family_page.split('id="wave-1"')[1].split("</tr>")[0]
    assert badge in wave_page


def test_a_stranger_gets_404(client, study):
    client.force_login(make_user("researcher"))
    assert client.get(reverse("study:record_status", args=[study.pk])).status_code == 404


def test_the_grid_takes_a_fixed_number_of_queries(
    client, researcher, study, django_assert_max_num_queries, coach
):
    for _ in range(5):
        f = make_family(study, user=researcher)
        caseload_assign(family=f, coach=coach, start_date=date(2021, 3, 1))
    client.force_login(researcher)
    with django_assert_max_num_queries(25):
        _grid(client, study)


def test_the_grid_pages_by_families_and_counts_every_filtered_family(client, researcher, study):
    """REDCap's and Castor's dashboards page their records: 50 families a page (25 or 100 on
    request), the filters kept in the page links, the counts per wave over all families, and
    the access log names the families shown."""
    from study.models import AccessEvent

    study.intervention_cap = 1000
    study.save(update_fields=["intervention_cap"])
    for _ in range(55):
        make_family(study, "intervention", user=researcher)
    client.force_login(researcher)
    first = _grid(client, study, arm="intervention")
    assert len(first.context["rows"]) == 50
    html = first.content.decode()
    assert "arm=intervention&amp;page=2" in html and 'id="record-next"' in html
    second = _grid(client, study, arm="intervention", page=2)
    shown = [r["family"].pk for r in second.context["rows"]]
    assert len(shown) == 5
    assert not set(shown) & {r["family"].pk for r in first.context["rows"]}
    t0 = dict(second.context["grid"]["counts"])[0]
    assert sum(n for _status, n in t0) == 55
    event = AccessEvent.objects.filter(action="study.records").order_by("-pk").first()
    assert sorted(event.family_ids) == sorted(shown) and event.row_count == 5
    assert len(_grid(client, study, per_page=25).context["rows"]) == 25
    assert len(_grid(client, study, per_page=7).context["rows"]) == 50  # not a choice: 50
