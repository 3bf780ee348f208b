"""Two-factor authentication on every door: who needs it (per-study roles, the coach setting of a
study), pages, enrolment only through a one-time link, recovery codes, and the DEBUG demo rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from study import access
from study.models import EnrolmentLink
from study.services import accounts
from study.services.care import caseload_assign
from study.services.studies import membership_grant
from tests.factories import make_family, make_member, make_study, make_user
from tests.otp import authenticator, code, login_verified

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _otp_on(settings):
    settings.OTP_REQUIRED = True


def _secret_shown(response) -> bool:
    body = response.content.decode()
    return "otp-secret" in body or "otpauth://" in body


def test_researcher_without_second_factor_is_sent_to_verification(client, study):
    client.force_login(make_member(study, "researcher"))
    response = client.get(reverse("study:home"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/")


@pytest.mark.parametrize("role", ["researcher", "datamanager", "coordinator"])
def test_every_role_that_reads_family_data_needs_a_second_factor(study, role):
    assert access.otp_required_for(make_member(study, role))


def test_staff_and_the_installation_administrator_need_a_second_factor(db):
    staff = make_user(None)
    staff.is_staff = True
    admin = make_user(None)
    admin.is_superuser = True
    assert access.otp_required_for(staff) and access.otp_required_for(admin)


def test_gemeente_and_a_user_without_a_role_need_none(study):
    assert not access.otp_required_for(make_member(study, "gemeente"))
    assert not access.otp_required_for(make_user(None))


def test_the_password_alone_never_shows_a_secret(client, study):
    """The review's hole: whoever first holds a new researcher's password bound their own
    authenticator on /accounts/2fa/."""
    user = make_member(study, "researcher")
    client.force_login(user)
    page = client.get("/accounts/2fa/?next=/")
    assert page.status_code == 200
    assert not _secret_shown(page)
    assert b"no-authenticator" in page.content
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert client.post("/accounts/2fa/", {"token": "123456"}).status_code == 200
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_enrolment_through_a_one_time_link_issued_by_the_data_manager(client, study):
    researcher = make_member(study, "researcher")
    researcher.email = "r@example.org"
    researcher.save(update_fields=["email"])
    manager = make_member(study, "datamanager")
    login_verified(client, manager)
    page = client.post(f"/studies/{study.pk}/enrolment-links/", {"user": researcher.pk})
    assert page.status_code == 200
    url = page.context["issued"]["url"]
    assert url in mail.outbox[-1].body
    path = url.removeprefix("http://localhost:8000")

    client.logout()
    client.force_login(researcher)
    enrol = client.get(path)
    assert enrol.status_code == 200 and _secret_shown(enrol)
    device = TOTPDevice.objects.get(user=researcher, confirmed=False)
    done = client.post(path, {"token": code(device)})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10
    assert client.get(reverse("study:home")).status_code == 200  # this session is verified
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(path).status_code == 404  # the link works once
    link = EnrolmentLink.objects.get(user=researcher)
    assert link.used_at is not None and link.token_hash not in url


def test_a_link_works_only_for_its_own_user_and_not_after_it_expires(client, study):
    researcher = make_member(study, "researcher")
    other = make_member(study, "researcher")
    _link, raw = accounts.enrolment_link_issue(user=researcher)
    path = accounts.enrolment_link_path(raw)
    client.force_login(other)
    assert client.get(path).status_code == 404
    client.force_login(researcher)
    EnrolmentLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(path).status_code == 404


def test_issuing_a_new_link_ends_the_earlier_one(study):
    researcher = make_member(study, "researcher")
    _first, raw_first = accounts.enrolment_link_issue(user=researcher)
    accounts.enrolment_link_issue(user=researcher)
    assert accounts.enrolment_link_get(raw=raw_first, user=researcher) is None


def test_only_a_data_manager_of_the_users_study_issues_links(client, study):
    researcher = make_member(study, "researcher")
    other_manager = make_member(make_study(), "datamanager")
    with pytest.raises(Exception, match="may not"):
        accounts.enrolment_link_issue(user=researcher, issued_by=other_manager)
    login_verified(client, other_manager)
    page = client.post(f"/studies/{study.pk}/enrolment-links/", {"user": researcher.pk})
    assert page.status_code == 404
    with pytest.raises(Exception, match="may not"):  # nor the user themselves, unverified
        accounts.enrolment_link_issue(user=researcher, issued_by=researcher)


def test_a_verified_user_links_a_new_phone_which_replaces_the_old_one(client, study):
    researcher = make_member(study, "researcher")
    old = authenticator(researcher)
    login_verified(client, researcher)
    response = client.post("/accounts/2fa/new/")
    assert response.status_code == 302 and "/accounts/2fa/enrol/" in response["Location"]
    page = client.get(response["Location"])
    assert _secret_shown(page)
    new = TOTPDevice.objects.get(user=researcher, confirmed=False)
    client.post(response["Location"], {"token": code(new)})
    assert list(TOTPDevice.objects.filter(user=researcher)) == [new]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()


def test_an_unverified_session_cannot_ask_for_a_new_link_or_recovery_codes(client, study):
    researcher = make_member(study, "researcher")
    authenticator(researcher)
    client.force_login(researcher)
    for url in ("/accounts/2fa/new/", "/accounts/2fa/recovery/"):
        response = client.post(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/")
    assert not EnrolmentLink.objects.filter(user=researcher).exists()
    assert not StaticDevice.objects.filter(user=researcher).exists()


def test_a_recovery_code_passes_once(client, study):
    researcher = make_member(study, "researcher")
    authenticator(researcher)
    codes = accounts.recovery_codes_generate(user=researcher)
    client.force_login(researcher)
    assert client.post("/accounts/2fa/?next=/", {"token": codes[0]}).status_code == 302
    client.logout()
    client.force_login(researcher)
    response = client.post("/accounts/2fa/", {"token": codes[0]})
    assert response.status_code == 200 and response.context["form"].errors
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):  # past the throttle
        assert client.post("/accounts/2fa/", {"token": codes[1]}).status_code == 302


def test_new_recovery_codes_replace_the_old_ones(client, study):
    researcher = make_member(study, "researcher")
    old = accounts.recovery_codes_generate(user=researcher)
    login_verified(client, researcher)
    page = client.post("/accounts/2fa/recovery/")
    new = page.context["codes"]
    assert set(new).isdisjoint(old)
    assert accounts.second_factor_check(user=researcher, code=new[0]) is not None
    assert accounts.second_factor_check(user=researcher, code=old[0]) is None


def test_a_wrong_code_is_refused_with_a_message(client, study):
    user = make_member(study, "datamanager")
    authenticator(user)
    client.force_login(user)
    response = client.post("/accounts/2fa/", {"token": "000000"})
    assert response.status_code == 200 and response.context["form"].errors
    assert client.get(reverse("study:home")).status_code == 302


# --- wijkcoaches: a setting per study ----------------------------------------------------------


def _coach_of(study):
    coach = make_user("wijkcoach")
    caseload_assign(family=make_family(study), coach=coach, start_date=timezone.localdate())
    return coach


def test_a_coach_without_second_factor_is_refused_when_the_study_requires_it(client, db):
    study = make_study()
    assert study.coach_otp_required  # on by default
    coach = _coach_of(study)
    client.force_login(coach)
    response = client.get(reverse("study:caseload"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/")
    assert client.get("/api/families/").status_code == 401


def test_a_coach_of_a_study_without_the_requirement_works_with_the_password(client, db):
    coach = _coach_of(make_study(coach_otp_required=False))
    client.force_login(coach)
    assert client.get(reverse("study:caseload")).status_code == 200


def test_any_active_membership_that_requires_it_decides(client, db):
    coach = _coach_of(make_study(coach_otp_required=False))
    assert not access.otp_required_for(coach)
    strict = make_study()
    membership_grant(study=strict, user=coach, role="wijkcoach")
    assert access.otp_required_for(coach)
    strict.memberships.filter(user=coach).update(active=False)
    assert not access.otp_required_for(coach)


def test_a_verified_coach_gets_in(client, db):
    coach = _coach_of(make_study())
    login_verified(client, coach)
    assert client.get(reverse("study:caseload")).status_code == 200


# --- the local demo -------------------------------------------------------------------------


def test_without_otp_required_the_demo_logins_work_with_the_password(client, settings, study):
    """OTP is off only for a local DEBUG demo (`OTP_REQUIRED` defaults to `not DEBUG`)."""
    settings.OTP_REQUIRED = False
    client.force_login(make_member(study, "researcher"))
    assert client.get(reverse("study:home")).status_code == 200
    assert client.get("/api/families/").status_code == 200
