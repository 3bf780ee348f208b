"""Thin Celery tasks of the study app: registry imports (dry run, then apply)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from study import import_services


# acks_late + reject_on_worker_lost (settings): a killed worker's job is delivered again; both
# services claim the batch first, and applying twice changes nothing, so redelivery is harmless.
@shared_task(
    acks_late=True,
    time_limit=30 * 60,
    soft_time_limit=29 * 60,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def registry_import_validate_task(batch_id: int) -> None:
    import_services.registry_import_validate(batch_id=batch_id)


@shared_task(
    acks_late=True,
    time_limit=30 * 60,
    soft_time_limit=29 * 60,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def registry_import_apply_task(batch_id: int) -> None:
    import_services.registry_import_apply(batch_id=batch_id)


# Periodic (beat): requeue import jobs that Redis lost or whose worker died.
@shared_task(acks_late=True, time_limit=300)
def import_reconcile_task() -> dict:
    return import_services.import_reconcile()
