"""An analysis run as a job of tracker/jobs.py: its model, task, statuses and limits."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils.translation import gettext as _

from analysis.models import AnalysisRun
from tracker.jobs import JobSpec

#: The task that executes a run (analysis/tasks.py); services send it by this name.
RUN_TASK = "analysis.tasks.analysis_run_task"


def gave_up_message(attempts: int) -> str:
    return _(
        "Stopped after %(n)s attempts: the worker running this analysis stopped each time "
        "(for example killed, out of memory or over the time limit). Ask the administrator to "
        "check the worker logs, then start a new run."
    ) % {"n": attempts}


def _gave_up_fields(attempts: int, now: datetime) -> dict:
    return {"error": gave_up_message(attempts), "finished_at": now}


def _claim_fields(now: datetime) -> dict:
    return {"started_at": now, "progress": 1}


def _requeue_fields() -> dict:
    return {"progress_note": _("worker stopped; queued again")}


RUN_JOB = JobSpec(
    model=AnalysisRun,
    task_name=RUN_TASK,
    queued=AnalysisRun.Status.QUEUED,
    running=AnalysisRun.Status.RUNNING,
    failed=AnalysisRun.Status.FAILED,
    max_attempts=lambda: settings.ANALYSIS_MAX_ATTEMPTS,
    stale_seconds=lambda: settings.ANALYSIS_STALE_SECONDS,
    queued_seconds=lambda: settings.ANALYSIS_QUEUED_SECONDS,
    gave_up_fields=_gave_up_fields,
    claim_fields=_claim_fields,
    requeue_fields=_requeue_fields,
    label="analysis run",
)
