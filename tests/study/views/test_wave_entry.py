"""The wave entry page: values from the catalogue, errors by field, carry-forward, lock/unlock."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from study.catalogue import indicators_for
from study.models import IndicatorValue, Wave, WaveSurvey
from study.services.families import MemberSpec
from study.services.values import indicator_values_record
from study.services.waves import wave_entry_record, wave_lock
from tests.factories import make_family, make_user


def _url(wave: Wave) -> str:
    return reverse("study:wave_entry", args=[wave.pk])


def _post(client, wave: Wave, **data):
    return client.post(_url(wave), data)


@pytest.fixture
def t1(family) -> Wave:
    return family.waves.get(index=1)


def _live(wave: Wave) -> dict[str, IndicatorValue]:
    return {v.indicator.code: v for v in IndicatorValue.objects.alive().filter(wave=wave)}


def test_researcher_sees_one_field_per_catalogue_indicator_grouped_by_level(client, researcher, t1):
    client.force_login(researcher)
    response = client.get(_url(t1))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="v_bijstand"' in html and 'name="m_bijstand"' in html
    for level in ("household", "adult", "child"):
        assert f'data-level="{level}"' in html
    assert 'name="satisfaction"' in html


def test_researcher_saves_values_missing_codes_and_survey_together(client, researcher, t1):
    client.force_login(researcher)
    response = _post(
        client, t1, v_bijstand="1", m_ww="refused", satisfaction="7", participation_step="3"
    )
    assert response.status_code == 302
    values = _live(t1)
    assert values["bijstand"].value == Decimal("1.00")
    assert values["ww"].value is None and values["ww"].missing_code == "refused"
    assert WaveSurvey.objects.get(wave=t1).satisfaction == 7


def test_out_of_range_value_is_shown_next_to_its_field_and_nothing_is_saved(client, researcher, t1):
    client.force_login(researcher)
    response = _post(client, t1, v_bijstand="99", v_ww="1", satisfaction="8")
    assert response.status_code == 400
    html = response.content.decode()
    error = html.split('id="error-bijstand"')[1].split("</ul>")[0]
    assert "99" in error and "10" in error, error
    assert _live(t1) == {}
    assert not WaveSurvey.objects.filter(wave=t1).exists()


def test_a_fraction_for_a_count_is_refused_in_plain_words(client, researcher, t1):
    client.force_login(researcher)
    response = _post(client, t1, v_bijstand="1.5")
    assert response.status_code == 400
    assert 'id="error-bijstand"' in response.content.decode()
    assert _live(t1) == {}


def test_number_and_missing_code_together_are_refused(client, researcher, t1):
    client.force_login(researcher)
    response = _post(client, t1, v_bijstand="1", m_bijstand="unknown")
    assert response.status_code == 400
    assert 'id="error-bijstand"' in response.content.decode()


def test_a_bad_survey_answer_keeps_the_good_values_unsaved(client, researcher, t1):
    client.force_login(researcher)
    response = _post(client, t1, v_bijstand="1", satisfaction="11")
    assert response.status_code == 400
    assert _live(t1) == {}


def test_service_rolls_back_values_when_the_survey_fails(researcher, family):
    wave = family.waves.get(index=0)
    with pytest.raises(ValidationError) as caught:
        wave_entry_record(
            wave=wave, values={"bijstand": "1"}, survey={"satisfaction": 12}, user=researcher
        )
    assert "satisfaction" in caught.value.message_dict
    assert _live(wave) == {}


def test_child_indicator_on_a_family_without_children_is_refused(client, researcher, study):
    family = make_family(
        study,
        user=researcher,
        members=[MemberSpec("adult", 1980), MemberSpec("child", 2013)],
    )
    for member in family.members.filter(role="child"):
        member.is_deleted = True
        member.save()
    child_code = next(i.code for i in indicators_for(study) if i.level == "child")
    wave = family.waves.get(index=1)
    client.force_login(researcher)
    response = _post(client, wave, **{f"v_{child_code}": "1"})
    assert response.status_code == 400
    assert f'id="error-{child_code}"' in response.content.decode()


def test_previous_wave_values_are_suggested_beside_empty_fields_not_in_them(
    client, researcher, family
):
    t0, t1 = family.waves.get(index=0), family.waves.get(index=1)
    indicator_values_record(wave=t0, values={"bijstand": 2, "ww": "unknown"})
    client.force_login(researcher)
    html = client.get(_url(t1)).content.decode()
    row = html.split('id="row-bijstand"')[1].split('id="row-')[0]
    assert 'name="c_bijstand"' in row and "2 from T0" in row
    assert 'name="v_bijstand" value="2"' not in row, "a suggestion is not put in the field"
    assert _live(t1) == {}, "a suggestion is not saved by looking at it"


def test_save_and_close_returns_to_the_family(client, researcher, t1):
    client.force_login(researcher)
    response = _post(client, t1, v_bijstand="0", then="family")
    assert response.url == reverse("study:family_detail", args=[t1.family_id])


def test_locked_wave_is_read_only_with_a_clear_message(client, researcher, t1):
    wave_lock(wave=t1, user=researcher)
    client.force_login(researcher)
    html = client.get(_url(t1)).content.decode()
    assert 'id="locked-notice"' in html
    assert 'name="v_bijstand"' in html and "disabled" in html
    _post(client, t1, v_bijstand="1")
    assert _live(t1) == {}


def test_researcher_locks_and_only_a_data_manager_unlocks_with_a_reason(
    client, researcher, data_manager, t1
):
    client.force_login(researcher)
    client.post(reverse("study:wave_lock", args=[t1.pk]))
    t1.refresh_from_db()
    assert t1.locked
    assert (
        client.post(reverse("study:wave_unlock", args=[t1.pk]), {"reason": "x"}).status_code == 403
    )
    client.force_login(data_manager)
    client.post(reverse("study:wave_unlock", args=[t1.pk]), {"reason": ""})
    t1.refresh_from_db()
    assert t1.locked, "no reason, no unlock"
    client.post(reverse("study:wave_unlock", args=[t1.pk]), {"reason": "typo in bijstand"})
    t1.refresh_from_db()
    assert not t1.locked


def test_mark_wave_completed_and_missed(client, researcher, family):
    client.force_login(researcher)
    t0, t1 = family.waves.get(index=0), family.waves.get(index=1)
    client.post(reverse("study:wave_complete", args=[t0.pk]), {"completed_date": "2021-03-02"})
    t0.refresh_from_db()
    assert t0.status == Wave.Status.COMPLETED and str(t0.completed_date) == "2021-03-02"
    client.post(reverse("study:wave_missed", args=[t1.pk]), {"missed_reason": ""})
    t1.refresh_from_db()
    assert t1.status != Wave.Status.MISSED
    client.post(reverse("study:wave_missed", args=[t1.pk]), {"missed_reason": "moved abroad"})
    t1.refresh_from_db()
    assert t1.status == Wave.Status.MISSED and t1.missed_reason == "moved abroad"


def test_pre_intake_wave_has_no_survey(client, researcher, family):
    client.force_login(researcher)
    html = client.get(_url(family.waves.get(index=-1))).content.decode()
    assert 'name="v_bijstand"' in html and 'name="satisfaction"' not in html


def test_data_manager_may_enter_values(client, data_manager, t1):
    client.force_login(data_manager)
    assert client.get(_url(t1)).status_code == 200


@pytest.mark.parametrize("who", ["coach", "other_coach", "gemeente_user", "stranger"])
def test_others_cannot_open_the_wave_entry(client, request, t1, who):
    user = make_user("researcher") if who == "stranger" else request.getfixturevalue(who)
    client.force_login(user)
    expected = {"coach": 403}.get(who, 404)
    assert client.get(_url(t1)).status_code == expected
    assert client.post(_url(t1), {"v_bijstand": "1"}).status_code == expected
    assert client.post(reverse("study:wave_lock", args=[t1.pk])).status_code == expected
    assert _live(t1) == {}


def test_anonymous_is_sent_to_login(client, t1):
    response = client.get(_url(t1))
    assert response.status_code == 302 and "/accounts/login/" in response.url
