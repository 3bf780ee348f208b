"""From an empty installation to a running randomised study, through the pages only: the
installation administrator (createsuperuser, then a one-time authenticator link from the
`enrolment_link` command) sets up the study and invites a researcher (also coordinator) and two
coaches; each sets their own password and links an authenticator; the researcher enrols families
(the arm revealed at enrolment and logged), assigns caseloads in bulk, hands one family over (and,
as coordinator, grants the new coach the earlier notes) and
records a drop-out; the old coach no longer sees the handed-over family."""

from __future__ import annotations

import io
import os
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from study.models import AllocationRecord, CaseloadAssignment, Family, NotesGrant, Study
from tests.browser.conftest import SCREENSHOTS
from tests.otp import code

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
PASSWORD = "Twente-gezinnen-2026!"


def _log_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form button[type=submit]")
    page.wait_for_load_state()


def _link_authenticator(page, user, path: str) -> None:
    """Open the one-time link, enter the authenticator's first code."""
    page.goto(path)
    assert page.locator("#otp-secret").is_visible()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    page.fill("#id_token", code(device))
    page.click("form.card button[type=submit]")
    page.wait_for_load_state()
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def _accept(page, email: str, links: dict) -> None:
    """An invited person sets their password, logs in and links their authenticator."""
    from django.contrib.auth import get_user_model

    page.goto(links["password"])
    page.wait_for_load_state()
    page.fill("#id_new_password1", PASSWORD)
    page.fill("#id_new_password2", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    _log_in(page, email)
    _link_authenticator(page, get_user_model().objects.get(email=email), links["enrolment"])


def _invite(page, study: Study, email: str, role: str) -> dict:
    """Invite from the members page; the links arrive by e-mail only (the page never shows
    them to the data manager)."""
    sent = len(mail.outbox)
    page.goto(f"/studies/{study.pk}/members/")
    page.fill("#id_email", email)
    page.select_option("#id_role", role)
    with page.expect_navigation():  # wait for the POST's answer, not the page already shown
        page.click("#invite")
    page.wait_for_selector("#invitation")
    assert "/accounts/reset/" not in page.content()
    [message] = mail.outbox[sent:]
    assert message.to == [email]
    links = {}
    for key, pattern in (
        ("password", r"http\S+/accounts/reset/\S+/"),
        ("enrolment", r"http\S+/accounts/2fa/enrol/\S+/"),
    ):
        found = re.search(pattern, message.body)
        if found:
            links[key] = found.group(0)
    return links


def _path(url: str, site: str) -> str:
    return url.removeprefix(site)


def _enrol(page, study: Study, wijk: str) -> str:
    page.goto(f"/studies/{study.pk}/enrol/")
    assert page.locator("#randomised-note").is_visible()
    page.fill("#id_intake_date", str(timezone.localdate()))
    page.fill("#id_wijk", wijk)
    for name in ("socio_economic", "adult_psychosocial", "child_psychosocial", "chronic"):
        page.check(f"#id_elig_{name}")
    page.select_option("#id_members-0-role", "adult")
    page.fill("#id_members-0-birth_year", "1984")
    page.select_option("#id_members-1-role", "child")
    page.fill("#id_members-1-birth_year", "2016")
    page.click("#enrol")
    page.wait_for_load_state()
    message = page.locator(".messages li").inner_text()
    assert "Allocated by randomisation to" in message
    return message


def test_a_study_is_set_up_from_an_empty_installation(open_page, settings, live_server):
    settings.OTP_REQUIRED = True
    settings.SITE_URL = live_server.url
    assert not Study.objects.exists()
    os.environ["DJANGO_SUPERUSER_PASSWORD"] = PASSWORD
    call_command(
        "createsuperuser", interactive=False, username="beheer", email="beheer@hs.nl", verbosity=0
    )
    out = io.StringIO()
    call_command("enrolment_link", username="beheer", stdout=out)
    admin_link = _path(out.getvalue().strip(), live_server.url)

    from django.contrib.auth import get_user_model

    admin = open_page()
    _log_in(admin, "beheer")
    assert "/accounts/2fa/" in admin.url  # no way in without a second factor
    _link_authenticator(admin, get_user_model().objects.get(username="beheer"), admin_link)

    admin.goto("/")
    admin.click("#new-study")
    admin.fill("#id_name", "Hengelo 30+30")
    admin.select_option("#id_municipality_code", "GM0164")
    admin.fill("#id_start_date", "2026-01-01")
    admin.fill("#id_price_year", "2024")
    admin.fill("#id_intervention_name", "Gezin Centraal")
    admin.fill("#id_comparison_name", "Gebruikelijke zorg")
    admin.check("input[name=allocation_method][value=randomised]")
    admin.fill("#id_enrolment_target", "60")
    admin.click("#create-study")
    admin.wait_for_load_state()
    study = Study.objects.get(name="Hengelo 30+30")
    assert study.municipality_code == "GM0164" and study.arms.count() == 2
    admin.screenshot(path=str(SCREENSHOTS / "set_up_study.png"), full_page=True)

    invited = {}
    for email, role in (
        ("onderzoeker@hs.nl", "researcher"),
        ("coach1@wijkteam.nl", "wijkcoach"),
        ("coach2@wijkteam.nl", "wijkcoach"),
    ):
        links = _invite(admin, study, email, role)
        invited[email] = {k: _path(v, live_server.url) for k, v in links.items()}

    pages = {}
    for email, links in invited.items():
        pages[email] = open_page()
        _accept(pages[email], email, links)

    # The researcher also coordinates the caseloads: an existing account just gets the role.
    assert _invite(admin, study, "onderzoeker@hs.nl", "coordinator") == {}
    researcher = pages["onderzoeker@hs.nl"]
    for wijk in ("Noord", "Zuid", "Noord"):
        _enrol(researcher, study, wijk)
    families = list(Family.objects.filter(study=study).order_by("pk"))
    assert [r.family_id for r in AllocationRecord.objects.filter(study=study).order_by("pk")] == [
        f.pk for f in families
    ]

    researcher.goto(f"/studies/{study.pk}/caseloads/")
    for family in families:
        researcher.check(f"#f-{family.pk}")
    researcher.check("input[name=action][value=assign]")
    coach1 = get_user_model().objects.get(email="coach1@wijkteam.nl")
    coach2 = get_user_model().objects.get(email="coach2@wijkteam.nl")
    researcher.select_option("#id_coach", str(coach1.pk))
    researcher.fill("#id_on", str(timezone.localdate() - timezone.timedelta(days=7)))
    researcher.click("#apply-caseloads")
    researcher.wait_for_load_state()
    assert CaseloadAssignment.objects.filter(coach=coach1, end_date__isnull=True).count() == 3

    handed = families[0]
    researcher.check(f"#f-{handed.pk}")
    researcher.check("input[name=action][value=hand_over]")
    researcher.select_option("#id_coach", str(coach2.pk))
    researcher.fill("#id_on", str(timezone.localdate()))
    researcher.click("#apply-caseloads")
    researcher.wait_for_load_state()
    assert "1 caseload(s) changed" in researcher.locator(".messages li").inner_text()
    researcher.screenshot(path=str(SCREENSHOTS / "set_up_caseloads.png"), full_page=True)

    # As the coordinator, the researcher lets the new coach read the earlier coach's notes.
    researcher.goto(f"/studies/{study.pk}/notes-grants/")
    assert handed.pseudonym in researcher.locator("#handed-over").inner_text()
    researcher.select_option("#id_grant", f"{handed.pk}:{coach2.pk}")
    researcher.fill("#id_reason", "lopend schuldtraject")
    researcher.click("#grant-notes")
    researcher.wait_for_load_state()
    assert NotesGrant.objects.filter(family=handed, coach=coach2).exists()
    assert "lopend schuldtraject" in researcher.locator("#grants").inner_text()

    researcher.goto(f"/families/{families[1].pk}/")
    researcher.click("#change-status")
    researcher.select_option("#id_status", "dropped_out")
    researcher.fill("#id_on", str(timezone.localdate()))
    researcher.fill("#id_reason", "family stopped")
    researcher.click("#save-status")
    researcher.wait_for_load_state()
    families[1].refresh_from_db()
    assert (families[1].status, families[1].status_reason) == ("dropped_out", "family stopped")

    old_coach = pages["coach1@wijkteam.nl"]
    response = old_coach.goto(f"/families/{handed.pk}/")
    assert response.status == 404
    assert old_coach.goto(f"/families/{families[2].pk}/").status == 200
    new_coach = pages["coach2@wijkteam.nl"]
    assert new_coach.goto(f"/families/{handed.pk}/").status == 200
