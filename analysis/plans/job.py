"""Freezing an analysis plan as a job of tracker/jobs.py: its model, task, statuses and limits.

The job is bounded like an analysis run (ANALYSIS_TIME_LIMIT, attempts and the reconciler's
thresholds): both simulate, and both are the analysis app's work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from analysis.models import PlanFreezeJob
from tracker.jobs import JobSpec

#: The task that computes the MDEs and freezes the plan (analysis/tasks.py); sent by this name.
FREEZE_TASK = "analysis.tasks.plan_freeze_task"
#: Progress (%) once claimed; the simulation of the outcomes fills the rest up to 95.
PROGRESS_CLAIMED = 5
PROGRESS_SIMULATED = 95


def gave_up_message(attempts: int) -> str:
    return _(
        "The analysis plan was not frozen: the worker computing the minimum detectable effects "
        "stopped %(n)s times (for example killed, out of memory or over the time limit). Ask "
        "the administrator to check the worker logs, then freeze the plan again."
    ) % {"n": attempts}


def _gave_up_fields(attempts: int, now: datetime) -> dict[str, Any]:
    return {"error": gave_up_message(attempts), "finished_at": now}


def _claim_fields(now: datetime) -> dict[str, Any]:
    return {"started_at": now, "progress": PROGRESS_CLAIMED}


def _requeue_fields() -> dict[str, Any]:
    return {"progress_note": _("worker stopped; queued again")}


PLAN_FREEZE_JOB = JobSpec(
    model=PlanFreezeJob,
    task_name=FREEZE_TASK,
    queued=PlanFreezeJob.Status.QUEUED,
    running=PlanFreezeJob.Status.RUNNING,
    failed=PlanFreezeJob.Status.FAILED,
    max_attempts=lambda: settings.ANALYSIS_MAX_ATTEMPTS,
    stale_seconds=lambda: settings.ANALYSIS_STALE_SECONDS,
    queued_seconds=lambda: settings.ANALYSIS_QUEUED_SECONDS,
    gave_up_fields=_gave_up_fields,
    claim_fields=_claim_fields,
    requeue_fields=_requeue_fields,
    label="plan freeze",
)
