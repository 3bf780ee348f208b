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


def may_edit_questions(user, study) -> bool:
    """Research questions and the analysis plan belong to the study's researchers (and the data
    manager, who holds every role)."""
    return Role.RESEARCHER in study_selectors.study_role(user, study)


def question_list(user, *, study):
    from analysis.models import StudyQuestion

    if not may_run_analyses(user, study):
        return StudyQuestion.objects.none()
    return StudyQuestion.objects.filter(study=study).order_by("order", "code")


def plan_list(user, *, study):
    from analysis.models import AnalysisPlan

    if not may_run_analyses(user, study):
        return AnalysisPlan.objects.none()
    return AnalysisPlan.objects.filter(study=study).order_by("-version")


def schedule_list(user, *, study):
    from analysis.models import ReportSchedule

    if not may_run_analyses(user, study):
        return ReportSchedule.objects.none()
    return ReportSchedule.objects.filter(study=study).order_by("-active", "next_due")
