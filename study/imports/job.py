"""A registry import batch as two jobs of tracker/jobs.py: the dry run and the apply.

Both phases live on the same ImportBatch row, each with its own queued and running status; a
claim of one phase never takes a batch in the other's statuses. The apply counts its attempts
from 0 again (``registry_import_apply_request`` resets them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from study.models import ImportBatch
from tracker.jobs import JobSpec

#: The tasks (study/tasks.py); services send them by these names.
DRY_RUN_TASK = "study.tasks.registry_import_validate_task"
APPLY_TASK = "study.tasks.registry_import_apply_task"


def gave_up_message(attempts: int) -> str:
    return _(
        "Stopped after %(n)s attempts: the job ended the worker each time (for example out of "
        "memory). Nothing was imported. Split the file and try again, or ask the data manager."
    ) % {"n": attempts}


def _gave_up_fields(attempts: int, now: datetime) -> dict[str, Any]:
    return {
        "errors": [{"message": gave_up_message(attempts)}],
        "error_count": 1,
        "progress": 100,
        "progress_note": "",
    }


def _dry_run_claim_fields(now: datetime) -> dict[str, Any]:
    return {"progress": 1, "progress_note": _("reading the file")}


def _apply_claim_fields(now: datetime) -> dict[str, Any]:
    return {"progress_note": _("importing")}


def _requeue_fields() -> dict[str, Any]:
    return {"progress_note": _("worker stopped; queued again")}


def _max_attempts() -> int:
    return settings.IMPORT_MAX_ATTEMPTS


def _stale_seconds() -> int:
    # Longer than the tasks' 30-minute time limit: a live worker is never taken for dead.
    return settings.IMPORT_STALE_SECONDS


def _queued_seconds() -> int:
    return settings.IMPORT_REQUEUE_QUEUED_SECONDS


DRY_RUN_JOB = JobSpec(
    model=ImportBatch,
    task_name=DRY_RUN_TASK,
    queued=ImportBatch.Status.QUEUED,
    running=ImportBatch.Status.VALIDATING,
    failed=ImportBatch.Status.FAILED,
    max_attempts=_max_attempts,
    stale_seconds=_stale_seconds,
    queued_seconds=_queued_seconds,
    gave_up_fields=_gave_up_fields,
    claim_fields=_dry_run_claim_fields,
    requeue_fields=_requeue_fields,
    label="import dry run",
)

APPLY_JOB = JobSpec(
    model=ImportBatch,
    task_name=APPLY_TASK,
    queued=ImportBatch.Status.APPLY_QUEUED,
    running=ImportBatch.Status.APPLYING,
    failed=ImportBatch.Status.FAILED,
    max_attempts=_max_attempts,
    stale_seconds=_stale_seconds,
    queued_seconds=_queued_seconds,
    gave_up_fields=_gave_up_fields,
    claim_fields=_apply_claim_fields,
    requeue_fields=_requeue_fields,
    label="import apply",
)
