"""Effect reports of runs: render (or re-render) the draft of a successful run, publish it,
withdraw a published one.

A published report is immutable (analysis.models.Report): rendering leaves it alone, and
withdrawing only marks it (date, who, reason); nothing is deleted. Publishing and withdrawing
are recorded in the append-only ReportPublicationEvent and logged.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from analysis.models import AnalysisRun, Report, ReportPublicationEvent
from analysis.reporting.context import report_context
from analysis.reporting.html import report_html_from_context
from analysis.reporting.pdf import ReportRenderError, report_pdf_from_context
from study import access

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
        pdf_error = f"PDF niet gemaakt: het veld '{exc.field}' kon niet worden gezet ({exc})"[:2000]
    return html, pdf, pdf_error


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
    typesets it once more, changing only the status on its title page)."""
    return report.html


def _locked(report: Report) -> Report:
    return Report.objects.select_for_update().defer("html", "pdf").get(pk=report.pk)


def report_publish(*, report: Report, user) -> Report:
    """Publish a draft report: the municipality (gemeente) can read it from then on. The
    report is typeset once more with its status "gepubliceerd" on the title page (outside the
    write transaction: typesetting takes seconds and must not hold the database's write lock);
    its content is the same run's, so it is what the preview showed."""
    if not access.has_right(user, report.study, access.Right.REPORT_PUBLISH):
        raise PermissionDenied
    if report.published or report.withdrawn:
        rendered = None  # refused or a no-op below, under the lock
    else:
        rendered = _rendered(
            run=report.run,
            version=report.version,
            previous=_previous_published(report.run),
            published=True,
        )
    with transaction.atomic():
        return _publish(report=report, user=user, rendered=rendered)


def _publish(*, report: Report, user, rendered: tuple[str, bytes | None, str] | None) -> Report:
    stored = _locked(report)
    if stored.withdrawn:
        raise ValidationError(
            _("A withdrawn report cannot be published again: start a new analysis."),
            code="withdrawn",
        )
    if stored.published:
        return report
    if rendered is None:  # published or withdrawn since it was read: render now, as a draft was
        rendered = _rendered(
            run=report.run,
            version=report.version,
            previous=_previous_published(report.run),
            published=True,
        )
    report.html, report.pdf, report.pdf_error = rendered
    report.published, report.published_at, report.published_by = True, timezone.now(), user
    Report.objects.filter(pk=report.pk).update(
        published=True,
        published_at=report.published_at,
        published_by=user,
        html=report.html,
        pdf=report.pdf,
        pdf_error=report.pdf_error,
    )
    ReportPublicationEvent.objects.create(
        report=report,
        action=ReportPublicationEvent.Action.PUBLISHED,
        at=report.published_at,
        by=user,
    )
    log.info("report %s (study %s) published by %s", report.pk, report.study_id, user.pk)
    return report


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
