"""A wijkcoach enters MANSA-12 on a phone and sees the score; then hands the tablet to the family
in the locked respondent mode and leaves it with the password (Playwright + chromium)."""

from __future__ import annotations

from datetime import date

import pytest

from instruments.models import Administration, InstrumentVersion
from instruments.services import instruments_ensure_shipped
from study.roles import Role
from study.services.care import caseload_assign
from tests.browser.conftest import PASSWORD, PHONE, SCREENSHOTS, log_in
from tests.factories import make_family, make_member, make_study

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setting():
    instruments_ensure_shipped()
    study = make_study()
    researcher = make_member(study, Role.RESEARCHER)
    coach = make_member(study, Role.WIJKCOACH)
    family = make_family(study, user=researcher)
    caseload_assign(family=family, coach=coach, start_date=date(2021, 3, 1), user=researcher)
    return coach, family, family.waves.get(index=0)


def _tap_every_item(page, items, value: str) -> None:
    for item in items:
        page.click(f"label.tap:has(input[name={item}][value='{value}'])")


def test_wijkcoach_enters_mansa_on_a_phone_and_sees_the_score(open_page, setting):
    coach, family, wave = setting
    page = open_page(PHONE, is_mobile=True, has_touch=True)
    log_in(page, coach.username, f"/families/{family.pk}/")
    page.screenshot(path=str(SCREENSHOTS / "instrument-family-phone.png"), full_page=True)
    page.click("#wave-0 a.instruments-link")
    page.click("li.card:has-text('MANSA-12') a.button")
    mansa = InstrumentVersion.objects.get(code="mansa12", version=1)
    items = list(mansa.parsed.item_codes)
    _tap_every_item(page, items, "5")
    page.click("label.tap:has(input[name=sex_life][value='m:refused'])")
    page.click("label.tap:has(input[name=family][value='3'])")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SCREENSHOTS / "instrument-phone.png"), full_page=True)
    page.click("#save-instrument")
    page.wait_for_selector("#scores")
    assert "4.82" in page.inner_text("#scores")  # (10 x 5 + 3) / 11 answered items
    admin = Administration.objects.get()
    assert (admin.mode, admin.missing_codes, admin.wave_id) == (
        "coach",
        {"sex_life": "refused"},
        wave.pk,
    )


def test_the_family_fills_it_in_locked_and_the_coach_leaves_with_the_password(open_page, setting):
    coach, family, _wave = setting
    page = open_page(PHONE, is_mobile=True, has_touch=True)
    log_in(page, coach.username, f"/families/{family.pk}/")
    page.click("#wave-0 a.instruments-link")
    page.click(
        "li.card:has-text('participation ladder') button, li.card:has-text('Participatieladder') button"
    )
    page.wait_for_selector("#respondent-form")
    assert family.pseudonym not in page.content()
    page.goto(f"/families/{family.pk}/")  # the family tries to leave the form
    assert page.url.endswith("/instruments/respondent/")
    page.click("label.tap:has(input[name=step][value='4'])")
    page.click("#save-respondent")
    page.wait_for_selector("#respondent-done")
    page.fill("#id_password", PASSWORD)
    page.click("#exit-respondent")
    page.wait_for_selector("#scores")
    assert Administration.objects.get().mode == "respondent"
    assert "4.00" in page.inner_text("#scores")
