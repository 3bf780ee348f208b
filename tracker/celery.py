"""The Celery app. Without CELERY_BROKER_URL the settings make every task run in-process."""

import logging
import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

app = Celery("tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

log = logging.getLogger(__name__)


def redis_eviction_warning(broker_url: str) -> str | None:
    """A warning when Redis may evict queued tasks (maxmemory-policy other than noeviction)."""
    if not broker_url.startswith(("redis://", "rediss://")):
        return None
    import redis

    try:
        policy = (
            redis.Redis.from_url(broker_url).config_get("maxmemory-policy").get("maxmemory-policy")
        )
    except redis.RedisError as exc:  # CONFIG may be disabled on managed Redis
        return f"could not read Redis maxmemory-policy ({exc.__class__.__name__}); make sure it is noeviction"
    if policy != "noeviction":
        return (
            f"Redis maxmemory-policy is {policy!r}: under memory pressure Redis may silently drop "
            "queued tasks. Set it to 'noeviction' (the database stays the record of truth, but "
            "runs would wait for the reconciler)."
        )
    return None


@worker_ready.connect
def _check_broker_on_start(sender=None, **kwargs):
    warning = redis_eviction_warning(app.conf.broker_url or "")
    if warning:
        log.warning(warning)
