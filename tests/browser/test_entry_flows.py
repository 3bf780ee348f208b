"""End-to-end flows in a real browser: a researcher enters a wave, a wijkcoach logs a contact on
a phone-sized screen. Screenshots land in /tmp (BROWSER_SCREENSHOTS) for a human to look at."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from study.models import Contact, IndicatorValue, WaveSurvey
from tests.browser.conftest import PHONE, SCREENSHOTS, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_researcher_corrects_a_bad_value_and_saves_the_wave(open_page, researcher, family):
    wave = family.waves.get(index=1)
    page = open_page()
    log_in(page, researcher.username, f"/waves/{wave.pk}/entry/")
    assert page.locator("#wave-form").is_visible()

    page.fill("#id_v_bijstand", "99")
    page.select_option("#id_m_ww", "refused")
    page.fill("#id_satisfaction", "7")
    page.click("#save")
    page.wait_for_load_state()
    assert page.locator("#form-errors").is_visible()
    error = page.locator("#error-bijstand")
    assert error.is_visible() and "99" in error.inner_text()
    assert not IndicatorValue.objects.filter(wave=wave).exists()
    page.screenshot(path=str(SCREENSHOTS / "wave_entry_error.png"), full_page=False)

    page.fill("#id_v_bijstand", "1")
    page.click("#save")
    page.wait_for_load_state()
    assert page.locator("#form-errors").count() == 0
    assert page.locator(".messages li").is_visible()
    values = {v.indicator.code: v for v in IndicatorValue.objects.filter(wave=wave)}
    assert values["bijstand"].value == Decimal("1.00")
    assert values["ww"].missing_code == "refused"
    assert WaveSurvey.objects.get(wave=wave).satisfaction == 7
    assert page.input_value("#id_v_bijstand") == "1"
    page.screenshot(path=str(SCREENSHOTS / "wave_entry_saved.png"), full_page=False)


def test_wijkcoach_logs_a_contact_on_a_phone(open_page, coach, family):
    page = open_page(PHONE, is_mobile=True, has_touch=True)
    log_in(page, coach.username)
    assert page.url.endswith("/caseload/")
    page.click(f"#family-{family.pk} a[href$='/contacts/new/']")
    page.wait_for_load_state()
    assert page.locator("#contact-form").is_visible()
    assert not page.locator("#requested-at").is_visible(), "asked only when the family asked"
    page.screenshot(path=str(SCREENSHOTS / "contact_phone_empty.png"), full_page=True)

    page.click("label.tap:has(input[name=kind][value=phone])")
    page.click(".chip[data-minutes='30']")
    page.click("label.tap:has(input[name=initiated_by][value=family])")
    assert page.locator("#requested-at").is_visible()
    asked = timezone.localtime() - timedelta(hours=3)
    page.fill("#id_requested_at", asked.strftime("%Y-%m-%dT%H:%M"))
    page.screenshot(path=str(SCREENSHOTS / "contact_phone_filled.png"), full_page=True)
    page.click("#save-contact")
    page.wait_for_load_state()

    assert page.url.endswith("/caseload/")
    assert page.locator(".messages li").is_visible()
    contact = Contact.objects.get(family=family)
    assert (contact.kind, contact.duration_minutes, contact.initiated_by) == ("phone", 30, "family")
    assert contact.coach == coach
    assert 2.9 < contact.response_hours < 3.1
    # The page fits the phone: nothing wider than the viewport.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    page.screenshot(path=str(SCREENSHOTS / "contact_phone_saved.png"), full_page=True)


def test_wijkcoach_adds_and_ends_a_care_worker_on_a_phone(open_page, coach, family):
    page = open_page(PHONE, is_mobile=True, has_touch=True)
    log_in(page, coach.username, f"/families/{family.pk}/care-workers/")
    page.fill("#id_organisation", "GGZ Oost")
    page.fill("#id_discipline", "behandelaar")
    page.fill("#id_start_date", "2022-01-10")
    page.click("#involvement-form button[type=submit]")
    page.wait_for_load_state()
    involvement = family.care_involvements.get()
    assert page.locator(f"#involvement-{involvement.pk}").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "care_workers_phone.png"), full_page=True)
    page.fill(f"#end-{involvement.pk}", "2022-06-30")
    page.click(f"#involvement-{involvement.pk} button[type=submit]")
    page.wait_for_load_state()
    involvement.refresh_from_db()
    assert str(involvement.end_date) == "2022-06-30"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_wave_entry_fits_a_phone(open_page, researcher, family):
    page = open_page(PHONE, is_mobile=True, has_touch=True)
    log_in(page, researcher.username, f"/waves/{family.waves.get(index=0).pk}/entry/")
    assert page.locator("#wave-form").is_visible()
    assert page.locator("#id_v_bijstand").is_visible(), "the catalogue's fields are there"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SCREENSHOTS / "wave_entry_phone.png"), full_page=False)


def test_researcher_enrols_a_family_after_an_eligibility_refusal(open_page, researcher, study):
    page = open_page()
    log_in(page, researcher.username, f"/studies/{study.pk}/enrol/")
    page.select_option("#id_arm", "comparison")
    page.fill("#id_intake_date", "2022-04-01")
    page.fill("#id_wijk", "Noord")
    for name in ("socio_economic", "adult_psychosocial", "child_psychosocial"):
        page.check(f"#id_elig_{name}")
    page.select_option("#id_members-0-role", "adult")
    page.fill("#id_members-0-birth_year", "1984")
    page.select_option("#id_members-1-role", "child")
    page.fill("#id_members-1-birth_year", "2015")
    page.click("#enrol")
    page.wait_for_load_state()
    assert page.locator(".errorlist.nonfield").is_visible()
    assert not study.families.exists()
    page.screenshot(path=str(SCREENSHOTS / "enrol_refused.png"), full_page=True)
    page.check("#id_elig_chronic")
    page.click("#enrol")
    page.wait_for_load_state()
    family = study.families.get()
    assert page.url.endswith(f"/families/{family.pk}/")
    assert family.arm.kind == "comparison" and family.members.count() == 2
