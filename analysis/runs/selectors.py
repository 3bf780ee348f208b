"""Read side of analyses: which runs and reports a user may see (gemeente: published only)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from analysis.models import AnalysisRun, Report
from study import access


def may_run_analyses(user, study) -> bool:
    return access.has_right(user, study, access.Right.ANALYSE)


def report_list(user, *, study=None) -> QuerySet[Report]:
    """Reports of the studies a user may analyse; of the other studies they may open (the
    gemeente, coaches), only the published ones."""
    qs = Report.objects.select_related("run", "study").defer("html", "pdf")
    if study is not None:
        qs = qs.filter(study=study)
    analysable = access.studies_with(user, access.Right.ANALYSE)
    readable = access.studies_with(user, access.Right.READ_PUBLISHED)
    return qs.filter(Q(study__in=analysable) | Q(study__in=readable, published=True))


def report_get(user, pk: int) -> Report:
    try:
        return report_list(user).get(pk=pk)
    except Report.DoesNotExist:
        raise Http404 from None


def run_list(user, *, study) -> QuerySet[AnalysisRun]:
    if not may_run_analyses(user, study):
        return AnalysisRun.objects.none()
    return AnalysisRun.objects.filter(study=study).select_related("plan").defer("results")


def run_get(user, pk: int) -> AnalysisRun:
    run = AnalysisRun.objects.filter(pk=pk).select_related("study").defer("results").first()
    if run is None or not may_run_analyses(user, run.study):
        raise Http404
    return run


def runnable_studies(user) -> list:
    """The studies whose runs and plans a user may see (researchers and data managers)."""
    return list(access.studies_with(user, access.Right.ANALYSE))
