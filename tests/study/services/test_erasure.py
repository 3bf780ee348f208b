"""Erasure of a withdrawn family's values, where a study needs it: a data manager, a verified
session, a reason and two confirmations; the values leave the live rows and the history, the
seals are made again so that verify_audit reports intact, and the erasure itself is recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from study import bulk_sql
from study.audit import audit_seal, verify_all
from study.models import (
    AccessEvent,
    AuditSeal,
    Contact,
    Family,
    FamilyErasure,
    IndicatorValue,
    StudyDataPolicy,
    WaveSurvey,
)
from study.services.care import care_involvement_add
from study.services.contacts import contact_log
from study.services.erasure import family_erasure_execute, family_erasure_request
from study.services.families import family_set_status
from study.services.surveys import wave_survey_record
from study.services.values import indicator_values_record
from tests.otp import login_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def withdrawn(study, family, other_family, researcher, coach):
    StudyDataPolicy.objects.create(study=study, withdrawal=StudyDataPolicy.Withdrawal.REMOVE)
    for fam in (family, other_family):
        wave = fam.waves.get(index=0)
        indicator_values_record(wave=wave, values={"bijstand": 1, "ww": 3}, user=researcher)
        wave_survey_record(wave=wave, data={"satisfaction": 7}, user=researcher)
    contact_log(
        family=family,
        coach=coach,
        occurred_at=datetime(2022, 5, 1, 10, tzinfo=UTC),
        kind=Contact.Kind.PHONE,
        duration_minutes=15,
        initiated_by=Contact.Initiator.COACH,
        note="talked about debts",
    )
    care_involvement_add(
        family=family,
        organisation="Schuldhulp Almelo",
        discipline="schuldhulpverlener",
        start_date=date(2021, 4, 1),
        user=coach,
    )
    indicator_values_record(wave=family.waves.get(index=0), values={"ww": 4}, user=researcher)
    audit_seal(delay_seconds=0)  # the values are sealed: the erasure has seals to make again
    family_set_status(
        family=family,
        status=Family.Status.WITHDRAWN,
        on=date(2026, 1, 1),
        reason="consent",
        user=researcher,
    )
    return Family._base_manager.get(pk=family.pk)


def _request(family, user, **kw):
    args = {
        "family": family,
        "reason": "the family asked for erasure (AVG art. 17)",
        "typed_pseudonym": family.pseudonym,
        "confirmed": True,
        "user": user,
        "second_factor": True,
    } | kw
    return family_erasure_request(**args)


def test_only_a_verified_data_manager_with_both_confirmations_asks(
    withdrawn, researcher, data_manager
):
    with pytest.raises(PermissionDenied):
        _request(withdrawn, researcher)
    with pytest.raises(PermissionDenied):
        _request(withdrawn, data_manager, second_factor=False)
    with pytest.raises(ValidationError) as refused:
        _request(withdrawn, data_manager, reason=" ", typed_pseudonym="G-WRONG", confirmed=False)
    assert set(refused.value.message_dict) == {"reason", "typed_pseudonym", "confirmed"}
    assert not FamilyErasure.objects.exists()


def test_a_family_that_did_not_withdraw_cannot_be_erased(other_family, data_manager, study):
    StudyDataPolicy.objects.create(study=study, withdrawal=StudyDataPolicy.Withdrawal.REMOVE)
    with pytest.raises(ValidationError):
        _request(other_family, data_manager)


def test_the_erasure_blanks_live_and_history_rows_reseals_and_verifies(
    withdrawn, other_family, data_manager
):
    assert verify_all() == []
    sealed_before = {s.pk: s.digest for s in AuditSeal.objects.all()}
    erasure = family_erasure_execute(erasure=_request(withdrawn, data_manager), user=data_manager)
    assert erasure.status == FamilyErasure.Status.DONE and erasure.done_at
    assert erasure.erased["IndicatorValue"]["history_rows"] == 3
    assert sum(erasure.resealed.values()) >= 1
    waves = list(withdrawn.waves.values_list("pk", flat=True))
    values = IndicatorValue._base_manager.filter(wave_id__in=waves)
    assert values.exists() and not values.filter(value__isnull=False).exists()
    assert not values.filter(is_deleted=False).exists()
    assert not IndicatorValue.history.filter(wave_id__in=waves, value__isnull=False).exists()
    assert not WaveSurvey.history.filter(wave_id__in=waves, satisfaction__isnull=False).exists()
    assert Contact.history.filter(family_id=withdrawn.pk).exclude(note="").count() == 0
    assert withdrawn.care_involvements.get().organisation == "—"
    # the other family's values are untouched
    kept = IndicatorValue.objects.alive().filter(wave__family=other_family)
    assert sorted(kept.values_list("value", flat=True)) == [Decimal("1.00"), Decimal("3.00")]
    # the chain verifies, some seals were made again, the erasure is in the history
    assert verify_all() == []
    assert any(
        sealed_before[s.pk] != s.digest for s in AuditSeal.objects.all() if s.pk in sealed_before
    )
    history = erasure.history.order_by("history_id")
    assert [h.status for h in history] == ["requested", "done"]
    assert history.last().history_user == data_manager
    audit_seal(delay_seconds=0)
    assert verify_all() == []


def test_carrying_it_out_twice_changes_nothing_and_tampering_is_never_resealed(
    withdrawn, data_manager
):
    erasure = _request(withdrawn, data_manager)
    # a sealed history row altered behind the app's back (as the database owner could)
    table = [IndicatorValue.history.model._meta.db_table]
    row = (
        IndicatorValue.history.filter(wave__family__study=withdrawn.study)
        .order_by("history_id")
        .first()
    )

    def alter(value):
        with transaction.atomic():
            bulk_sql.audit_append_only_lifted(table)
            IndicatorValue.history.filter(history_id=row.history_id).update(value=value)
            bulk_sql.audit_append_only_restored(table)

    alter(Decimal("99"))
    with pytest.raises(ValidationError):
        family_erasure_execute(erasure=erasure, user=data_manager)
    assert FamilyErasure.objects.get().status == FamilyErasure.Status.REQUESTED
    alter(row.value)
    done = family_erasure_execute(erasure=erasure, user=data_manager)
    again = family_erasure_execute(erasure=done, user=data_manager)
    assert again.done_at == done.done_at and verify_all() == []


def test_the_page_asks_twice_and_the_command_reports_intact(client, withdrawn, data_manager):
    login_verified(client, data_manager)
    url = reverse("study:family_erase", args=[withdrawn.pk])
    assert client.get(url).status_code == 200
    read = AccessEvent.objects.filter(action="family.erase").get()
    assert read.actor == data_manager and read.family_ids == [withdrawn.pk]
    listing = client.get(reverse("study:erasure_list", args=[withdrawn.study_id]))
    assert withdrawn.pseudonym in listing.content.decode()
    first = client.post(
        url, {"step": "check", "reason": "asked", "typed_pseudonym": withdrawn.pseudonym}
    )
    assert first.status_code == 200 and first.context["confirming"]
    assert not FamilyErasure.objects.exists()
    unconfirmed = client.post(
        url, {"step": "erase", "reason": "asked", "typed_pseudonym": withdrawn.pseudonym}
    )
    assert unconfirmed.status_code == 400 and not FamilyErasure.objects.exists()
    client.post(
        url,
        {
            "step": "erase",
            "reason": "asked",
            "typed_pseudonym": withdrawn.pseudonym,
            "confirmed": "on",
        },
    )
    erasure = FamilyErasure.objects.get()
    # SQLite, or PostgreSQL as the tables' owner (the test database's): carried out at once
    assert erasure.status == FamilyErasure.Status.DONE
    call_command("erase_family", "--list")
    call_command("verify_audit")
