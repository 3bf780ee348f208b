"""Withdrawn consent follows the study's policy; contacts, care involvements, values and families
are corrected or removed with a reason, by who recorded them or a data manager."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from analysis.runs.frames import build_frames
from study import access
from study.models import CareInvolvement, Contact, Family, IndicatorValue, StudyDataPolicy, Wave
from study.services.care import care_involvement_add
from study.services.contacts import contact_log
from study.services.corrections import (
    care_involvement_correct,
    care_involvement_soft_delete,
    contact_correct,
    contact_soft_delete,
)
from study.services.families import family_set_status
from study.services.values import indicator_values_record
from tests.otp import api_verified, login_verified

WHEN = datetime(2022, 5, 1, 10, 0, tzinfo=UTC)


def _withdraw(family, researcher, on=date(2022, 6, 1)):
    return family_set_status(
        family=family, status=Family.Status.WITHDRAWN, on=on, reason="consent", user=researcher
    )


@pytest.mark.django_db
def test_withdrawal_ends_the_caseload_and_marks_the_waves_to_come_missed(family, coach, researcher):
    _withdraw(family, researcher)
    assert not access.caseload_families(coach, on=date(2022, 7, 1)).filter(pk=family.pk).exists()
    later = family.waves.filter(index__gte=0, due_date__gte=date(2022, 6, 1))
    assert later.exists()
    assert set(later.values_list("status", flat=True)) == {Wave.Status.MISSED}
    assert family.waves.filter(index=0).get().status != Wave.Status.MISSED, "T0 lies before"


@pytest.mark.django_db
def test_keep_policy_keeps_the_family_in_lists_exports_and_analyses(family, researcher, study):
    indicator_values_record(wave=family.waves.get(index=0), values={"bijstand": 1})
    _withdraw(family, researcher)
    assert Family.objects.alive().filter(pk=family.pk).exists()
    assert family.pk in set(build_frames(study)["families"]["family_id"])


@pytest.mark.django_db
def test_remove_policy_takes_the_family_out_of_every_list_export_caseload_and_analysis(
    client, family, other_family, researcher, coach, study
):
    StudyDataPolicy.objects.create(study=study, withdrawal=StudyDataPolicy.Withdrawal.REMOVE)
    indicator_values_record(wave=family.waves.get(index=0), values={"bijstand": 1})
    _withdraw(family, researcher, on=date(2026, 1, 1))
    api = api_verified(researcher)
    ids = {f["id"] for f in api.get("/api/families/").json()["results"]}
    assert family.pk not in ids and other_family.pk in ids
    assert api.get(f"/api/families/{family.pk}/").status_code == 404
    values = api.get("/api/indicator-values/").json()["results"]
    assert all(v["wave"] not in set(family.waves.values_list("pk", flat=True)) for v in values)
    assert not access.caseload_families(coach).filter(pk=family.pk).exists()
    frames = build_frames(study)
    assert family.pk not in set(frames["families"]["family_id"])
    login_verified(client, researcher)
    export = client.get(reverse("study:study_export", args=[study.pk, "csv"]))
    assert family.pseudonym not in b"".join(export.streaming_content).decode()
    assert Family.objects.withdrawn_removed().filter(pk=family.pk).exists(), "counted for attrition"
    assert IndicatorValue.objects.filter(wave__family=family).exists(), "its data are kept"


@pytest.fixture
def contact(family, coach):
    return contact_log(
        family=family,
        coach=coach,
        occurred_at=WHEN,
        kind="phone",
        duration_minutes=15,
        initiated_by="coach",
    )


@pytest.mark.django_db
def test_the_coach_corrects_their_contact_with_a_reason(contact, coach):
    with pytest.raises(ValidationError):
        contact_correct(contact=contact, changes={"duration_minutes": 30}, reason="", user=coach)
    fixed = contact_correct(
        contact=contact, changes={"duration_minutes": 30}, reason="typed 15", user=coach
    )
    assert fixed.duration_minutes == 30
    last = fixed.history.order_by("-history_id").first()
    assert last.history_user == coach and "typed 15" in last.history_change_reason


@pytest.mark.django_db
def test_another_coach_or_a_researcher_cannot_correct_it_a_data_manager_can(
    contact, other_coach, researcher, data_manager
):
    for outsider in (other_coach, researcher):
        with pytest.raises(PermissionDenied):
            contact_soft_delete(contact=contact, reason="x", user=outsider)
    contact_soft_delete(contact=contact, reason="logged twice", user=data_manager)
    assert not Contact.objects.alive().filter(pk=contact.pk).exists()
    assert Contact.objects.get(pk=contact.pk).deleted_reason == "logged twice"


@pytest.mark.django_db
def test_care_involvements_are_corrected_and_removed_with_a_reason(family, coach):
    involvement = care_involvement_add(
        family=family,
        organisation="Jeugdbescherming",
        discipline="jeugdbeschermer",
        start_date=date(2022, 1, 1),
        user=coach,
    )
    with pytest.raises(ValidationError):
        care_involvement_correct(
            involvement=involvement, changes={"end_date": date(2021, 1, 1)}, reason="x", user=coach
        )
    care_involvement_correct(
        involvement=involvement, changes={"discipline": "gezinsvoogd"}, reason="name", user=coach
    )
    care_involvement_soft_delete(involvement=involvement, reason="wrong family", user=coach)
    assert not CareInvolvement.objects.alive().filter(pk=involvement.pk).exists()


# --- the API, per role ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _otp(settings):
    settings.OTP_REQUIRED = True


@pytest.mark.django_db
def test_api_contact_correction_and_removal_per_role(contact, coach, other_coach, data_manager):
    url = f"/api/contacts/{contact.pk}/"
    coach_api = api_verified(coach)
    assert api_verified(other_coach).patch(url, {"reason": "x"}, format="json").status_code == 404
    response = coach_api.patch(url, {"duration_minutes": 45, "reason": "typo"}, format="json")
    assert response.status_code == 200 and response.json()["duration_minutes"] == 45
    assert coach_api.patch(url, {"duration_minutes": 5}, format="json").status_code == 400
    assert coach_api.delete(url, {}, format="json").status_code == 400, "no reason"
    assert (
        api_verified(data_manager).delete(url, {"reason": "twice"}, format="json").status_code
        == 204
    )
    assert not Contact.objects.alive().filter(pk=contact.pk).exists()


@pytest.mark.django_db
def test_api_value_and_family_removal_per_role(family, researcher, coach, data_manager):
    wave = family.waves.get(index=1)
    indicator_values_record(wave=wave, values={"bijstand": 2})
    value = IndicatorValue.objects.alive().get(wave=wave)
    url = f"/api/indicator-values/{value.pk}/"
    researcher_api = api_verified(researcher)
    assert api_verified(coach).delete(url, {"reason": "x"}, format="json").status_code == 404
    assert researcher_api.delete(url, {"reason": "wrong year"}, format="json").status_code == 204
    value.refresh_from_db()
    assert value.is_deleted and value.deleted_reason == "wrong year"
    family_url = f"/api/families/{family.pk}/"
    assert researcher_api.delete(family_url, {"reason": "x"}, format="json").status_code == 403
    assert (
        api_verified(data_manager)
        .delete(family_url, {"reason": "test entry"}, format="json")
        .status_code
        == 204
    )
    assert not Family.objects.alive().filter(pk=family.pk).exists()


def test_the_history_keeps_a_long_reason_in_full(db):
    """Reasons may hold 300 characters (forms and API): the history keeps all of them (the
    library's default column held 100, and PostgreSQL refused the write with a 500)."""
    from study.roles import Role
    from study.services.families import family_soft_delete
    from tests.factories import make_family, make_member, make_study

    study = make_study()
    manager = make_member(study, Role.DATA_MANAGER)
    family = make_family(study, user=manager)
    reason = "Dubbel ingeschreven bij de intake; " + "toelichting " * 22
    assert 250 < len(reason) <= 300
    family_soft_delete(family=family, reason=reason, user=manager)
    assert (
        family.history.order_by("-history_id").first().history_change_reason == f"deleted: {reason}"
    )
