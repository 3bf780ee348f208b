"""Analysis runs whose worker or queue message was lost: find them and put them right.

The database row of a run is the record of truth; Celery and Redis only carry a reminder. Two
things can go wrong there:

* a worker dies (SIGKILL, out of memory, hard time limit) while a run is "running": the row stays
  "running" for ever. `worker_gone` sees that from the claim (same machine: the process is gone)
  or from the heartbeat (no sign of life for longer than any run may take). The reconciler puts
  such a run back in the queue, or marks it failed once it has used up its attempts;
* Redis loses the message of a queued run (flushed, restarted without persistence, evicted): the
  row stays "queued" for ever. The reconciler sends a new message for every run queued longer
  than a threshold whose message is not in the broker. Sending one too many is harmless: a run is
  claimed before it is worked on, so a second message finds it taken and does nothing.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from analysis.models import AnalysisRun

log = logging.getLogger(__name__)

TASK_NAME = "analysis.tasks.analysis_run_task"


def max_attempts() -> int:
    return int(getattr(settings, "ANALYSIS_MAX_ATTEMPTS", 3))


def stale_seconds() -> int:
    """No heartbeat for this long means the worker is gone: longer than any run may take."""
    default = int(getattr(settings, "ANALYSIS_TIME_LIMIT", timedelta(minutes=30)).total_seconds())
    return int(getattr(settings, "ANALYSIS_STALE_SECONDS", default + 5 * 60))


def queued_seconds() -> int:
    """A run queued this long without its message in the broker is sent again."""
    return int(getattr(settings, "ANALYSIS_QUEUED_SECONDS", 10 * 60))


def gave_up_message(attempts: int) -> str:
    return _(
        "Stopped after %(n)s attempts: the worker running this analysis stopped each time "
        "(for example killed, out of memory or over the time limit). Ask the administrator to "
        "check the worker logs, then start a new run."
    ) % {"n": attempts}


# --- who runs a run ---------------------------------------------------------------------------


def _start_time(pid: int) -> str | None:
    """The kernel's start time of a process (Linux), so that a reused pid is not taken for it;
    None when the process is gone or a zombie, "" when /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
    except FileNotFoundError:
        return None
    except OSError:
        return ""
    fields = stat[stat.rfind(")") + 2 :].split()  # the command name may hold spaces
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def worker_identity() -> str:
    """host:pid:start-time of this process, stored in the run it claims."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid) or ''}"


def _process_alive(pid: int, start: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    now_start = _start_time(pid)
    if now_start is None:
        return False
    return not (start and now_start and now_start != start)


def claimant_alive(claimed_by: str) -> bool | None:
    """True/False when the claimant ran on this machine, None when this machine cannot tell."""
    try:
        host, pid, start = claimed_by.rsplit(":", 2)
        pid_number = int(pid)
    except ValueError:
        return None
    if host != socket.gethostname():
        return None
    return _process_alive(pid_number, start)


def worker_gone(run: AnalysisRun, *, now: datetime | None = None, stale_after=None) -> bool:
    """A "running" run whose worker has stopped: its process is gone from this machine, or (any
    machine) it gave no sign of life for longer than a run may take. The second rule also
    catches a live process that no longer works on the run."""
    if run.status != AnalysisRun.Status.RUNNING:
        return False
    if claimant_alive(run.claimed_by) is False:
        return True
    now = now or timezone.now()
    seconds = stale_seconds() if stale_after is None else stale_after
    last = run.heartbeat_at or run.started_at or run.created_at
    return last is None or last < now - timedelta(seconds=seconds)


# --- what the broker still holds ----------------------------------------------------------------


def _message_run_id(raw: bytes | str) -> int | None:
    message = json.loads(raw)
    if isinstance(message, list):  # the unacked hash stores [message, exchange, routing key]
        message = message[0]
    if message.get("headers", {}).get("task") != TASK_NAME:
        return None
    body = message.get("body", "")
    if message.get("properties", {}).get("body_encoding") == "base64":
        body = base64.b64decode(body)
    args = json.loads(body)[0]
    return int(args[0]) if args else None


def broker_run_ids(queue: str | None = None) -> set[int] | None:
    """Run ids with a message in Redis (waiting in the queue or delivered but unacknowledged);
    None when the broker cannot be read this way (not Redis, unreachable)."""
    from tracker.celery import app

    url = app.conf.broker_url or ""
    if not url.startswith(("redis://", "rediss://")):
        return None
    import redis

    queue = queue or app.conf.task_default_queue or "celery"
    found: set[int] = set()
    try:
        client = redis.Redis.from_url(url)
        raws = client.lrange(queue, 0, -1) + list(client.hvals("unacked"))
    except redis.RedisError as exc:
        log.warning("reconciler could not read the broker: %s", exc)
        return None
    for raw in raws:
        try:
            run_id = _message_run_id(raw)
        except (ValueError, KeyError, IndexError, TypeError):
            continue
        if run_id is not None:
            found.add(run_id)
    return found


# --- the reconciler ------------------------------------------------------------------------------


@dataclass
class Reconciled:
    resumed: list[int] = field(default_factory=list)  # "running" with a dead worker -> queued
    failed: list[int] = field(default_factory=list)  # ... out of attempts -> failed
    requeued: list[int] = field(default_factory=list)  # queued, message lost -> sent again

    def as_dict(self) -> dict[str, list[int]]:
        return {"resumed": self.resumed, "failed": self.failed, "requeued": self.requeued}


def _send(run_id: int, queue: str | None) -> None:
    from analysis.tasks import analysis_run_task

    if queue:
        transaction.on_commit(lambda: analysis_run_task.apply_async((run_id,), queue=queue))
    else:
        transaction.on_commit(lambda: analysis_run_task.delay(run_id))


def reconcile_runs(
    *,
    now: datetime | None = None,
    stale_after: int | None = None,
    queued_after: int | None = None,
    queue: str | None = None,
) -> Reconciled:
    """One pass: resume or fail runs whose worker is gone, resend runs whose message is lost.

    Every change is conditional on the row being as it was read (status and attempts), so a
    worker that claims the run meanwhile wins and the reconciler leaves it alone."""
    now = now or timezone.now()
    done = Reconciled()
    limit = max_attempts()
    for run in AnalysisRun.objects.filter(status=AnalysisRun.Status.RUNNING):
        if not worker_gone(run, now=now, stale_after=stale_after):
            continue
        same = AnalysisRun.objects.filter(
            pk=run.pk, status=AnalysisRun.Status.RUNNING, attempts=run.attempts
        )
        if run.attempts >= limit:
            if same.update(
                status=AnalysisRun.Status.FAILED,
                error=gave_up_message(run.attempts),
                finished_at=now,
                claimed_by="",
            ):
                log.error("analysis run %s given up after %s attempts", run.pk, run.attempts)
                done.failed.append(run.pk)
            continue
        with transaction.atomic():
            if same.update(
                status=AnalysisRun.Status.QUEUED,
                heartbeat_at=now,
                claimed_by="",
                progress_note=_("worker stopped; queued again"),
            ):
                _send(run.pk, queue)
                done.resumed.append(run.pk)
                log.warning("analysis run %s: worker gone, queued again", run.pk)

    seconds = queued_seconds() if queued_after is None else queued_after
    cutoff = now - timedelta(seconds=seconds)
    waiting = AnalysisRun.objects.filter(status=AnalysisRun.Status.QUEUED).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )
    waiting = waiting.exclude(pk__in=done.resumed)
    if waiting.exists():
        held = broker_run_ids(queue)
        for run in waiting:
            if held is not None and run.pk in held:
                continue  # its message is still there: a busy worker will get to it
            with transaction.atomic():
                if AnalysisRun.objects.filter(
                    pk=run.pk, status=AnalysisRun.Status.QUEUED, attempts=run.attempts
                ).update(heartbeat_at=now):
                    _send(run.pk, queue)
                    done.requeued.append(run.pk)
                    log.warning("analysis run %s: queued message lost, sent again", run.pk)
    return done
