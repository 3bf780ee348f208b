"""What the broker still holds of a task: its messages waiting in Redis or delivered but not yet
acknowledged. Next to the Celery app because it reads kombu's Redis layout (one list per queue,
the "unacked" hash of [message, exchange, routing key]); any other broker answers None."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

from tracker.celery import app

log = logging.getLogger(__name__)


def message_first_arg(raw: bytes | str, task_name: str) -> Any | None:
    """The first positional argument (a job id) of a raw kombu message of ``task_name``; None
    for another task's message or one without arguments. Malformed messages raise."""
    message = json.loads(raw)
    if isinstance(message, list):  # the unacked hash stores [message, exchange, routing key]
        message = message[0]
    if message.get("headers", {}).get("task") != task_name:
        return None
    body = message.get("body", "")
    if message.get("properties", {}).get("body_encoding") == "base64":
        body = base64.b64decode(body)
    args = json.loads(body)[0]
    return args[0] if args else None


def held_task_args(
    task_name: str, queue: str | None = None, *, broker_url: str | None = None
) -> set[Any] | None:
    """First arguments (job ids) of the messages of ``task_name`` in ``queue`` (default: the
    default queue) or delivered but unacknowledged, on the app's broker (or ``broker_url``);
    None when the broker cannot be read this way (not Redis, unreachable)."""
    url = (app.conf.broker_url if broker_url is None else broker_url) or ""
    if not url.startswith(("redis://", "rediss://")):
        return None
    import redis  # only with a Redis broker

    queue = queue or app.conf.task_default_queue or "celery"
    try:
        client = redis.Redis.from_url(url)
        raws = client.lrange(queue, 0, -1) + list(client.hvals("unacked"))
    except redis.RedisError as exc:
        log.warning("could not read the broker: %s", exc)
        return None
    found: set[Any] = set()
    for raw in raws:
        try:
            arg = message_first_arg(raw, task_name)
        except (ValueError, KeyError, IndexError, TypeError):
            continue
        if arg is not None:
            found.add(arg)
    return found
