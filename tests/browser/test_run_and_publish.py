"""A researcher starts an analysis in a real browser on the embedded default (background thread,
no broker): the page answers at once, shows the run's progress, keeps the button disabled while
it runs, and links the finished run to its report; publishing shows a preview and asks for
confirmation, is recorded at once while the PDF is typeset in the background (the report page
says so, then offers the PDF), the report can be withdrawn with a reason, and the gemeente then
sees it as withdrawn with the date. Freezing the analysis plan likewise answers at once and shows
the MDE simulation's progress with the freeze button disabled until the version is frozen."""

from __future__ import annotations

import threading
import time

import pytest
from django.utils import timezone

from analysis.models import AnalysisPlan, AnalysisRun, Report
from analysis.plans import plan_power
from analysis.runs import report_services, services
from tests.browser.conftest import SCREENSHOTS, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

BODY = (
    '<section id="summary"><h2>Samenvatting</h2>'
    "<p>Bijstand afgenomen met 31,1 procentpunt.</p></section>"
)


@pytest.fixture
def slow_analysis(settings, monkeypatch):
    """Runs go to a background thread; the analysis stops halfway until the test lets it go."""
    settings.JOBS_RUNNER = "thread"
    release = threading.Event()

    def compute(*, study, params, progress=None):
        progress(50, "halfway")
        assert release.wait(timeout=60), "the test never let the run finish"
        return {"questions": [], "n_families": 0}, "f" * 64

    def render(*, run):
        return Report.objects.create(run=run, study=run.study, version=1, html=BODY)

    monkeypatch.setattr(services, "analysis_compute", compute)
    monkeypatch.setattr(services, "report_render", render)
    yield release
    release.set()


@pytest.fixture
def slow_typesetting(settings, monkeypatch):
    """The PDF is typeset in a background thread, held until the test lets it go."""
    settings.JOBS_RUNNER = "thread"
    release = threading.Event()
    real = report_services.report_pdf_from_html

    def typeset(html, *, study, context):
        assert release.wait(timeout=60), "the test never let the typesetting finish"
        return real(html, study=study, context=context)

    monkeypatch.setattr(report_services, "report_pdf_from_html", typeset)
    yield release
    release.set()


def test_a_researcher_runs_publishes_and_withdraws_and_the_gemeente_sees_it_withdrawn(
    open_page, study, researcher, gemeente_user, slow_analysis, slow_typesetting
):
    page = open_page()
    log_in(page, researcher.username, f"/analysis/studies/{study.pk}/")
    start = page.locator("#start-run")
    assert start.is_enabled()
    start.click()
    page.wait_for_load_state()
    run = AnalysisRun.objects.get(study=study)
    bar = page.locator(f"tr[data-run='{run.pk}'] progress")
    assert bar.is_visible()  # the page answered before the analysis ended
    page.wait_for_function(
        f"document.querySelector(\"tr[data-run='{run.pk}'] progress\").value >= 50"
    )
    assert page.locator("#start-run").is_disabled()
    assert "is running" in page.locator("#run-in-progress").inner_text() or "is queued" in (
        page.locator("#run-in-progress").inner_text()
    )
    page.screenshot(path=str(SCREENSHOTS / "run_in_progress.png"), full_page=True)

    slow_analysis.set()  # let the analysis finish: the page reloads by itself
    link = page.locator(f"tr[data-run='{run.pk}'] a.run-report")
    link.wait_for(timeout=60_000)
    assert page.locator("#start-run").is_enabled()
    link.click()
    page.wait_for_load_state()
    report = Report.objects.get(run=run)
    assert page.url.endswith(f"/analysis/reports/{report.pk}/")

    page.goto(f"/analysis/studies/{study.pk}/")
    page.click(f"li[data-report='{report.pk}'] a.publish-report")
    page.wait_for_load_state()
    assert "Samenvatting" in page.locator("#publish-preview").inner_text()
    page.click("#publish")  # not confirmed: the browser keeps the form back
    report.refresh_from_db()
    assert not report.published
    page.screenshot(path=str(SCREENSHOTS / "publish_preview.png"), full_page=True)
    page.check("#confirm-publish")
    page.click("#publish")
    page.wait_for_selector("#pdf-typesetting")  # published at once, the PDF still being made
    report.refresh_from_db()
    assert report.published and not report.pdf
    assert 'data-status="gepubliceerd"' in report.html
    assert page.locator("#report-pdf").count() == 0
    assert "Samenvatting" in page.content()  # the published HTML is there already
    slow_typesetting.set()  # the page polls and reloads by itself once the PDF is there
    page.wait_for_selector("#report-pdf", timeout=60_000)
    report.refresh_from_db()
    assert bytes(report.pdf).startswith(b"%PDF")
    published_html = report.html

    page.goto(f"/analysis/studies/{study.pk}/")
    page.click(f"li[data-report='{report.pk}'] a.withdraw-report")
    page.wait_for_load_state()
    page.fill("#id_reason", "De kosten waren in de verkeerde prijzen berekend.")
    page.click("#withdraw")
    page.wait_for_selector("#report-withdrawn")
    report.refresh_from_db()
    assert report.withdrawn and report.html == published_html  # nothing deleted

    gemeente = open_page()
    log_in(gemeente, gemeente_user.username, f"/analysis/reports/{report.pk}/")
    notice = gemeente.locator("#report-withdrawn")
    assert notice.is_visible()
    assert (
        notice.get_attribute("data-withdrawn")
        == f"{timezone.localtime(report.withdrawn_at):%Y-%m-%d}"
    )
    assert "verkeerde prijzen" in notice.inner_text()
    assert "Samenvatting" not in gemeente.content()
    gemeente.screenshot(path=str(SCREENSHOTS / "report_withdrawn.png"), full_page=True)


def test_freezing_the_plan_answers_at_once_and_shows_the_mde_progress(
    open_page, study, researcher, settings, monkeypatch
):
    settings.JOBS_RUNNER = "thread"
    release = threading.Event()
    real = plan_power.with_planned_mde

    def slow(*, progress=None, **kwargs):
        progress(1, 2, "receives_bijstand")
        assert release.wait(timeout=60), "the test never let the freeze finish"
        return real(progress=progress, **kwargs)

    monkeypatch.setattr(plan_power, "with_planned_mde", slow)
    page = open_page()
    log_in(page, researcher.username, f"/analysis/studies/{study.pk}/plan/")
    page.click("#freeze-plan")
    page.wait_for_selector("#plan-freezing")
    bar = page.locator("#plan-freezing progress")
    deadline = time.monotonic() + 30  # polled from here: wait_for_function's polling needs eval,
    while bar.evaluate("el => el.value") < 50:  # which the content security policy forbids
        assert time.monotonic() < deadline, "the progress bar never showed the job's progress"
        page.wait_for_timeout(200)
    assert page.locator("#freeze-plan").is_disabled()
    assert "being frozen" in page.locator("#freeze-in-progress").inner_text()
    assert not AnalysisPlan.objects.filter(study=study).exists()  # nothing frozen yet
    release.set()  # the page reloads by itself once the version is frozen
    page.wait_for_selector("[data-planned-mde]", timeout=60_000)
    assert AnalysisPlan.objects.get(study=study).version == 1
    assert page.locator("[data-plan-hash]").inner_text() == AnalysisPlan.objects.get().sha256


def test_the_gemeente_reads_the_monitor_on_a_phone_without_page_wide_sideways_scroll(
    open_page, study, researcher, gemeente_user, tmp_path
):
    from analysis.monitor.services import monitor_report_publish
    from tests.analysis.monitor.helpers_monitor import stored_reports
    from tests.browser.conftest import PHONE

    report = stored_reports(tmp_path)["Almelo"]
    monitor_report_publish(report=report, user=researcher)
    page = open_page(PHONE, locale="nl-NL", extra_http_headers={"Accept-Language": "nl"})
    log_in(page, gemeente_user.username, f"/monitor/{report.pk}/")
    page.wait_for_selector(".table-scroll")
    page_width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert page_width[0] <= page_width[1], page_width  # the page itself never scrolls sideways
    widths = page.evaluate(
        "[...document.querySelectorAll('.table-scroll')].map(e => [e.scrollWidth, e.clientWidth])"
    )
    assert any(scroll > client for scroll, client in widths)  # the wide table scrolls inside
    first = page.locator(".monitor-table tbody th.fixed").first
    assert first.evaluate("e => getComputedStyle(e).position") == "sticky"
    box = page.locator(".table-scroll").last
    box.evaluate("e => { e.scrollLeft = 400; }")
    cell = page.locator(".table-scroll").last.locator("tbody th.fixed").first
    assert cell.bounding_box()["x"] < 40  # the wijk column stayed in view
    headers = page.locator(".monitor-table thead th").all_inner_texts()
    assert "multiprobleemgezinnen (MPG)" in headers
    page.screenshot(path=str(SCREENSHOTS / "monitor_phone.png"), full_page=True)
