"""The wave entry page never invents or loses a value: suggestions stored only when confirmed,
clearing clears, every error at once, no lost update between two editors, soft limits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from study.models import IndicatorValue, StudyDataPolicy, Wave, WaveSurvey
from study.services.values import indicator_values_record, wave_version
from study.services.waves import wave_entry_record
from tests.factories import make_family


def _url(wave: Wave) -> str:
    return reverse("study:wave_entry", args=[wave.pk])


def _live(wave: Wave) -> dict[str, IndicatorValue]:
    return {v.indicator.code: v for v in IndicatorValue.objects.alive().filter(wave=wave)}


@pytest.fixture
def waves(family):
    t0, t1 = family.waves.get(index=0), family.waves.get(index=1)
    indicator_values_record(wave=t0, values={"bijstand": 2, "ww": 1, "moves": "unknown"})
    return t0, t1


def test_unconfirmed_suggestions_are_not_stored_and_the_message_says_how_many(
    client, researcher, waves
):
    _t0, t1 = waves
    client.force_login(researcher)
    version = client.get(_url(t1)).context["form"]["version"].value()
    response = client.post(_url(t1), {"version": version, "v_bijstand": "3"}, follow=True)
    assert set(_live(t1)) == {"bijstand"}, "the untouched suggestions were not stored"
    text = [str(m) for m in response.context["messages"]][0]
    assert "1 new" in text and "2 suggestions from T0 were left unconfirmed" in text


def test_a_confirmed_suggestion_is_stored_with_the_person_who_confirmed_it(
    client, researcher, waves
):
    _t0, t1 = waves
    client.force_login(researcher)
    client.post(_url(t1), {"c_ww": "on", "c_moves": "on"})
    values = _live(t1)
    assert values["ww"].value == Decimal("1.00") and values["moves"].missing_code == "unknown"
    assert "bijstand" not in values
    assert values["ww"].history.first().history_user == researcher


def test_confirm_all_of_a_section(client, researcher, waves):
    _t0, t1 = waves
    client.force_login(researcher)
    client.post(_url(t1), {"ca_household": "on"})
    assert set(_live(t1)) == {"bijstand", "ww", "moves"}


def test_emptying_a_field_soft_deletes_the_value_audited(client, researcher, family):
    t1 = family.waves.get(index=1)
    indicator_values_record(wave=t1, values={"bijstand": 3, "ww": 1})
    client.force_login(researcher)
    version = client.get(_url(t1)).context["form"]["version"].value()
    response = client.post(
        _url(t1), {"version": version, "v_bijstand": "", "v_ww": "1"}, follow=True
    )
    assert set(_live(t1)) == {"ww"}
    gone = IndicatorValue.objects.get(wave=t1, indicator__code="bijstand")
    assert gone.is_deleted and gone.deleted_at is not None
    last = gone.history.order_by("-history_id").first()
    assert last.history_user == researcher and last.is_deleted
    assert "1 cleared" in [str(m) for m in response.context["messages"]][0]


def test_a_study_that_requires_a_reason_asks_for_it_instead_of_clearing(
    client, researcher, family, study
):
    StudyDataPolicy.objects.create(study=study, require_missing_reason=True)
    t1 = family.waves.get(index=1)
    indicator_values_record(wave=t1, values={"bijstand": 3})
    client.force_login(researcher)
    response = client.post(_url(t1), {"v_bijstand": ""})
    assert response.status_code == 400
    assert "missing" in response.content.decode().split('id="error-bijstand"')[1][:400]
    assert _live(t1)["bijstand"].value == Decimal("3.00")
    client.post(_url(t1), {"v_bijstand": "", "m_bijstand": "refused"})
    assert _live(t1)["bijstand"].missing_code == "refused"


def test_registry_and_survey_errors_are_shown_at_once_with_a_linked_summary(
    client, researcher, family
):
    t1 = family.waves.get(index=1)
    client.force_login(researcher)
    response = client.post(_url(t1), {"v_bijstand": "99", "v_ww": "1", "satisfaction": "11"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-bijstand"' in html and 'id="error-satisfaction"' in html
    summary = html.split('id="error-summary"')[1].split("</div>")[0]
    assert 'href="#id_v_bijstand"' in summary and 'href="#id_satisfaction"' in summary
    assert _live(t1) == {} and not WaveSurvey.objects.filter(wave=t1).exists()


def test_a_value_beyond_the_soft_limit_asks_for_confirmation_and_records_it(
    client, researcher, study
):
    StudyDataPolicy.objects.create(study=study, soft_limit_min_values=5)
    for _ in range(6):
        other = make_family(study, user=researcher)
        indicator_values_record(wave=other.waves.get(index=1), values={"bijstand": 1})
    target = make_family(study, user=researcher).waves.get(index=1)
    client.force_login(researcher)
    response = client.post(_url(target), {"v_bijstand": "4"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "unusually high" in html and 'name="sc_bijstand"' in html
    assert _live(target) == {}
    client.post(_url(target), {"v_bijstand": "4", "sc_bijstand": "on"})
    value = _live(target)["bijstand"]
    assert value.value == Decimal("4.00")
    assert "soft limit: bijstand" in value.history.first().history_change_reason


def test_a_stale_form_does_not_undo_another_persons_change(client, researcher, family):
    """A and B open the wave; B saves ww = 1; A, whose form is older, saves bijstand: ww stays."""
    t1 = family.waves.get(index=1)
    indicator_values_record(wave=t1, values={"ww": 0, "bijstand": 0})
    client.force_login(researcher)
    version_a = client.get(_url(t1)).context["form"]["version"].value()
    wave_entry_record(wave=t1, values={"ww": "1"}, base_version=wave_version(t1), user=researcher)
    response = client.post(
        _url(t1), {"version": version_a, "v_ww": "0", "v_bijstand": "2"}, follow=True
    )
    assert response.status_code == 200
    values = _live(t1)
    assert values["ww"].value == Decimal("1.00"), "B's change survives"
    assert values["bijstand"].value == Decimal("2.00"), "A's change to another field merges"


def test_changing_the_same_field_shows_both_values_and_saves_nothing(client, researcher, family):
    t1 = family.waves.get(index=1)
    indicator_values_record(wave=t1, values={"ww": 0})
    client.force_login(researcher)
    version_a = client.get(_url(t1)).context["form"]["version"].value()
    wave_entry_record(wave=t1, values={"ww": "1"}, base_version=version_a, user=researcher)
    response = client.post(_url(t1), {"version": version_a, "v_ww": "2", "v_bijstand": "1"})
    assert response.status_code == 409
    error = response.content.decode().split('id="error-ww"')[1].split("</ul>")[0]
    assert "“1”" in error and "“2”" in error
    assert _live(t1)["ww"].value == Decimal("1.00") and "bijstand" not in _live(t1)
    form = response.context["form"]
    assert form["version"].value() == wave_version(t1), "saving again is based on what is stored"
    again = client.post(_url(t1), dict(form.data.items()))
    assert again.status_code == 302
    assert _live(t1)["ww"].value == Decimal("2.00")


def test_a_stale_survey_answer_conflicts_too(client, researcher, family):
    t1 = family.waves.get(index=1)
    client.force_login(researcher)
    version_a = client.get(_url(t1)).context["form"]["version"].value()
    wave_entry_record(wave=t1, values={}, survey={"satisfaction": 5}, user=researcher)
    response = client.post(_url(t1), {"version": version_a, "satisfaction": "8"})
    assert response.status_code == 409
    assert WaveSurvey.objects.get(wave=t1).satisfaction == 5


def test_the_reason_for_a_change_is_kept_in_the_history(client, researcher, family):
    t1 = family.waves.get(index=1)
    indicator_values_record(wave=t1, values={"bijstand": 3, "ww": 1})
    client.force_login(researcher)
    client.post(_url(t1), {"v_bijstand": "2", "v_ww": "", "change_reason": "letter from the UWV"})
    changed = _live(t1)["bijstand"].history.order_by("-history_id").first()
    assert changed.history_change_reason == "letter from the UWV"
    cleared = IndicatorValue.objects.get(wave=t1, indicator__code="ww")
    assert cleared.deleted_reason == "letter from the UWV"
