"""Thin Celery tasks of the study app: ids in, one service call. Registry imports (dry run, then
apply) and the periodic audit seal. Nothing imports this module: services enqueue these tasks by
name (`tracker.jobs.enqueue_on_commit`). Import jobs that a dead worker or a lost message left
behind are put right by the one reconcile beat task (`tracker.tasks.reconcile_jobs_task`)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from study.audit import audit_seal
from study.imports import workflow


# acks_late + reject_on_worker_lost (settings): a killed worker's job is delivered again; both
# services claim the batch first, and applying twice changes nothing, so redelivery is harmless.
# The time limits bound a stuck job (the reconciler's IMPORT_STALE_SECONDS is longer); database
# hiccups are retried with backoff, a file's problems are not (they are stored on the batch).
@shared_task(
    acks_late=True,
    time_limit=30 * 60,
    soft_time_limit=29 * 60,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def registry_import_validate_task(batch_id: int) -> None:
    workflow.registry_import_validate(batch_id=batch_id)


@shared_task(
    acks_late=True,
    time_limit=30 * 60,
    soft_time_limit=29 * 60,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def registry_import_apply_task(batch_id: int) -> None:
    workflow.registry_import_apply(batch_id=batch_id)


# Periodic (beat). No retries: the next beat run seals whatever this one did not.
@shared_task(acks_late=True, time_limit=600)
def audit_seal_task() -> int:
    return audit_seal()


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=3)
def data_quality_task() -> None:
    """Nightly: every study's data-quality rules; queries opened and closed accordingly."""
    from study.services.quality import quality_run_all

    quality_run_all()


@shared_task
def idempotency_prune_task() -> None:
    """Daily: forget idempotency keys older than a week."""
    from study.idempotency import idempotency_prune

    idempotency_prune()


# Hourly (beat). Each reminder is claimed in the transaction that sends it, so a repeated or
# parallel run sends nothing twice; a mail server that fails leaves it for the next run.
@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=3)
def wave_reminders_task() -> int:
    """Reminders by e-mail about waves that opened or became overdue."""
    from study.services.reminders import wave_reminders_send

    return wave_reminders_send().sent
