"""Every Celery task of the analysis app, thin: load ids, call one service. Nothing imports this
module; services enqueue the tasks by name (tracker/jobs.py)."""

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from analysis.plans import schedule_services
from analysis.runs import reconcile, services

# One setting bounds a run; the reconciler's stale threshold is derived from the same setting.
_LIMIT = int(settings.ANALYSIS_TIME_LIMIT.total_seconds())


# acks_late + reject_on_worker_lost (settings): a killed worker's run is redelivered; the claim in
# analysis_run_execute makes redelivery harmless. time_limit bounds a runaway run; retries only for
# a database that is briefly unreachable — a statistics error fails the run instead.
@shared_task(
    acks_late=True,
    time_limit=_LIMIT,
    soft_time_limit=_LIMIT - 60,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def analysis_run_task(run_id: int) -> None:
    services.analysis_run_execute(run_id=run_id)


# Celery beat (CELERY_BEAT_SCHEDULE, every 5 minutes): runs left "running" by a dead worker are
# queued again (or failed after ANALYSIS_MAX_ATTEMPTS); queued runs Redis lost are sent again.
@shared_task(acks_late=True, time_limit=10 * 60)
def reconcile_runs_task() -> dict:
    return reconcile.reconcile_runs().as_dict()


# Celery beat (CELERY_BEAT_SCHEDULE): due report schedules start a draft run and e-mail the
# researchers; the claim in schedule_run makes a repeated beat harmless.
@shared_task(acks_late=True, time_limit=60 * 60)
def report_schedules_task() -> None:
    schedule_services.schedules_run_due()
