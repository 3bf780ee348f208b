"""Read side of questions, plans and schedules: which a user may see and edit."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from analysis.effects.questions import indicators_by_question
from analysis.models import AnalysisPlan, PlanFreezeJob, ReportSchedule, StudyQuestion
from analysis.plans.job import PLAN_FREEZE_JOB
from analysis.runs.selectors import may_run_analyses
from study import access
from study import selectors as study_selectors
from study.catalogue import indicators_for
from tracker import jobs


def may_edit_questions(user, study) -> bool:
    """Research questions and the analysis plan belong to the study's researchers and data
    managers."""
    return access.has_right(user, study, access.Right.PLAN_EDIT)


def question_list(user, *, study, may_run: bool | None = None) -> QuerySet[StudyQuestion]:
    """``may_run``: :func:`may_run_analyses` when the caller has it already."""
    if not (may_run_analyses(user, study) if may_run is None else may_run):
        return StudyQuestion.objects.none()
    return StudyQuestion.objects.filter(study=study).order_by("order", "code")


def question_indicators(study) -> dict[str, list[str]]:
    """Question code -> the study's registry indicators that feed it (the catalogue's
    ``research_questions`` column, global and study-specific indicators)."""
    return indicators_by_question(indicators_for(study).values_list("code", "research_questions"))


def plan_list(user, *, study, may_run: bool | None = None) -> QuerySet[AnalysisPlan]:
    """``may_run``: :func:`may_run_analyses` when the caller has it already."""
    if not (may_run_analyses(user, study) if may_run is None else may_run):
        return AnalysisPlan.objects.none()
    return AnalysisPlan.objects.filter(study=study).order_by("-version")


def plan_current(study) -> AnalysisPlan | None:
    """The latest frozen version of the study's analysis plan (None before the first freeze)."""
    return AnalysisPlan.objects.filter(study=study).order_by("-version").first()


def _unfinished_freezes(study) -> QuerySet[PlanFreezeJob]:
    return PlanFreezeJob.objects.filter(
        study=study, status__in=(PlanFreezeJob.Status.QUEUED, PlanFreezeJob.Status.RUNNING)
    ).order_by("-created_at", "-pk")


def freeze_active(study) -> PlanFreezeJob | None:
    """The study's newest queued or running freeze (stalled or not): it refuses another."""
    return _unfinished_freezes(study).first()


def freeze_in_progress(study) -> PlanFreezeJob | None:
    """The freeze that keeps the freeze buttons disabled: queued or running and not stalled (a
    stalled one is picked up again when someone asks to freeze)."""
    return next(
        (job for job in _unfinished_freezes(study) if not jobs.job_stalled(PLAN_FREEZE_JOB, job)),
        None,
    )


def freeze_stalled(study) -> bool:
    return any(jobs.job_stalled(PLAN_FREEZE_JOB, job) for job in _unfinished_freezes(study))


def freeze_last(study) -> PlanFreezeJob | None:
    """The study's newest freeze request, whatever became of it (the page shows its error)."""
    return PlanFreezeJob.objects.filter(study=study).order_by("-created_at", "-pk").first()


def freeze_job_get(user, pk: int) -> PlanFreezeJob:
    """A freeze request, for the study's researchers and data managers; 404 for anyone else."""
    job = PlanFreezeJob.objects.filter(pk=pk).select_related("study", "plan").first()
    if job is None or not may_run_analyses(user, job.study):
        raise Http404
    return job


def schedule_list(user, *, study, may_run: bool | None = None) -> QuerySet[ReportSchedule]:
    """``may_run``: :func:`may_run_analyses` when the caller has it already."""
    if not (may_run_analyses(user, study) if may_run is None else may_run):
        return ReportSchedule.objects.none()
    return ReportSchedule.objects.filter(study=study).order_by("-active", "next_due")


def study_for_analysts(user, study_id: int):
    """The study, for its researchers and data managers; 404 for anyone else."""
    study = study_selectors.study_get(user, study_id)
    if not may_run_analyses(user, study):
        raise Http404
    return study


def study_for_editors(user, study_id: int):
    """The study, for those who may edit its questions, plan and schedules; 404 otherwise."""
    study = study_for_analysts(user, study_id)
    if not may_edit_questions(user, study):
        raise Http404
    return study


def study_rights_for_analysts(user, study_id: int, *, edit: bool = False):
    """:func:`study_for_analysts` (``edit``: :func:`study_for_editors`) and the user's rights
    in the study (``access.study_rights``), read in one query instead of one per right."""
    study = study_selectors.study_get(user, study_id)
    rights = access.study_rights(user, study)
    if access.Right.ANALYSE not in rights or (edit and access.Right.PLAN_EDIT not in rights):
        raise Http404
    return study, rights
