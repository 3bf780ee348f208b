"""Effect reports of runs: render (or re-render) the draft of a successful run, publish it.

A published report is immutable (analysis.models.Report): rendering leaves it alone.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from analysis.models import AnalysisRun, Report
from analysis.reporting.context import report_context
from analysis.reporting.html import report_html_from_context
from analysis.reporting.pdf import ReportRenderError, report_pdf_from_context
from study import access

log = logging.getLogger(__name__)


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
    previous = (
        Report.objects.filter(study=run.study, published=True)
        .exclude(run=run)
        .select_related("run")
        .order_by("-version")
        .first()
    )
    context = report_context(run=run, version=version, previous=previous.run if previous else None)
    html = report_html_from_context(context)
    # A typesetting error fails only the PDF: the HTML report is stored, the error names the
    # field that broke it.
    pdf, pdf_error = None, ""
    try:
        pdf = report_pdf_from_context(context, html)
    except ReportRenderError as exc:
        log.warning("report of run %s: no PDF (%s): %s", run.pk, exc.field, exc)
        pdf_error = f"PDF niet gemaakt: het veld '{exc.field}' kon niet worden gezet ({exc})"[:2000]
    report = existing or Report(run=run, study=run.study, version=version)
    report.html, report.pdf, report.pdf_error = html, pdf, pdf_error
    report.save()
    return report


@transaction.atomic
def report_publish(*, report: Report, user) -> Report:
    """Publish a draft report: the municipality (gemeente) can read it from then on."""
    if not access.has_right(user, report.study, access.Right.REPORT_PUBLISH):
        raise PermissionDenied
    if report.published:
        return report
    report.published, report.published_at, report.published_by = True, timezone.now(), user
    Report.objects.filter(pk=report.pk).update(
        published=True, published_at=report.published_at, published_by=user
    )
    return report
