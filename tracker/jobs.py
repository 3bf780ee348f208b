"""The one door from services to background jobs: enqueue by task name, claim, heartbeat, give up.

A job is a database row (an analysis run, a registry import's dry run or apply, a monitor job):
the row, not the broker, is the record of truth. What every kind of job shares lives here,
written against a :class:`JobSpec` that names the job's model, task, status values and limits
(tracker/job_kinds.py lists every kind):

* **Enqueue by name** once the transaction commits (``enqueue_on_commit``). Services never import
  task modules (that made import cycles: service -> tasks -> service); they name the task, as
  Zulip's ``queue_event_on_commit`` does, and the task module imports the services at its top.
  Tasks take ids only. ``JOBS_RUNNER`` picks who runs the task: ``"celery"`` hands it to Celery
  (a worker through the broker, or in-process and synchronously when Celery is eager, as in the
  tests), ``"thread"`` (the default without a broker) runs it in a background thread of this
  process, so that a page that starts a job answers at once.
* **Claim before work** (``job_claim``): a conditional UPDATE on the row as it was read (status
  and attempts) moves it to running, counts an attempt and records the worker (host:pid:start);
  if no row changed another worker got there first. A job that has used up its attempts is
  failed with a readable message instead of being tried again.
* **Heartbeat and outcome by the holder only** (:class:`Claim`): progress, the result and giving
  the claim back are written only while this attempt still holds the claim.
* **Reconcile** (``jobs_reconcile``): running jobs whose worker is gone are queued again (or
  failed once out of attempts); queued jobs whose message the broker lost are sent again.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from celery import chord
from celery.result import AsyncResult
from django.conf import settings
from django.db import connections, models, transaction
from django.db.models import Q
from django.utils import timezone

from tracker import broker
from tracker.celery import app

log = logging.getLogger(__name__)

T = TypeVar("T")

# --- sending a task ------------------------------------------------------------------------------


def _task(task_name: str):
    if task_name not in app.tasks:
        app.loader.import_default_modules()  # autodiscovery is lazy: load the apps' tasks modules
    return app.tasks[task_name]  # KeyError for an unknown name: a programming error, loudly


def send_now(task_name: str, *args: Any, queue: str | None = None) -> None:
    """Send a task by its registered name now: to Celery, or to a background thread of this
    process when ``JOBS_RUNNER`` is "thread" (``queue`` then plays no part)."""
    task = _task(task_name)
    if settings.JOBS_RUNNER == "thread":
        _background.submit(task, args)
        return
    options = {"queue": queue} if queue else {}
    task.apply_async(args, **options)


def enqueue_on_commit(task_name: str, *args: Any, queue: str | None = None) -> None:
    """Send the task after the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: send_now(task_name, *args, queue=queue))


class _BackgroundRunner:
    """Daemon threads that run tasks in this process, one job after the other per thread.

    Daemon threads do not hold up the end of the process: a job cut off that way is left
    "running" with this process's identity, which ``worker_gone`` sees once the process is gone
    (the reconciler then queues it again)."""

    def __init__(self) -> None:
        self._work: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, task, args: tuple) -> None:
        self._work.put((task, args))
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            while len(self._threads) < settings.JOBS_THREADS:
                thread = threading.Thread(target=self._loop, name="job-runner", daemon=True)
                thread.start()
                self._threads.append(thread)

    def _loop(self) -> None:
        while True:
            task, args = self._work.get()
            self._run(task, args)

    @staticmethod
    def _run(task, args: tuple) -> None:
        try:
            result = task.apply(args=args, throw=False)  # in this thread, with the task's retries
            if result.failed():
                log.error("background job %s%r failed: %r", task.name, args, result.result)
        except Exception:
            log.exception("background job %s%r failed", task.name, args)
        finally:
            connections.close_all()  # this thread's own connections


_background = _BackgroundRunner()


# --- who runs a job ------------------------------------------------------------------------------


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
    """host:pid:start-time of this process, stored in the job it claims."""
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


# --- a kind of job -------------------------------------------------------------------------------


class JobRow(Protocol):
    """The fields every job row has (read here; written through conditional updates)."""

    @property
    def pk(self) -> Any: ...
    @property
    def status(self) -> str: ...
    @property
    def attempts(self) -> int: ...
    @property
    def claimed_by(self) -> str: ...
    @property
    def heartbeat_at(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime | None: ...


def _no_fields(*args: Any) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class JobSpec:
    """One kind of job. Its model has the fields ``status``, ``attempts``, ``claimed_by`` (host:pid:
    start of the worker, "" when nobody holds it), ``heartbeat_at`` and ``created_at``.

    Only a job in ``queued`` or ``running`` is claimed: every other status is an outcome, or
    another kind of job on the same row (an import batch's dry run and apply are two kinds).
    The limits are callables read when used, so a changed setting applies at once."""

    model: type[models.Model]
    task_name: str
    queued: str
    running: str
    failed: str
    max_attempts: Callable[[], int]
    #: No heartbeat for this long means the worker is gone: longer than any job may take.
    stale_seconds: Callable[[], int]
    #: A job queued this long without its message in the broker is sent again.
    queued_seconds: Callable[[], int]
    #: The fields that record a job given up after n attempts (its readable message; now).
    gave_up_fields: Callable[[int, datetime], dict[str, Any]]
    #: Further fields written with a claim (now), e.g. a start time.
    claim_fields: Callable[[datetime], dict[str, Any]] = _no_fields
    #: Further fields written when the reconciler queues a job again (e.g. a note).
    requeue_fields: Callable[[], dict[str, Any]] = _no_fields
    #: Called with the job's id once it has been given up (e.g. to delete an uploaded file).
    on_gave_up: Callable[[Any], None] | None = None
    label: str = "job"

    @property
    def rows(self) -> models.QuerySet:
        return self.model._default_manager.all()

    @property
    def read(self) -> models.QuerySet:
        """The rows with only the fields a claim or the reconciler reads (not a stored file)."""
        names = {f.name for f in self.model._meta.concrete_fields}
        return self.rows.only(*(name for name in _READ_FIELDS if name in names))


#: What job_claim and the reconciler read of a row (``started_at`` where the model has it).
_READ_FIELDS = ("status", "attempts", "claimed_by", "heartbeat_at", "created_at", "started_at")


def worker_gone(
    spec: JobSpec, job: JobRow, *, now: datetime | None = None, stale_after: int | None = None
) -> bool:
    """A running job whose worker has stopped: its process is gone from this machine, or (any
    machine) it gave no sign of life for longer than a job may take. The second rule also
    catches a live process that no longer works on the job."""
    if job.status != spec.running:
        return False
    if claimant_alive(job.claimed_by) is False:
        return True
    now = now or timezone.now()
    seconds = spec.stale_seconds() if stale_after is None else stale_after
    last = job.heartbeat_at or getattr(job, "started_at", None) or job.created_at
    return last is None or last < now - timedelta(seconds=seconds)


def job_stalled(spec: JobSpec, job: JobRow, *, now: datetime | None = None) -> bool:
    """An unfinished job nobody works on (the reconciler's rules): running with its worker gone,
    or queued for longer than a worker takes to pick a job up. Such a job should not block a new
    request for ever where no beat runs the reconciler (the embedded default)."""
    now = now or timezone.now()
    if job.status == spec.running:
        return worker_gone(spec, job, now=now)
    if job.status != spec.queued:
        return False
    last = job.heartbeat_at or job.created_at
    return last is None or last < now - timedelta(seconds=spec.queued_seconds())


def _give_up(
    spec: JobSpec, as_read: models.QuerySet, *, job_id: int, attempts: int, now: datetime
) -> bool:
    """Fail the job (as it was read) after ``attempts``; True when this call failed it."""
    given_up = as_read.update(
        status=spec.failed, claimed_by="", **spec.gave_up_fields(attempts, now)
    )
    if given_up:
        log.error("%s %s given up after %s attempts", spec.label, job_id, attempts)
        if spec.on_gave_up is not None:
            spec.on_gave_up(job_id)
    return bool(given_up)


# --- claiming a job ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """This worker's hold on a job: attempt ``attempt`` of job ``job_id``."""

    spec: JobSpec
    job_id: int
    attempt: int

    @property
    def held(self) -> models.QuerySet:
        """The job row, as long as this attempt still holds it (empty once another took over)."""
        return self.spec.rows.filter(
            pk=self.job_id, status=self.spec.running, attempts=self.attempt
        )

    def heartbeat(self, **fields: Any) -> bool:
        """A sign of life (with progress fields); False when the claim is lost."""
        return bool(self.held.update(heartbeat_at=timezone.now(), **fields))

    def finish(self, **fields: Any) -> bool:
        """Store the outcome; False (nothing written) when the claim is lost."""
        return bool(self.held.update(**fields))

    def release(self) -> bool:
        """Give the claim back (queued again), so a retry or the reconciler picks the job up at
        once rather than after the heartbeat has aged out."""
        return bool(
            self.held.update(status=self.spec.queued, claimed_by="", heartbeat_at=timezone.now())
        )


def run_claimed(claim: Claim, work: Callable[[Claim], T]) -> T:
    """``work(claim)``; when it ends without an outcome (it raised: the database unreachable, the
    worker shutting down, a bug) the claim is given back, so the task's retry or the reconciler
    picks the job up at once rather than after the heartbeat has aged out."""
    try:
        return work(claim)
    except BaseException:
        try:
            claim.release()
        except Exception:
            log.exception(
                "%s %s: claim not given back; the reconciler will", claim.spec.label, claim.job_id
            )
        raise


@dataclass(frozen=True)
class GaveUp:
    """The job had used up its attempts: it is failed (by this call or an earlier one)."""

    job_id: int
    attempts: int


def job_claim(spec: JobSpec, *, job_id: int) -> Claim | GaveUp | None:
    """Claim job ``job_id`` for this worker by compare-and-set.

    A queued job is claimed; so is a running job whose worker is gone (a redelivered task after
    SIGKILL). Each claim counts an attempt; a job that has used up ``spec.max_attempts`` is failed
    instead (:class:`GaveUp`). None when there is nothing to do: no such job, not queued or
    running (finished, or in another kind's hands), a live worker holds it, or another worker
    claimed it first."""
    job = spec.read.filter(pk=job_id).first()
    if job is None or job.status not in (spec.queued, spec.running):
        return None
    if job.status == spec.running and not worker_gone(spec, job):
        return None  # a live worker has it
    now = timezone.now()
    as_read = spec.rows.filter(pk=job_id, status=job.status, attempts=job.attempts)
    if job.attempts >= spec.max_attempts():
        _give_up(spec, as_read, job_id=job_id, attempts=job.attempts, now=now)
        return GaveUp(job_id=job_id, attempts=job.attempts)
    attempt = job.attempts + 1
    claimed = as_read.update(
        status=spec.running,
        attempts=attempt,
        heartbeat_at=now,
        claimed_by=worker_identity(),
        **spec.claim_fields(now),
    )
    if not claimed:
        return None  # another worker claimed it first
    return Claim(spec=spec, job_id=job_id, attempt=attempt)


def job_execute(
    spec: JobSpec,
    *,
    job_id: int,
    work: Callable[[Claim], T],
    gave_up: Callable[[int], T] | None = None,
) -> T | None:
    """Claim job ``job_id`` (:func:`job_claim`) and run ``work(claim)`` under the claim
    (:func:`run_claimed`), the one way every job kind executes. When the job had used up its
    attempts, ``gave_up(job_id)`` answers (e.g. the failed row), else None; None too when there
    was nothing to do (finished, held by a live worker, or claimed by another first)."""
    claim = job_claim(spec, job_id=job_id)
    if isinstance(claim, GaveUp):
        return gave_up(job_id) if gave_up is not None else None
    if claim is None:
        return None
    return run_claimed(claim, work)


# --- the reconciler ------------------------------------------------------------------------------


@dataclass
class Reconciled:
    resumed: list[int] = field(default_factory=list)  # running with a dead worker -> queued
    failed: list[int] = field(default_factory=list)  # ... out of attempts -> failed
    requeued: list[int] = field(default_factory=list)  # queued, message lost -> sent again

    def as_dict(self) -> dict[str, list[int]]:
        return {"resumed": self.resumed, "failed": self.failed, "requeued": self.requeued}


def _resume_or_fail(
    spec: JobSpec, job: JobRow, *, now: datetime, queue: str | None, done: Reconciled
) -> None:
    same = spec.rows.filter(pk=job.pk, status=spec.running, attempts=job.attempts)
    if job.attempts >= spec.max_attempts():
        if _give_up(spec, same, job_id=job.pk, attempts=job.attempts, now=now):
            done.failed.append(job.pk)
        return
    with transaction.atomic():
        if same.update(
            status=spec.queued, heartbeat_at=now, claimed_by="", **spec.requeue_fields()
        ):
            enqueue_on_commit(spec.task_name, job.pk, queue=queue)
            done.resumed.append(job.pk)
            log.warning("%s %s: worker gone, queued again", spec.label, job.pk)


def _resend_lost(
    spec: JobSpec, *, now: datetime, queued_after: int, queue: str | None, done: Reconciled
) -> None:
    cutoff = now - timedelta(seconds=queued_after)
    waiting = spec.read.filter(status=spec.queued).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )
    waiting = waiting.exclude(pk__in=done.resumed)
    if not waiting.exists():
        return
    held = broker.held_task_args(spec.task_name, queue)
    for job in waiting:
        if held is not None and job.pk in held:
            continue  # its message is still there: a busy worker will get to it
        with transaction.atomic():
            if spec.rows.filter(pk=job.pk, status=spec.queued, attempts=job.attempts).update(
                heartbeat_at=now
            ):
                enqueue_on_commit(spec.task_name, job.pk, queue=queue)
                done.requeued.append(job.pk)
                log.warning("%s %s: queued message lost, sent again", spec.label, job.pk)


def jobs_reconcile(
    spec: JobSpec,
    *,
    now: datetime | None = None,
    stale_after: int | None = None,
    queued_after: int | None = None,
    queue: str | None = None,
) -> Reconciled:
    """One pass: resume or fail running jobs whose worker is gone, resend queued jobs whose
    message is lost. Sending one too many is harmless: a job is claimed before it is worked on.

    Every change is conditional on the row being as it was read (status and attempts), so a
    worker that claims the job meanwhile wins and the reconciler leaves it alone."""
    now = now or timezone.now()
    done = Reconciled()
    for job in spec.read.filter(status=spec.running):
        if worker_gone(spec, job, now=now, stale_after=stale_after):
            _resume_or_fail(spec, job, now=now, queue=queue, done=done)
    seconds = spec.queued_seconds() if queued_after is None else queued_after
    _resend_lost(spec, now=now, queued_after=seconds, queue=queue, done=done)
    return done


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
