"""An analysis run, and the typesetting of a published report's PDF, as jobs of tracker/jobs.py:
their models, tasks, statuses and limits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from analysis.models import AnalysisRun, Report, ReportTypesetJob
from tracker.jobs import JobSpec

#: The task that executes a run (analysis/tasks.py); services send it by this name.
RUN_TASK = "analysis.tasks.analysis_run_task"


def gave_up_message(attempts: int) -> str:
    return _(
        "Stopped after %(n)s attempts: the worker running this analysis stopped each time "
        "(for example killed, out of memory or over the time limit). Ask the administrator to "
        "check the worker logs, then start a new run."
    ) % {"n": attempts}


def _requeue_fields() -> dict:
    return {"progress_note": _("worker stopped; queued again")}


def analysis_job(
    *,
    model: Any,
    task_name: str,
    gave_up: Callable[[int], str],
    claimed_progress: int,
    label: str,
    on_gave_up: Callable[[int], None] | None = None,
) -> JobSpec:
    """A job of the analysis app (runs, plan freezes, typesetting): bounded by the analysis
    limits (ANALYSIS_MAX_ATTEMPTS and the reconciler's thresholds), its error the `gave_up`
    message when the worker stopped too often, progress `claimed_progress` once claimed."""

    def gave_up_fields(attempts: int, now: datetime) -> dict:
        return {"error": gave_up(attempts), "finished_at": now}

    def claim_fields(now: datetime) -> dict:
        return {"started_at": now, "progress": claimed_progress}

    return JobSpec(
        model=model,
        task_name=task_name,
        queued=model.Status.QUEUED,
        running=model.Status.RUNNING,
        failed=model.Status.FAILED,
        max_attempts=lambda: settings.ANALYSIS_MAX_ATTEMPTS,
        stale_seconds=lambda: settings.ANALYSIS_STALE_SECONDS,
        queued_seconds=lambda: settings.ANALYSIS_QUEUED_SECONDS,
        gave_up_fields=gave_up_fields,
        claim_fields=claim_fields,
        requeue_fields=_requeue_fields,
        label=label,
        on_gave_up=on_gave_up,
    )


RUN_JOB = analysis_job(
    model=AnalysisRun,
    task_name=RUN_TASK,
    gave_up=gave_up_message,
    claimed_progress=1,
    label="analysis run",
)


#: The task that typesets a published report's PDF (analysis/tasks.py); sent by this name.
TYPESET_TASK = "analysis.tasks.report_typeset_task"
#: Typesetting progress (%): claimed, typesetting, storing.
TYPESET_CLAIMED = 5
TYPESET_STARTED = 20
TYPESET_DONE = 90


def typeset_gave_up_message(attempts: int) -> str:
    return _(
        "The PDF was not made: the worker typesetting it stopped %(n)s times (for example "
        "killed, out of memory or over the time limit). The published report itself can be "
        "read; ask the administrator to check the worker logs."
    ) % {"n": attempts}


def _typeset_given_up(job_id: int) -> None:
    """The report says why it has no PDF (unless it was withdrawn meanwhile)."""
    job = ReportTypesetJob.objects.filter(pk=job_id).values("report_id", "error").first()
    if job:
        Report.objects.filter(pk=job["report_id"], withdrawn_at__isnull=True).update(
            pdf_error=job["error"]
        )


TYPESET_JOB = analysis_job(
    model=ReportTypesetJob,
    task_name=TYPESET_TASK,
    gave_up=typeset_gave_up_message,
    claimed_progress=TYPESET_CLAIMED,
    label="report typesetting",
    on_gave_up=_typeset_given_up,
)
