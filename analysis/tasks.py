"""Every Celery task of the analysis app, thin: load ids, call one service. Nothing imports this
module; services enqueue the tasks by name (tracker/jobs.py)."""

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from analysis.monitor import pipeline
from analysis.monitor import services as monitor_services
from analysis.plans import plan_services, schedule_services
from analysis.runs import report_services, services

# One setting bounds a run; the reconciler's stale threshold is derived from the same setting
# (runs left by a dead worker are put right by tracker.tasks.reconcile_jobs_task).
_LIMIT = int(settings.ANALYSIS_TIME_LIMIT.total_seconds())
#: The options of every analysis job's task (runs, plan freezes, report typesetting).
_JOB_TASK = {
    "acks_late": True,
    "time_limit": _LIMIT,
    "soft_time_limit": _LIMIT - 60,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "max_retries": 3,
}


# acks_late + reject_on_worker_lost (settings): a killed worker's run is redelivered; the claim in
# analysis_run_execute makes redelivery harmless. time_limit bounds a runaway run; retries only for
# a database that is briefly unreachable — a statistics error fails the run instead.
@shared_task(**_JOB_TASK)
def analysis_run_task(run_id: int) -> None:
    services.analysis_run_execute(run_id=run_id)


# Freezing a plan simulates its MDEs (seconds per outcome) and typesetting a published report
# takes seconds: both are jobs claimed like a run, with the run's task options; a simulation or
# typesetting error fails the job with a message.
@shared_task(**_JOB_TASK)
def plan_freeze_task(job_id: int) -> None:
    plan_services.analysis_plan_freeze_execute(job_id=job_id)


@shared_task(**_JOB_TASK)
def report_typeset_task(job_id: int) -> None:
    report_services.report_typeset_execute(job_id=job_id)


# Celery beat (CELERY_BEAT_SCHEDULE): due report schedules start a draft run and e-mail the
# researchers; the claim in schedule_run makes a repeated beat harmless.
@shared_task(acks_late=True, time_limit=60 * 60)
def report_schedules_task() -> None:
    schedule_services.schedules_run_due()


# --- monitor ---
# The monitor's fan-out (analysis/monitor/runner.py, through tracker/jobs.py): one task per
# municipality of an extract, then one task that combines the counts (the command and the demo
# wait for it) or finishes the job the API queued. Tasks take a path (on storage every worker
# reads), names, the year and ids, never frames; results travel through the result backend.


# acks_late (settings) lets another worker redo a chunk whose worker died; a chunk is pure and
# idempotent, so counting it twice is harmless. No retries: a file problem is not transient and
# comes back as errors in the result.
@shared_task(ignore_result=False, time_limit=1800, soft_time_limit=1700)
def monitor_chunk_task(
    path: str,
    municipality: str | None,
    year: int,
    job_id: int | None = None,
    chunks: int = 0,
    attempt: int = 0,
) -> dict:
    return monitor_services.monitor_chunk_count(
        path=path,
        municipality=municipality,
        year=year,
        job_id=job_id,
        chunks=chunks,
        attempt=attempt,
    )


@shared_task(ignore_result=False, time_limit=600)
def monitor_combine_task(results: list[dict], source: str, year: int) -> dict:
    return pipeline.monitor_combine(results=results, source=source, year=year)


# The job's task claims the job and starts the fan-out without waiting for it (a task waiting
# for its own subtasks can hold every worker slot). Without a broker it runs the whole job,
# counting in a process pool. Retries only for a database that is briefly unreachable.
@shared_task(
    acks_late=True,
    time_limit=3600,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def monitor_job_task(job_id: int) -> None:
    monitor_services.monitor_job_execute(job_id=job_id)


# Chord body of a job: the suppressed summary, the cost and trend, the stored reports. It writes
# only while the attempt whose chunks it combines holds the job, so a redelivered body, or one of
# an attempt the reconciler took over, is harmless.
@shared_task(
    acks_late=True,
    time_limit=3600,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def monitor_job_finish_task(results: list[dict], job_id: int, attempt: int) -> None:
    monitor_services.monitor_job_finish(job_id=job_id, attempt=attempt, results=results)


# Errback of the chord body: called in the worker whose chunk task raised (not sent as a task).
@shared_task
def monitor_job_fail_task(request, exc, traceback, job_id: int, attempt: int) -> None:
    monitor_services.monitor_job_fail(
        job_id=job_id, attempt=attempt, error=f"counting failed: {exc.__class__.__name__}: {exc}"
    )
