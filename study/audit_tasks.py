"""Celery task that seals the audit history periodically (thin: calls study.audit)."""

from celery import shared_task

from study.audit import audit_seal


# No retries: the next beat run seals whatever this one did not.
@shared_task(acks_late=True, time_limit=600)
def audit_seal_task() -> int:
    return audit_seal()
