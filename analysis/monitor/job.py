"""A monitor job as a job of tracker/jobs.py: its model, task, statuses and limits, and the
uploaded extract it owns (household-level data: deleted when the job ends, given up included)."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from analysis.monitor.models import MonitorJob
from tracker.jobs import JobSpec

#: The task that claims a job and starts counting (analysis/tasks.py); sent by this name.
JOB_TASK = "analysis.tasks.monitor_job_task"
#: Job progress (%): claimed, counted (the rest is pricing, the trend and storing).
PROGRESS_CLAIMED = 5
PROGRESS_COUNTED = 60


def extract_delete(path: str | None) -> None:
    """Delete a job's stored extract and its folder (household-level data is not kept)."""
    if not path:
        return
    folder = Path(path).resolve().parent
    if folder.parent == Path(settings.MONITOR_UPLOAD_DIR).resolve():
        shutil.rmtree(folder, ignore_errors=True)
    else:
        Path(path).unlink(missing_ok=True)


def gave_up_message(attempts: int) -> str:
    return _(
        "Stopped after %(n)s attempts: the worker running this monitor job stopped each time "
        "(for example killed, out of memory or over the time limit). The uploaded extract has "
        "been deleted; ask the administrator to check the worker logs, then upload it again."
    ) % {"n": attempts}


def _gave_up_fields(attempts: int, now: datetime) -> dict[str, Any]:
    return {"error": gave_up_message(attempts), "finished_at": now}


def _claim_fields(now: datetime) -> dict[str, Any]:
    # A job taken over starts counting afresh: the earlier attempt's chunks no longer count.
    return {"started_at": now, "progress": PROGRESS_CLAIMED, "chunks": 0, "chunks_done": 0}


def _extract_of_given_up(job_id: int) -> None:
    params = MonitorJob.objects.filter(pk=job_id).values_list("params", flat=True).first()
    extract_delete((params or {}).get("path"))


MONITOR_JOB = JobSpec(
    model=MonitorJob,
    task_name=JOB_TASK,
    queued=MonitorJob.Status.QUEUED,
    running=MonitorJob.Status.RUNNING,
    failed=MonitorJob.Status.FAILED,
    max_attempts=lambda: settings.MONITOR_JOB_MAX_ATTEMPTS,
    stale_seconds=lambda: settings.MONITOR_JOB_STALE_SECONDS,
    queued_seconds=lambda: settings.MONITOR_JOB_QUEUED_SECONDS,
    gave_up_fields=_gave_up_fields,
    claim_fields=_claim_fields,
    on_gave_up=_extract_of_given_up,
    label="monitor job",
)
