"""Read side of analyses: which runs and reports a user may see (gemeente: published only)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from analysis.models import AnalysisRun, Report, ReportTypesetJob
from analysis.runs.job import RUN_JOB
from study import access
from study.allocation import METHOD as BLOCKS_METHOD
from study.models.allocation import AllocationRecord
from study.models.matching import MatchingCandidate
from tracker import jobs

#: A run in one of these is not finished: it blocks another run of its study.
ACTIVE_STATUSES = (AnalysisRun.Status.QUEUED, AnalysisRun.Status.RUNNING)


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


def study_report_list(study, *, rights: set[access.Right]) -> QuerySet[Report]:
    """:func:`report_list` of one study for a user holding ``rights`` there
    (``access.study_rights``): every report to analysts, the published ones to readers."""
    qs = Report.objects.select_related("run", "study").defer("html", "pdf").filter(study=study)
    if access.Right.ANALYSE in rights:
        return qs
    if access.Right.READ_PUBLISHED in rights:
        return qs.filter(published=True)
    return qs.none()


def report_get(user, pk: int) -> Report:
    try:
        return report_list(user).get(pk=pk)
    except Report.DoesNotExist:
        raise Http404 from None


def run_list(user, *, study, may_run: bool | None = None) -> QuerySet[AnalysisRun]:
    """The study's runs, each with ``report_pk`` (its report's id, None without one).
    ``may_run``: :func:`may_run_analyses` when the caller has it already."""
    if not (may_run_analyses(user, study) if may_run is None else may_run):
        return AnalysisRun.objects.none()
    return (
        AnalysisRun.objects.filter(study=study)
        .select_related("plan")
        .defer("results")
        .annotate(report_pk=F("report__id"))
    )


def _unfinished(study) -> QuerySet[AnalysisRun]:
    return (
        AnalysisRun.objects.filter(study=study, status__in=ACTIVE_STATUSES)
        .defer("results")
        .order_by("-created_at", "-pk")
    )


def active_run(study) -> AnalysisRun | None:
    """The study's newest queued or running run (the database row is the record of truth)."""
    return _unfinished(study).first()


def _stalled(run: AnalysisRun, now) -> bool:
    if run.status == AnalysisRun.Status.RUNNING:
        return jobs.worker_gone(RUN_JOB, run, now=now)
    last = run.heartbeat_at or run.created_at
    return last is None or last < now - timedelta(seconds=settings.ANALYSIS_QUEUED_SECONDS)


def stalled_runs(study) -> list[AnalysisRun]:
    """Unfinished runs nobody is working on: running with its worker gone, or queued for
    longer than a worker takes to pick a run up (the reconciler's rules)."""
    now = timezone.now()
    return [run for run in _unfinished(study) if _stalled(run, now)]


def run_in_progress(study) -> AnalysisRun | None:
    """The run that keeps "Start an analysis" disabled: queued or running and not stalled (a
    stalled run is picked up again when someone starts an analysis)."""
    now = timezone.now()
    return next((run for run in _unfinished(study) if not _stalled(run, now)), None)


def run_get(user, pk: int) -> AnalysisRun:
    run = AnalysisRun.objects.filter(pk=pk).select_related("study").defer("results").first()
    if run is None or not may_run_analyses(user, run.study):
        raise Http404
    return run


def runnable_studies(user) -> list:
    """The studies whose runs and plans a user may see (researchers and data managers)."""
    return list(access.studies_with(user, access.Right.ANALYSE))


#: Why randomisation inference permutes within strata rather than blocks (run JSON, in Dutch).
NOTE_MINIMISATION = "minimisatie kent geen blokken: binnen het stratum van de toewijzing"
NOTE_BLOCKS_UNKNOWN = (
    "de blokken van eerdere toewijzingen zijn niet vastgelegd en niet eenduidig te herleiden: "
    "binnen het stratum van de toewijzing"
)


def allocation_cells(study) -> tuple[dict[int, str], dict[int, str] | None, str | None]:
    """What randomisation inference of a randomised study permutes within, from the allocation
    log: (family id -> stratum, family id -> stratum and block or None, note). Blocks only
    when every allocation of the study was by permuted blocks and has its block; else None
    and the note says why (minimisation; blocks not recorded for earlier allocations)."""
    rows = list(
        AllocationRecord.objects.filter(study=study).values_list(
            "family_id", "stratum", "block_number", "method"
        )
    )
    strata = {family: stratum for family, stratum, _block, _method in rows}
    if not rows:
        return strata, None, None
    if any(method != BLOCKS_METHOD for *_rest, method in rows):
        return strata, None, NOTE_MINIMISATION
    if any(block is None for _family, _stratum, block, _method in rows):
        return strata, None, NOTE_BLOCKS_UNKNOWN
    blocks = {family: f"{stratum}#{block}" for family, stratum, block, _method in rows}
    return strata, blocks, None


def matching_candidates_frame(study):
    """The matched study's recorded candidate pool as a frame (candidate_key, intake_year,
    selected, match_set, one column per matching variable), or None when none was recorded."""
    rows = list(
        MatchingCandidate.objects.filter(study=study).values(
            "candidate_key", "intake_year", "selected", "match_set", "values"
        )
    )
    if not rows:
        return None
    return pd.DataFrame([{**r.pop("values"), **r} for r in rows])


def typesetting(report: Report) -> ReportTypesetJob | None:
    """The report's PDF typesetting still under way (queued or running), or None."""
    return (
        ReportTypesetJob.objects.filter(
            report=report,
            status__in=(ReportTypesetJob.Status.QUEUED, ReportTypesetJob.Status.RUNNING),
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def typeset_last(report: Report) -> ReportTypesetJob | None:
    return ReportTypesetJob.objects.filter(report=report).order_by("-created_at", "-pk").first()
