"""A researcher imports a registry extract in a real browser: a file with problems (nothing
saved, every problem listed by row and column), then a good file (dry run, then import)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from study.models import ImportBatch, IndicatorValue
from tests.browser.conftest import SCREENSHOTS, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def choose_file(page, name: str, text: str) -> None:
    page.set_input_files(
        "#id_file", files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode()}]
    )


def test_researcher_imports_a_bad_file_then_a_good_one(open_page, researcher, family):
    page = open_page()
    log_in(page, researcher.username, f"/studies/{family.study_id}/")
    page.click(f"a[href='/studies/{family.study_id}/imports/']")
    page.wait_for_load_state()
    assert page.locator("#import-form").is_visible()

    bad = (
        "pseudonym;year;bijstand;child_foster_care_days\n"
        f"{family.pseudonym};2020;1;400\n"
        f"G-NOBODY;2020;1;0\n"
    )
    choose_file(page, "extract-bad.csv", bad)
    page.click("#upload")
    page.wait_for_selector("#import-problems", timeout=60_000)  # the dry run is a job
    text = page.locator("#import-problems").inner_text()
    assert "out of range" in text and "child_foster_care_days" in text
    assert "No family of this study" in text
    assert page.locator("#import-problems-summary").is_visible()
    assert page.locator("#apply-import").count() == 0
    assert not IndicatorValue.objects.filter(wave__family=family).exists()
    page.screenshot(path=str(SCREENSHOTS / "import_problems.png"), full_page=True)

    page.click("a[href$='/imports/']")
    page.wait_for_load_state()
    good = (
        "pseudonym;year;bijstand;child_foster_care_days\n"
        f"{family.pseudonym};2020;1;120\n"
        f"{family.pseudonym};2021;0;366\n"
    )
    choose_file(page, "extract-good.csv", good)
    page.click("#upload")
    page.wait_for_selector("#apply-import", timeout=60_000)
    assert "4" in page.locator("#import-summary").inner_text()
    assert page.locator("#import-preview tbody tr").count() == 4
    page.screenshot(path=str(SCREENSHOTS / "import_dry_run.png"), full_page=True)
    page.click("#apply-import")
    page.wait_for_selector("#import-summary", timeout=60_000)
    page.wait_for_function(
        "document.querySelector('#import-status .badge').classList.contains('applied')"
    )
    batch = ImportBatch.objects.get(filename="extract-good.csv")
    assert batch.status == "applied" and batch.created == 4
    values = {
        (v.wave.year, v.indicator.code): v.value
        for v in IndicatorValue.objects.filter(wave__family=family).select_related(
            "wave", "indicator"
        )
    }
    assert values == {
        (2020, "bijstand"): Decimal("1.00"),
        (2020, "child_foster_care_days"): Decimal("120.00"),
        (2021, "bijstand"): Decimal("0.00"),
        (2021, "child_foster_care_days"): Decimal("366.00"),
    }
    page.screenshot(path=str(SCREENSHOTS / "import_done.png"), full_page=True)
