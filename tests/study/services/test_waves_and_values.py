"""Waves, locking, indicator values and missing-data codes."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from study.models import IndicatorValue, Wave
from study.services.common import WaveLockedError
from study.services.values import indicator_values_record
from study.services.waves import wave_lock, wave_unlock
from tests.factories import make_family


def t(family, index):
    return family.waves.get(index=index)


def test_schedule_has_pre_intake_years_and_yearly_waves(family):
    waves = list(family.waves.order_by("index"))
    assert [w.index for w in waves] == [-2, -1, 0, 1, 2, 3, 4]
    assert [w.year for w in waves] == [2019, 2020, 2021, 2022, 2023, 2024, 2025]
    assert t(family, 2).due_date == date(2023, 3, 1)
    assert t(family, -1).status == Wave.Status.REGISTRY


def test_wave_status_is_derived_from_the_window(family):
    wave = t(family, 1)
    assert wave.status_on(date(2021, 6, 1)) == Wave.Status.PLANNED
    assert wave.status_on(date(2022, 3, 1)) == Wave.Status.DUE
    assert wave.status_on(date(2022, 9, 1)) == Wave.Status.OVERDUE


def test_locked_wave_refuses_an_edit(family, researcher):
    wave = t(family, 0)
    indicator_values_record(wave=wave, values={"bijstand": 1}, user=researcher)
    wave_lock(wave=wave, user=researcher)
    with pytest.raises(WaveLockedError, match="locked"):
        indicator_values_record(wave=wave, values={"bijstand": 0}, user=researcher)
    assert IndicatorValue.objects.get(wave=wave).value == Decimal("1.00")


def test_only_a_data_manager_unlocks_with_a_reason(family, researcher, data_manager):
    wave = wave_lock(wave=t(family, 0), user=researcher)
    with pytest.raises(PermissionDenied):
        wave_unlock(wave=wave, user=researcher, reason="typo")
    with pytest.raises(ValidationError):
        wave_unlock(wave=wave, user=data_manager, reason="")
    wave_unlock(wave=wave, user=data_manager, reason="registry correction")
    wave.refresh_from_db()
    assert not wave.locked
    assert wave.history.first().history_change_reason == "wave unlocked: registry correction"


def test_missing_code_is_not_zero(family, researcher):
    wave = t(family, 0)
    indicator_values_record(wave=wave, values={"bijstand": "refused", "ww": 0}, user=researcher)
    refused = IndicatorValue.objects.get(wave=wave, indicator__code="bijstand")
    zero = IndicatorValue.objects.get(wave=wave, indicator__code="ww")
    assert refused.value is None and refused.missing_code == "refused"
    assert zero.value == 0 and zero.missing_code == ""


def test_out_of_range_value_saves_nothing(family, researcher):
    wave = t(family, 0)
    with pytest.raises(ValidationError) as excinfo:
        indicator_values_record(
            wave=wave, values={"bijstand": 1, "child_foster_care_days": 400}, user=researcher
        )
    assert "child_foster_care_days" in excinfo.value.message_dict
    assert "out of range" in excinfo.value.message_dict["child_foster_care_days"][0]
    assert not IndicatorValue.objects.filter(wave=wave).exists()


def test_fractional_count_is_refused(family, researcher):
    with pytest.raises(ValidationError, match="whole number"):
        indicator_values_record(wave=t(family, 0), values={"ww": "1.5"}, user=researcher)


def test_child_indicator_on_family_without_children_is_refused(study, researcher):
    from study.services.families import MemberSpec

    family = make_family(study, members=[MemberSpec("adult", 1980), MemberSpec("child", 2015)])
    family.members.filter(role="child").update(is_deleted=True)
    with pytest.raises(ValidationError, match="no child"):
        indicator_values_record(wave=t(family, 0), values={"child_ots": 1}, user=researcher)


def test_recording_the_same_values_twice_changes_nothing(family, researcher):
    wave = t(family, 0)
    indicator_values_record(wave=wave, values={"bijstand": 1, "ww": 0}, user=researcher)
    outcome = indicator_values_record(wave=wave, values={"bijstand": 1, "ww": 0}, user=researcher)
    assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 0, 2)


def test_enrolment_refuses_a_41st_intervention_family(study):
    for _ in range(40):
        make_family(study)
    with pytest.raises(ValidationError, match="full"):
        make_family(study)
    make_family(study, "comparison")  # the comparison arm has no cap by default


def test_enrolment_refuses_a_family_without_chronicity(study):
    eligibility = {
        "elig_socio_economic": True,
        "elig_adult_psychosocial": True,
        "elig_child_psychosocial": True,
        "elig_chronic": False,
    }
    with pytest.raises(ValidationError, match="two preceding years"):
        make_family(study, eligibility=eligibility)


def test_enrolment_records_allocation(study, researcher):
    family = make_family(study, allocation="randomised", user=researcher)
    assert family.allocation == "randomised" and family.allocated_by == researcher
