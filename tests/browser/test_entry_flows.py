"""End-to-end flows in a real browser: a researcher enters a wave, a wijkcoach logs a contact on
a phone-sized screen. Screenshots land in /tmp (BROWSER_SCREENSHOTS) for a human to look at."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from study.models import Contact, IndicatorValue, WaveSurvey
from study.services.values import indicator_values_record
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
    assert page.locator("#error-summary").is_visible()
    error = page.locator("#error-bijstand")
    assert error.is_visible() and "99" in error.inner_text()
    assert not IndicatorValue.objects.filter(wave=wave).exists()
    page.screenshot(path=str(SCREENSHOTS / "wave_entry_error.png"), full_page=False)

    page.fill("#id_v_bijstand", "1")
    page.click("#save")
    page.wait_for_load_state()
    assert page.locator("#error-summary").count() == 0
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


def test_researcher_confirms_some_suggestions_clears_a_value_and_sees_all_errors_at_once(
    open_page, researcher, family
):
    t0, t1 = family.waves.get(index=0), family.waves.get(index=1)
    indicator_values_record(wave=t0, values={"bijstand": 2, "ww": 1, "moves": 3, "debt_help": 1})
    indicator_values_record(wave=t1, values={"low_income": 1})
    page = open_page()
    log_in(page, researcher.username, f"/waves/{t1.pk}/entry/")

    # Two errors at once: a registry value and a survey answer, summarised, focus on the summary.
    page.fill("#id_v_bijstand", "99")
    page.fill("#id_satisfaction", "11")
    page.click("#save")
    page.wait_for_load_state()
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert summary.locator("a[href='#id_v_bijstand']").count() == 1
    assert summary.locator("a[href='#id_satisfaction']").count() == 1
    assert page.locator("#error-bijstand").is_visible()
    assert page.locator("#error-satisfaction").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "wave_entry_two_errors.png"), full_page=False)
    summary.locator("a[href='#id_v_bijstand']").click()
    assert page.evaluate("document.activeElement.id") == "id_v_bijstand"
    assert not IndicatorValue.objects.alive().filter(wave=t1, indicator__code="bijstand").exists()

    # Correct both; confirm one suggestion; clear the stored value; leave the rest open.
    page.fill("#id_v_bijstand", "")
    page.fill("#id_satisfaction", "7")
    page.check("#id_c_ww")
    page.fill("#id_v_low_income", "")
    page.click("#save")
    page.wait_for_load_state()
    assert page.locator("#error-summary").count() == 0
    message = page.locator(".messages li").inner_text()
    assert "1 new" in message and "1 cleared" in message
    assert "3 suggestions from T0 were left unconfirmed" in message
    live = {v.indicator.code: v.value for v in IndicatorValue.objects.alive().filter(wave=t1)}
    assert live == {"ww": Decimal("1.00")}, "only the confirmed suggestion was stored"
    assert IndicatorValue.objects.get(wave=t1, indicator__code="low_income").is_deleted

    # "Confirm all" of the household section stores the remaining household suggestions.
    page.check("fieldset[data-level=household] .confirm-all input")
    assert page.is_checked("#id_c_moves") and page.is_checked("#id_c_debt_help")
    page.click("#save")
    page.wait_for_load_state()
    live = {v.indicator.code for v in IndicatorValue.objects.alive().filter(wave=t1)}
    assert live == {"ww", "bijstand", "moves", "debt_help"}
    page.screenshot(path=str(SCREENSHOTS / "wave_entry_confirmed.png"), full_page=False)


def test_a_double_clicked_contact_is_stored_once(open_page, coach, family):
    page = open_page(PHONE, is_mobile=True, has_touch=True)
    log_in(page, coach.username, f"/families/{family.pk}/contacts/new/")
    page.click("label.tap:has(input[name=kind][value=phone])")
    page.click(".chip[data-minutes='15']")
    # The second click of a double click reaches the server too when the script is slow: the
    # form's token makes it a repeat, so both are sent here by the page itself: at once on
    # PostgreSQL; one after the other on SQLite, whose shared in-memory test database refuses a
    # second writer at once ("table is locked") instead of making it wait as a file does.
    together = connection.vendor == "postgresql"
    statuses = page.evaluate(
        """(together) => {
        const form = document.getElementById('contact-form');
        const body = new URLSearchParams(new FormData(form));
        const send = () => fetch(form.action || location.href,
            {method: "POST", body, credentials: "same-origin", redirect: "manual"})
            .then(r => r.status);
        return together ? Promise.all([send(), send()]) : send().then(a => send().then(b => [a, b]));
    }""",
        together,
    )
    assert Contact.objects.filter(family=family).count() == 1, statuses
    page.dblclick("#save-contact")
    page.wait_for_url("**/caseload/")
    assert Contact.objects.filter(family=family).count() == 1, "the same form token again"


def test_the_second_editor_of_a_wave_sees_both_values(open_page, researcher, family):
    wave = family.waves.get(index=1)
    indicator_values_record(wave=wave, values={"ww": 0, "bijstand": 0})
    first, second = open_page(), open_page()
    for page in (first, second):
        log_in(page, researcher.username, f"/waves/{wave.pk}/entry/")
    second.fill("#id_v_ww", "1")
    second.click("#save")
    second.wait_for_load_state()
    first.fill("#id_v_ww", "2")
    first.fill("#id_v_bijstand", "3")
    first.click("#save")
    first.wait_for_load_state()
    error = first.locator("#error-ww")
    assert error.is_visible() and "“1”" in error.inner_text() and "“2”" in error.inner_text()
    assert first.locator("#error-summary").is_visible()
    first.screenshot(path=str(SCREENSHOTS / "wave_entry_conflict.png"), full_page=False)
    values = {v.indicator.code: v.value for v in IndicatorValue.objects.alive().filter(wave=wave)}
    assert values == {"ww": Decimal("1.00"), "bijstand": Decimal("0.00")}, "nothing overwritten"
    first.click("#save")  # the person checked: their value is right
    first.wait_for_load_state()
    values = {v.indicator.code: v.value for v in IndicatorValue.objects.alive().filter(wave=wave)}
    assert values == {"ww": Decimal("2.00"), "bijstand": Decimal("3.00")}


def test_a_rule_opens_a_query_that_is_answered_and_closed(
    open_page, researcher, data_manager, family
):
    from study.models import DataQuery, Indicator, QualityRule

    QualityRule.objects.create(
        study=family.study,
        kind=QualityRule.Kind.RANGE,
        indicator=Indicator.objects.get(code="bijstand", study__isnull=True),
        params={"min": 0, "max": 4},
    )
    wave = family.waves.get(index=1)
    page = open_page()
    log_in(page, researcher.username, f"/waves/{wave.pk}/entry/")
    page.fill("#id_v_bijstand", "6")
    page.click("#save")
    page.wait_for_load_state()
    assert page.locator("#open-queries").is_visible(), "the rule opened a query on save"
    page.click("#open-queries a")
    page.wait_for_load_state()
    assert "open" in page.locator("#query-status").inner_text()
    page.fill("#id_text", "Checked with the registry extract: 6 is right.")
    page.click("#answer")
    page.wait_for_load_state()
    assert "answered" in page.locator("#query-status").inner_text()
    assert "6 is right" in page.locator("#thread").inner_text()

    manager = open_page()
    query = DataQuery.objects.get()
    log_in(manager, data_manager.username, f"/queries/{query.pk}/")
    manager.fill("#id_reason", "value confirmed")
    manager.click("#close")
    manager.wait_for_load_state()
    assert "closed" in manager.locator("#query-status").inner_text()
    manager.screenshot(path=str(SCREENSHOTS / "query_closed.png"), full_page=False)
    query.refresh_from_db()
    assert query.status == "closed" and query.closed_by == data_manager
    # A closed query is reopened with a reason, by the researcher.
    page.reload()  # the researcher's page shows the query's thread
    page.fill("#id_reason", "the registry sent a corrected extract")
    page.click("#reopen")
    page.wait_for_load_state()
    assert "open" in page.locator("#query-status").inner_text()
    assert "corrected extract" in page.locator("#thread").inner_text()


def test_a_coach_picks_a_care_worker_from_the_list_or_types_it_as_anders(
    open_page, coach, data_manager, family
):
    from study.models import CareCatalogueEntry
    from study.services.care_catalogue import care_catalogue_add

    for kind, name in (
        (CareCatalogueEntry.Kind.ORGANISATION, "Jeugdbescherming Overijssel"),
        (CareCatalogueEntry.Kind.DISCIPLINE, "jeugdbeschermer"),
    ):
        care_catalogue_add(study=family.study, kind=kind, name=name, user=data_manager)
    page = open_page(PHONE, is_mobile=True, has_touch=True)
    log_in(page, coach.username, f"/families/{family.pk}/care-workers/")
    options = page.locator("#id_organisation-list option")
    assert options.first.get_attribute("value") == "Jeugdbescherming Overijssel"
    page.fill("#id_organisation", "jeugdbescherming overijssel")
    page.fill("#id_discipline", "jeugdbeschermer")
    page.fill("#id_start_date", "2022-01-10")
    page.click("#involvement-form button[type=submit]")
    page.wait_for_load_state()
    first = family.care_involvements.get()
    assert first.organisation_entry is not None
    page.fill("#id_organisation", "Buurtzorg Jong")
    page.fill("#id_discipline", "jeugdbeschermer")
    page.fill("#id_start_date", "2022-02-01")
    page.click("#involvement-form button[type=submit]")
    page.wait_for_load_state()
    assert "not on the study's list" in page.locator("#involvement-form").inner_text()
    page.check("#id_organisation_other")
    page.click("#involvement-form button[type=submit]")
    page.wait_for_load_state()
    typed = family.care_involvements.exclude(pk=first.pk).get()
    assert typed.organisation == "Buurtzorg Jong" and typed.organisation_entry is None
    # The browser asks for English: the badge is "other" (Dutch: "anders").
    assert page.locator(f"#involvement-{typed.pk} .badge").inner_text() == "other"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
