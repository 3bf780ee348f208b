"""The one door from services to Celery: enqueue a task by name once the transaction commits.

Services never import task modules (that made import cycles: service -> tasks -> service). They
name the task instead, as Zulip's ``queue_event_on_commit`` does; the task module imports the
services at its top. Tasks take ids only.

Claim, heartbeat and give-up helpers for job rows join this module (layout issue, part 2).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from celery import chord
from celery.result import AsyncResult
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


# --- fan-out (layout-monitor) ---


def _registered(*task_names: str) -> None:
    if any(name not in app.tasks for name in task_names):
        app.loader.import_default_modules()  # autodiscovery is lazy: load the apps' tasks modules


def fan_out(
    task_name: str,
    arg_lists: Iterable[Sequence[Any]],
    *,
    then: str,
    then_args: Sequence[Any] = (),
    on_error: str | None = None,
    queue: str | None = None,
) -> AsyncResult:
    """One task per argument list, all at once, then ``then(results, *then_args)`` (a chord).

    ``on_error(request, exc, traceback, *then_args)`` runs when one of the tasks fails (``then``
    does not run then). Results travel through the result backend; without a broker the chord
    runs in-process, task after task. Returns the AsyncResult of ``then``.
    """
    _registered(task_name, then, *([on_error] if on_error else []))
    options = {"queue": queue} if queue else {}
    header = [app.tasks[task_name].s(*args).set(**options) for args in arg_lists]
    body = app.tasks[then].s(*then_args).set(**options)
    if on_error:
        body.link_error(app.tasks[on_error].s(*then_args).set(**options))
    return chord(header)(body)
