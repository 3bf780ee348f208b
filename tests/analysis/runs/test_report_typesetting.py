"""Publishing records the publication at once and typesets the PDF as a job (tracker/jobs.py):
the gemeente reads the published HTML immediately, the PDF link says it is being typeset until
the job finishes, a failure is recorded in Report.pdf_error and shown, a withdrawal during
typesetting wins, publishing twice queues nothing more, and a stalled typesetting is picked up
by the reconciler."""

import socket
import subprocess
import sys

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from analysis.models import AnalysisRun, ReportTypesetJob
from analysis.reporting.pdf import ReportRenderError
from analysis.runs import report_services
from study.roles import Role
from study.services.studies import membership_grant
from tests.factories import make_study, make_user
from tracker import jobs
from tracker.job_kinds import jobs_reconcile_all

pytestmark = pytest.mark.django_db

REASON = "De kosten waren in de verkeerde prijzen berekend."


@pytest.fixture
def draft(study):
    run = AnalysisRun.objects.create(study=study, status="succeeded", results={"questions": []})
    return report_services.report_render(run=run)


@pytest.fixture
def sent(monkeypatch):
    """Tasks are recorded, not run: the typesetting stays queued."""
    calls: list[tuple] = []
    monkeypatch.setattr(jobs, "send_now", lambda name, *args, **options: calls.append(args))
    return calls


def _publish(report, user, django_capture_on_commit_callbacks) -> ReportTypesetJob:
    with django_capture_on_commit_callbacks(execute=True):
        report_services.report_publish(report=report, user=user)
    return ReportTypesetJob.objects.get(report=report)


def _page(client, user, report) -> str:
    client.force_login(user)
    return client.get(f"/analysis/reports/{report.pk}/").content.decode()


def test_publishing_answers_before_the_pdf_and_the_job_stores_it(
    client, study, researcher, gemeente_user, draft, sent, django_capture_on_commit_callbacks
):
    assert bytes(draft.pdf).startswith(b"%PDF")  # the draft's own PDF ("concept")
    job = _publish(draft, researcher, django_capture_on_commit_callbacks)
    assert sent == [(job.pk,)] and job.status == ReportTypesetJob.Status.QUEUED
    draft.refresh_from_db()
    assert draft.published and draft.pdf is None and draft.pdf_error == ""
    assert 'data-status="gepubliceerd"' in draft.html
    for user in (gemeente_user, researcher):
        page = _page(client, user, draft)
        assert "The PDF is being typeset" in page and 'id="report-pdf"' not in page
        assert 'data-status-url="/analysis/reports/' in page  # its progress bar polls

    done = report_services.report_typeset_execute(job_id=job.pk)
    assert done.status == ReportTypesetJob.Status.SUCCEEDED
    job.refresh_from_db()
    draft.refresh_from_db()
    assert (job.status, job.progress, job.attempts) == ("succeeded", 100, 1)
    assert bytes(draft.pdf).startswith(b"%PDF")
    assert 'id="report-pdf"' in _page(client, gemeente_user, draft)


def test_a_typesetting_failure_is_recorded_and_shown(
    client,
    study,
    researcher,
    gemeente_user,
    draft,
    sent,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    def broken(html, *, study, context):
        raise ReportRenderError("unclosed delimiter", field="outcome x: label")

    monkeypatch.setattr(report_services, "report_pdf_from_html", broken)
    job = _publish(draft, researcher, django_capture_on_commit_callbacks)
    report_services.report_typeset_execute(job_id=job.pk)
    job.refresh_from_db()
    draft.refresh_from_db()
    assert job.status == ReportTypesetJob.Status.FAILED and draft.pdf is None
    assert draft.pdf_error.startswith("PDF niet gemaakt: het veld 'outcome x: label'")
    assert job.error == draft.pdf_error
    own = _page(client, researcher, draft)
    assert 'id="pdf-error"' in own and "outcome x: label" in own
    theirs = _page(client, gemeente_user, draft)
    assert 'id="pdf-error"' in theirs and "The PDF could not be made" in theirs
    assert "outcome x: label" not in theirs and "Samenvatting" in theirs  # the HTML is there
    api = APIClient()
    api.force_authenticate(researcher)
    row = api.get(f"/api/reports/{draft.pk}/").json()
    assert (row["pdf_status"], row["pdf_error"]) == ("failed", draft.pdf_error)


def test_a_withdrawal_during_typesetting_wins(
    study, researcher, draft, sent, monkeypatch, django_capture_on_commit_callbacks
):
    job = _publish(draft, researcher, django_capture_on_commit_callbacks)
    real = report_services.report_pdf_from_html

    def withdrawn_meanwhile(html, *, study, context):
        pdf = real(html, study=study, context=context)
        report_services.report_withdraw(report=draft, user=researcher, reason=REASON)
        return pdf

    monkeypatch.setattr(report_services, "report_pdf_from_html", withdrawn_meanwhile)
    assert report_services.report_typeset_execute(job_id=job.pk) is None
    job.refresh_from_db()
    draft.refresh_from_db()
    assert draft.withdrawn and draft.pdf is None  # not resurrected
    assert job.status == ReportTypesetJob.Status.CANCELLED


def test_a_withdrawal_before_the_job_runs_cancels_it(
    client, study, researcher, gemeente_user, draft, sent, django_capture_on_commit_callbacks
):
    job = _publish(draft, researcher, django_capture_on_commit_callbacks)
    report_services.report_withdraw(report=draft, user=researcher, reason=REASON)
    job.refresh_from_db()
    assert job.status == ReportTypesetJob.Status.CANCELLED
    assert report_services.report_typeset_execute(job_id=job.pk) is None  # nothing to claim
    draft.refresh_from_db()
    assert draft.pdf is None
    client.force_login(gemeente_user)
    assert client.get(f"/analysis/reports/{draft.pk}/pdf/").status_code == 404
    assert client.get(f"/analysis/reports/{draft.pk}/pdf/status/").status_code == 404


def test_publishing_twice_queues_one_typesetting(
    study, researcher, data_manager, draft, sent, django_capture_on_commit_callbacks
):
    _publish(draft, researcher, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        report_services.report_publish(report=draft, user=data_manager)
    assert ReportTypesetJob.objects.filter(report=draft).count() == 1 and len(sent) == 1
    assert draft.publication_events.count() == 1


def test_the_reconciler_picks_up_a_typesetting_whose_worker_died(
    study, researcher, draft, sent, django_capture_on_commit_callbacks
):
    job = _publish(draft, researcher, django_capture_on_commit_callbacks)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    ReportTypesetJob.objects.filter(pk=job.pk).update(
        status=ReportTypesetJob.Status.RUNNING,
        attempts=1,
        claimed_by=f"{socket.gethostname()}:{child.pid}:1",
    )
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = jobs_reconcile_all(kinds=["report-typeset"])
    assert done["report-typeset"].resumed == [job.pk] and sent == [(job.pk,)]
    report_services.report_typeset_execute(job_id=job.pk)  # the task the reconciler sent
    job.refresh_from_db()
    draft.refresh_from_db()
    assert job.status == ReportTypesetJob.Status.SUCCEEDED and job.attempts == 2
    assert bytes(draft.pdf).startswith(b"%PDF")


def test_a_typesetting_out_of_attempts_says_so_on_the_report(
    study, researcher, draft, sent, django_capture_on_commit_callbacks
):
    job = _publish(draft, researcher, django_capture_on_commit_callbacks)
    ReportTypesetJob.objects.filter(pk=job.pk).update(attempts=settings.ANALYSIS_MAX_ATTEMPTS)
    report_services.report_typeset_execute(job_id=job.pk)
    draft.refresh_from_db()
    assert draft.pdf is None and draft.pdf_error.startswith("The PDF was not made")


def test_api_publish_per_role_reports_the_pdf_as_typesetting(
    study,
    researcher,
    data_manager,
    gemeente_user,
    coach,
    draft,
    sent,
    django_capture_on_commit_callbacks,
):
    membership_grant(study=study, user=coach, role=Role.WIJKCOACH)
    outsider = make_user(Role.RESEARCHER)
    membership_grant(study=make_study(), user=outsider, role=Role.RESEARCHER)
    url = f"/api/reports/{draft.pk}/publish/"

    def api(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    for user in (gemeente_user, coach, outsider):
        assert api(user).post(url, {"confirm": True}, format="json").status_code == 404
    assert not ReportTypesetJob.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        ok = api(data_manager).post(url, {"confirm": True}, format="json")
    assert ok.status_code == 200 and ok.json()["published"]
    assert ok.json()["pdf_status"] == "typesetting" and len(sent) == 1
    (listed,) = api(gemeente_user).get("/api/reports/").json()["results"]
    assert listed["pdf_status"] == "typesetting"
    report_services.report_typeset_execute(job_id=sent[0][0])
    (listed,) = api(gemeente_user).get("/api/reports/").json()["results"]
    assert listed["pdf_status"] == "ready"
    for user in (gemeente_user, coach):  # they read it, they do not publish it again
        assert api(user).post(url, {"confirm": True}, format="json").status_code == 403


def test_after_a_failure_the_researcher_typesets_again_from_the_page(
    client,
    study,
    researcher,
    gemeente_user,
    draft,
    sent,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    def broken(html, *, study, context):
        raise ReportRenderError("unclosed delimiter", field="study.name")

    with monkeypatch.context() as patched:
        patched.setattr(report_services, "report_pdf_from_html", broken)
        job = _publish(draft, researcher, django_capture_on_commit_callbacks)
        report_services.report_typeset_execute(job_id=job.pk)
    assert 'id="typeset-again"' in _page(client, researcher, draft)
    assert 'id="typeset-again"' not in _page(client, gemeente_user, draft)
    client.force_login(gemeente_user)
    assert client.post(f"/analysis/reports/{draft.pk}/typeset/").status_code == 404
    client.force_login(researcher)
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/analysis/reports/{draft.pk}/typeset/")
    again = ReportTypesetJob.objects.filter(report=draft).latest("pk")
    assert again.pk != job.pk and sent == [(again.pk,)]
    draft.refresh_from_db()
    assert draft.pdf_error == ""  # no longer failed: being typeset
    page = _page(client, researcher, draft)
    assert 'id="pdf-typesetting"' in page and 'id="typeset-again"' not in page
    answer = client.post(f"/analysis/reports/{draft.pk}/typeset/", follow=True)
    assert "already being typeset" in answer.content.decode()  # one at a time
    report_services.report_typeset_execute(job_id=again.pk)
    draft.refresh_from_db()
    assert bytes(draft.pdf).startswith(b"%PDF")
    assert 'id="typeset-again"' not in _page(client, researcher, draft)


def test_a_stalled_typesetting_is_sent_again_from_the_page(
    client, study, researcher, draft, sent, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    job = _publish(draft, researcher, django_capture_on_commit_callbacks)
    long_ago = timezone.now() - timedelta(seconds=settings.ANALYSIS_QUEUED_SECONDS + 60)
    ReportTypesetJob.objects.filter(pk=job.pk).update(created_at=long_ago, heartbeat_at=long_ago)
    assert 'id="typeset-again"' in _page(client, researcher, draft)
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/analysis/reports/{draft.pk}/typeset/")
    assert sent == [(job.pk,)]  # the reconciler's pass sent the lost message again
    assert ReportTypesetJob.objects.filter(report=draft).count() == 1
