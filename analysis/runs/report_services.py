"""Effect reports of runs: render (or re-render) the draft of a successful run, publish it.

A published report is immutable (analysis.models.Report): rendering leaves it alone.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from analysis.models import AnalysisRun, Report
from analysis.reporting.html import report_html
from analysis.reporting.pdf import report_pdf
from study import access


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
    html = report_html(run=run, version=version, previous=previous.run if previous else None)
    pdf = report_pdf(run=run, version=version)
    report = existing or Report(run=run, study=run.study, version=version)
    report.html, report.pdf = html, pdf
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
