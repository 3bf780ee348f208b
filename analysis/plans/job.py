"""Freezing an analysis plan as a job of tracker/jobs.py: its model, task, statuses and limits.

The job is bounded like an analysis run (ANALYSIS_TIME_LIMIT, attempts and the reconciler's
thresholds): both simulate, and both are the analysis app's work."""

from __future__ import annotations

from django.utils.translation import gettext as _

from analysis.models import PlanFreezeJob
from analysis.runs.job import analysis_job

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


PLAN_FREEZE_JOB = analysis_job(
    model=PlanFreezeJob,
    task_name=FREEZE_TASK,
    gave_up=gave_up_message,
    claimed_progress=PROGRESS_CLAIMED,
    label="plan freeze",
)
