"""Celery tasks of the project as a whole (the apps' own tasks live in study/tasks.py and
analysis/tasks.py). Nothing imports this module; beat sends its tasks by name."""

from celery import shared_task

from tracker.job_kinds import jobs_reconcile_all


# Celery beat (CELERY_BEAT_SCHEDULE, every 5 minutes): jobs of every kind (analysis runs, import
# dry runs and applies, monitor jobs) left "running" by a dead worker are queued again (or failed
# once out of attempts); queued jobs whose message Redis lost are sent again. No retries: the next
# beat does whatever this one did not, and sending a job twice is harmless (it is claimed first).
@shared_task(acks_late=True, time_limit=10 * 60)
def reconcile_jobs_task() -> dict:
    return {kind: done.as_dict() for kind, done in jobs_reconcile_all().items()}
