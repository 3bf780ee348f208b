"""The one door from services to Celery: enqueue a task by name once the transaction commits.

Services never import task modules (that made import cycles: service -> tasks -> service). They
name the task instead, as Zulip's ``queue_event_on_commit`` does; the task module imports the
services at its top. Tasks take ids only.

Claim, heartbeat and give-up helpers for job rows join this module (layout issue, part 2).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from tracker.celery import app


def send_now(task_name: str, *args: Any, queue: str | None = None) -> None:
    """Send a task by its registered name now (eager in-process when no broker is configured)."""
    if task_name not in app.tasks:
        app.loader.import_default_modules()  # autodiscovery is lazy: load the apps' tasks modules
    task = app.tasks[task_name]  # KeyError for an unknown name: a programming error, loudly
    options = {"queue": queue} if queue else {}
    task.apply_async(args, **options)


def enqueue_on_commit(task_name: str, *args: Any, queue: str | None = None) -> None:
    """Send the task after the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: send_now(task_name, *args, queue=queue))
