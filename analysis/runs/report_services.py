"""Effect reports of runs: render (or re-render) the draft of a successful run, publish it,
withdraw a published one.

A published report is immutable (analysis.models.Report): rendering leaves it alone, and
withdrawing only marks it (date, who, reason); nothing is deleted. Publishing and withdrawing
are recorded in the append-only ReportPublicationEvent and logged.

Publishing records the publication at once with the published HTML (the draft's, with the
status "gepubliceerd" on its title page: exactly what the preview showed) and queues the
typesetting of its PDF as a job (tracker/jobs.py, analysis/runs/job.py TYPESET_JOB); the PDF, or
the reason there is none (``Report.pdf_error``), is stored when the job finishes. A withdrawal
cancels the job, and the job stores nothing for a withdrawn report.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from analysis.models import AnalysisRun, Report, ReportPublicationEvent, ReportTypesetJob
from analysis.reporting.context import report_context
from analysis.reporting.html import as_published, report_html_from_context
from analysis.reporting.pdf import ReportRenderError, report_pdf_from_context, report_pdf_from_html
from analysis.runs import selectors
from analysis.runs.job import TYPESET_DONE, TYPESET_JOB, TYPESET_STARTED
from study import access
from tracker import jobs

log = logging.getLogger(__name__)

#: A withdrawal names its reason in at least this many characters (a word is not a reason).
MIN_REASON_LENGTH = 10


def report_render(*, run: AnalysisRun) -> Report:
    """Render (or re-render) the draft report of a successful run."""
    existing = Report.objects.filter(run=run).first()
    if existing and existing.published:
        return existing
    version = (
        existing.version
        if existing
        else (Report.objects.filter(study=run.study).aggregate(v=Max("version"))["v"] or 0) + 1
    )
    html, pdf, pdf_error = _rendered(run=run, version=version, previous=_previous_published(run))
    report = existing or Report(run=run, study=run.study, version=version)
    report.html, report.pdf, report.pdf_error = html, pdf, pdf_error
    report.save()
    return report


def _rendered(
    *, run: AnalysisRun, version: int, previous: Report | None, published: bool = False
) -> tuple[str, bytes | None, str]:
    """The report's HTML, its PDF (or None) and the PDF's error, from one context."""
    context = report_context(
        run=run, version=version, previous=previous.run if previous else None, published=published
    )
    html = report_html_from_context(context)
    # A typesetting error fails only the PDF: the HTML report is stored, the error names the
    # field that broke it.
    pdf, pdf_error = None, ""
    try:
        pdf = report_pdf_from_context(context, html)
    except ReportRenderError as exc:
        log.warning("report of run %s: no PDF (%s): %s", run.pk, exc.field, exc)
        pdf_error = _pdf_error(exc)
    return html, pdf, pdf_error


def _pdf_error(exc: ReportRenderError) -> str:
    return f"PDF niet gemaakt: het veld '{exc.field}' kon niet worden gezet ({exc})"[:2000]


def _previous_published(run: AnalysisRun) -> Report | None:
    """The newest published, not withdrawn report of the run's study other than the run's own:
    what "wat is er veranderd" compares with."""
    return (
        Report.objects.filter(study=run.study, published=True, withdrawn_at__isnull=True)
        .exclude(run=run)
        .select_related("run")
        .order_by("-version")
        .first()
    )


def published_rendering(report: Report) -> str:
    """The report's content exactly as the gemeente reads it once published: the publish
    preview and the gemeente's report page both show this (the stored rendering; publishing
    changes only the status on its title page and typesets its PDF again, as a job)."""
    return report.html


def _locked(report: Report) -> Report:
    return Report.objects.select_for_update().defer("html", "pdf").get(pk=report.pk)


def report_publish(*, report: Report, user, typeset_here: bool = False) -> Report:
    """Publish a draft report: the municipality (gemeente) can read it from then on. The
    publication is recorded at once with the published rendering (the preview's content with
    the status "gepubliceerd" on its title page); its PDF is typeset by a job
    (:func:`report_typeset_execute`), queued here. ``typeset_here``: typeset in this process
    before returning instead (commands, the demo)."""
    if not access.has_right(user, report.study, access.Right.REPORT_PUBLISH):
        raise PermissionDenied
    with transaction.atomic():
        job = _publish(report=report, user=user, send=not typeset_here)
    if job is not None and typeset_here:
        report_typeset_execute(job_id=job.pk)
        report.refresh_from_db()
    return report


def _published_html(report: Report) -> str:
    """The published rendering: the stored draft with its status changed, or (a draft rendered
    by an older template) the report rendered again as published."""
    draft = Report.objects.filter(pk=report.pk).values_list("html", flat=True).get()
    published = as_published(draft)
    if published is not None:
        return published
    context = report_context(
        run=report.run,
        version=report.version,
        previous=_previous_published(report.run),
        published=True,
    )
    return report_html_from_context(context)


def _publish(*, report: Report, user, send: bool) -> ReportTypesetJob | None:
    stored = _locked(report)
    if stored.withdrawn:
        raise ValidationError(
            _("A withdrawn report cannot be published again: start a new analysis."),
            code="withdrawn",
        )
    if stored.published:
        return None
    now = timezone.now()
    report.html = _published_html(report)
    report.pdf, report.pdf_error = None, ""  # the draft's PDF says "concept" on its title page
    report.published, report.published_at, report.published_by = True, now, user
    Report.objects.filter(pk=report.pk).update(
        published=True,
        published_at=now,
        published_by=user,
        html=report.html,
        pdf=None,
        pdf_error="",
    )
    ReportPublicationEvent.objects.create(
        report=report, action=ReportPublicationEvent.Action.PUBLISHED, at=now, by=user
    )
    job = ReportTypesetJob.objects.create(report=report, heartbeat_at=now)
    if send:
        jobs.enqueue_on_commit(TYPESET_JOB.task_name, job.pk)
    log.info("report %s (study %s) published by %s", report.pk, report.study_id, user.pk)
    return job


def report_typeset_again(*, report: Report, user) -> ReportTypesetJob:
    """Typeset a published report's PDF again: after a failure (a new job), or when its
    typesetting stalled (the reconciler's pass sends it again, for where no beat runs). Refused
    for a draft or a withdrawn report, one that has its PDF, and while a typesetting is under
    way."""
    if not access.has_right(user, report.study, access.Right.REPORT_PUBLISH):
        raise PermissionDenied
    active = selectors.typesetting(report)
    if active is not None and jobs.job_stalled(TYPESET_JOB, active):
        jobs.jobs_reconcile(TYPESET_JOB)
        return active
    with transaction.atomic():
        stored = _locked(report)
        if not stored.published or stored.withdrawn:
            raise ValidationError(
                _("Only a published report that is not withdrawn gets its PDF typeset."),
                code="not_published",
            )
        if selectors.typesetting(report) is not None:
            raise ValidationError(_("The PDF is already being typeset."), code="typesetting")
        if Report.objects.filter(pk=report.pk, pdf__isnull=False).exists():
            raise ValidationError(_("This report already has its PDF."), code="has_pdf")
        Report.objects.filter(pk=report.pk).update(pdf_error="")
        job = ReportTypesetJob.objects.create(report=report, heartbeat_at=timezone.now())
        jobs.enqueue_on_commit(TYPESET_JOB.task_name, job.pk)
    return job


def report_typeset_execute(*, job_id: int) -> ReportTypesetJob | None:
    """Claim the typesetting (only one worker gets it), typeset the published report's PDF and
    store it, or the reason there is none in ``Report.pdf_error``. Stored only by the attempt
    still holding the claim and only while the report is not withdrawn: a withdrawal during
    typesetting wins (the job is cancelled, nothing is stored)."""
    return jobs.job_execute(
        TYPESET_JOB,
        job_id=job_id,
        work=_typeset_claimed,
        gave_up=lambda pk: ReportTypesetJob.objects.get(pk=pk),
    )


def _typeset(report: Report) -> tuple[bytes | None, str]:
    """(PDF, "") or (None, the reason in Dutch) from the stored published HTML."""
    html = Report.objects.filter(pk=report.pk).values_list("html", flat=True).get()
    try:
        return report_pdf_from_html(
            html,
            study=report.study,
            context=lambda: report_context(run=report.run, version=report.version, published=True),
        ), ""
    except ReportRenderError as exc:
        log.warning("report %s: no PDF (%s): %s", report.pk, exc.field, exc)
        return None, _pdf_error(exc)


def _typeset_claimed(claim: jobs.Claim) -> ReportTypesetJob | None:
    job = ReportTypesetJob.objects.select_related("report__study", "report__run").get(
        pk=claim.job_id
    )
    claim.heartbeat(progress=TYPESET_STARTED, progress_note=_("typesetting the PDF"))
    try:
        pdf, error = _typeset(job.report)
    except (OperationalError, InterfaceError):
        raise  # the database: the task retries
    except Exception as exc:  # anything else fails the PDF only, with words
        log.exception("report %s: typesetting failed", job.report_id)
        pdf, error = None, f"PDF niet gemaakt: {exc.__class__.__name__}: {exc}"[:2000]
    claim.heartbeat(progress=TYPESET_DONE, progress_note=_("storing the PDF"))
    now = timezone.now()
    with transaction.atomic():
        stored = Report.objects.select_for_update().only("withdrawn_at").get(pk=job.report_id)
        if stored.withdrawn:
            claim.finish(
                status=ReportTypesetJob.Status.CANCELLED,
                finished_at=now,
                progress_note=_("the report was withdrawn"),
            )
            return None
        status = (
            ReportTypesetJob.Status.FAILED if pdf is None else ReportTypesetJob.Status.SUCCEEDED
        )
        if not claim.finish(status=status, progress=100, error=error, finished_at=now):
            log.warning("report typesetting %s: attempt %s lost its claim", job.pk, claim.attempt)
            return None
        Report.objects.filter(pk=job.report_id).update(pdf=pdf, pdf_error=error)
    job.status, job.error = status, error
    return job


@transaction.atomic
def report_withdraw(*, report: Report, user, reason: str) -> Report:
    """Withdraw a published report, with a reason: the gemeente then sees it as withdrawn, with
    the date; the report itself stays as it was."""
    if not access.has_right(user, report.study, access.Right.REPORT_PUBLISH):
        raise PermissionDenied
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationError(
            {
                "reason": _("Say why the report is withdrawn (at least %(n)s characters).")
                % {"n": MIN_REASON_LENGTH}
            },
            code="reason",
        )
    stored = _locked(report)
    if not stored.published:
        raise ValidationError(_("Only a published report can be withdrawn."), code="draft")
    if stored.withdrawn:
        raise ValidationError(_("This report has already been withdrawn."), code="withdrawn")
    now = timezone.now()
    Report.objects.filter(pk=report.pk).update(
        withdrawn_at=now, withdrawn_by=user, withdrawal_reason=reason
    )
    # A typesetting still under way stores nothing now (its claim is gone, and it checks).
    ReportTypesetJob.objects.filter(
        report=report, status__in=(ReportTypesetJob.Status.QUEUED, ReportTypesetJob.Status.RUNNING)
    ).update(
        status=ReportTypesetJob.Status.CANCELLED,
        claimed_by="",
        finished_at=now,
        progress_note=_("the report was withdrawn"),
    )
    report.withdrawn_at, report.withdrawn_by, report.withdrawal_reason = now, user, reason
    ReportPublicationEvent.objects.create(
        report=report,
        action=ReportPublicationEvent.Action.WITHDRAWN,
        at=now,
        by=user,
        reason=reason,
    )
    log.info("report %s (study %s) withdrawn by %s", report.pk, report.study_id, user.pk)
    return report
