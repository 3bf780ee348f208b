"""Read side of analyses: which runs and reports a user may see (gemeente: published only)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from analysis.models import AnalysisRun, Report
from study import selectors as study_selectors
from study.roles import Role


def may_run_analyses(user, study) -> bool:
    return bool(study_selectors.study_role(user, study) & {Role.RESEARCHER, Role.DATA_MANAGER})


def report_list(user, *, study=None) -> QuerySet[Report]:
    """Reports of the studies a user may open; the gemeente (and coaches) only published ones."""
    studies = study_selectors.study_list(user)
    if study is not None:
        studies = studies.filter(pk=study.pk)
    qs = (
        Report.objects.filter(study__in=studies).select_related("run", "study").defer("html", "pdf")
    )
    allowed = [s.pk for s in studies if may_run_analyses(user, s)]
    return qs.filter(study_id__in=allowed) | qs.filter(published=True)


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
    return [s for s in study_selectors.study_list(user) if may_run_analyses(user, s)]
