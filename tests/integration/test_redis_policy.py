"""The worker's start-up check of Redis's eviction policy, against the real Redis."""

import os

import pytest

from tracker.celery import redis_eviction_warning

BROKER = os.environ.get("CELERY_BROKER_URL", "")

pytestmark = pytest.mark.skipif(
    not BROKER.startswith("redis"), reason="CELERY_BROKER_URL (Redis) is not set; .ci/run sets it"
)


def test_warns_unless_redis_is_set_to_noeviction():
    import redis

    client = redis.Redis.from_url(BROKER)
    original = client.config_get("maxmemory-policy")["maxmemory-policy"]
    try:
        client.config_set("maxmemory-policy", "allkeys-lru")
        assert "noeviction" in redis_eviction_warning(BROKER)
        client.config_set("maxmemory-policy", "noeviction")
        assert redis_eviction_warning(BROKER) is None
    finally:
        client.config_set("maxmemory-policy", original)


def test_non_redis_broker_needs_no_check():
    assert redis_eviction_warning("memory://") is None
