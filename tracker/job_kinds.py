"""Every kind of background job, for the one reconcile pass over all of them (the beat task
``tracker.tasks.reconcile_jobs_task`` and ``manage.py reconcile_jobs``).

Each app describes its jobs as a :class:`tracker.jobs.JobSpec` next to its services; this module,
where the apps are wired together, only lists them.
"""

from __future__ import annotations

from datetime import datetime

from analysis.monitor.job import MONITOR_JOB
from analysis.plans.job import PLAN_FREEZE_JOB
from analysis.runs.job import RUN_JOB, TYPESET_JOB
from study.imports.job import APPLY_JOB, DRY_RUN_JOB
from tracker.jobs import JobSpec, Reconciled, jobs_reconcile

#: Every kind of job by the name the command and the beat task's result use.
JOB_KINDS: dict[str, JobSpec] = {
    "analysis-run": RUN_JOB,
    "import-dry-run": DRY_RUN_JOB,
    "import-apply": APPLY_JOB,
    "monitor-job": MONITOR_JOB,
    "plan-freeze": PLAN_FREEZE_JOB,
    "report-typeset": TYPESET_JOB,
}


def jobs_reconcile_all(
    *,
    kinds: list[str] | None = None,
    now: datetime | None = None,
    stale_after: int | None = None,
    queued_after: int | None = None,
    queue: str | None = None,
) -> dict[str, Reconciled]:
    """One reconcile pass (tracker.jobs.jobs_reconcile) over every kind of job, or over ``kinds``;
    ``stale_after`` and ``queued_after`` override every kind's own limits."""
    unknown = set(kinds or ()) - set(JOB_KINDS)
    if unknown:
        raise ValueError(f"unknown kind of job: {', '.join(sorted(unknown))}")
    return {
        kind: jobs_reconcile(
            spec, now=now, stale_after=stale_after, queued_after=queued_after, queue=queue
        )
        for kind, spec in JOB_KINDS.items()
        if kinds is None or kind in kinds
    }
