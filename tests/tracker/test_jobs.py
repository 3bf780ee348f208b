"""The shared jobs module: enqueue by task name (eagerly in the tests, in a background thread
without a broker), claim a job row by compare-and-set, heartbeat and store only while holding the
claim, give up after N attempts with a readable message."""

import dataclasses
import socket
import subprocess
import sys
import threading
import time

import pytest
from django.utils import timezone

from analysis.models import AnalysisRun
from analysis.runs.job import RUN_JOB
from tracker import jobs
from tracker.celery import app

PROBES: dict[str, dict] = {}


@app.task(name="tests.tracker.jobs_probe")
def jobs_probe(key: str) -> None:
    """Records which thread ran it, after waiting for the test to let it go."""
    probe = PROBES[key]
    probe["started"].set()
    probe["release"].wait(timeout=10)
    probe["thread"] = threading.current_thread().name
    probe["done"].set()


def _probe(key: str) -> dict:
    PROBES[key] = {name: threading.Event() for name in ("started", "release", "done")}
    return PROBES[key]


def _wait(predicate, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def dead_claimant():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}:1"


# --- sending -------------------------------------------------------------------------------------


def test_the_tests_run_jobs_eagerly_inside_the_call(settings):
    assert settings.JOBS_RUNNER == "celery"
    probe = _probe("eager")
    probe["release"].set()
    jobs.send_now("tests.tracker.jobs_probe", "eager")
    assert probe["done"].is_set() and probe["thread"] == threading.current_thread().name


def test_without_a_broker_a_job_runs_in_a_background_thread_and_the_call_returns_at_once(settings):
    settings.JOBS_RUNNER = "thread"
    probe = _probe("thread")
    started = time.monotonic()
    jobs.send_now("tests.tracker.jobs_probe", "thread")
    assert time.monotonic() - started < 1.0  # did not wait for the job
    assert probe["started"].wait(timeout=10), "the background job never started"
    assert not probe["done"].is_set()  # still running while the caller goes on
    probe["release"].set()
    assert probe["done"].wait(timeout=10)
    assert probe["thread"] != threading.current_thread().name


@pytest.mark.django_db
def test_enqueue_waits_for_the_commit(django_capture_on_commit_callbacks):
    probe = _probe("commit")
    probe["release"].set()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        jobs.enqueue_on_commit("tests.tracker.jobs_probe", "commit")
    assert not probe["started"].is_set() and len(callbacks) == 1
    callbacks[0]()
    assert probe["done"].is_set()


def test_an_unknown_task_name_fails_loudly():
    with pytest.raises(KeyError):
        jobs.send_now("analysis.tasks.no_such_task", 1)


# --- claiming ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_claim_is_a_compare_and_set_only_one_worker_wins(study):
    run = AnalysisRun.objects.create(study=study)
    first = jobs.job_claim(RUN_JOB, job_id=run.pk)
    assert isinstance(first, jobs.Claim) and first.attempt == 1
    assert jobs.job_claim(RUN_JOB, job_id=run.pk) is None  # a live worker (this one) holds it
    run.refresh_from_db()
    assert (run.status, run.attempts, run.claimed_by) == ("running", 1, jobs.worker_identity())
    assert run.started_at is not None and run.progress == 1  # the spec's claim fields


@pytest.mark.django_db
def test_a_claim_on_a_row_changed_since_it_was_read_changes_nothing(study):
    run = AnalysisRun.objects.create(study=study)

    def limit_read_while_another_worker_claims() -> int:
        # Called between reading the row and the conditional update: another worker wins.
        AnalysisRun.objects.filter(pk=run.pk).update(status="running", attempts=1)
        return 3

    spec = dataclasses.replace(RUN_JOB, max_attempts=limit_read_while_another_worker_claims)
    assert jobs.job_claim(spec, job_id=run.pk) is None
    run.refresh_from_db()
    assert (run.status, run.attempts, run.claimed_by) == ("running", 1, "")


@pytest.mark.django_db
def test_a_lost_claim_writes_neither_heartbeat_nor_outcome(study, dead_claimant):
    run = AnalysisRun.objects.create(study=study)
    old = jobs.job_claim(RUN_JOB, job_id=run.pk)
    AnalysisRun.objects.filter(pk=run.pk).update(claimed_by=dead_claimant)
    new = jobs.job_claim(RUN_JOB, job_id=run.pk)  # its worker is gone: taken over
    assert new.attempt == 2
    assert not old.heartbeat(progress=50) and not old.finish(status="succeeded")
    assert not old.release()
    assert new.heartbeat(progress=60, progress_note="F2")
    run.refresh_from_db()
    assert (run.status, run.progress, run.attempts) == ("running", 60, 2)


@pytest.mark.django_db
def test_release_gives_the_claim_back(study):
    run = AnalysisRun.objects.create(study=study)
    claim = jobs.job_claim(RUN_JOB, job_id=run.pk)
    assert claim.release()
    run.refresh_from_db()
    assert (run.status, run.claimed_by, run.attempts) == ("queued", "", 1)
    assert jobs.job_claim(RUN_JOB, job_id=run.pk).attempt == 2


@pytest.mark.django_db
def test_a_job_out_of_attempts_is_given_up_with_a_readable_message(study, settings):
    settings.ANALYSIS_MAX_ATTEMPTS = 2
    run = AnalysisRun.objects.create(study=study, attempts=2)
    outcome = jobs.job_claim(RUN_JOB, job_id=run.pk)
    assert outcome == jobs.GaveUp(job_id=run.pk, attempts=2)
    run.refresh_from_db()
    assert run.status == "failed" and run.finished_at is not None and run.claimed_by == ""
    assert run.error.startswith("Stopped after 2 attempts: the worker running this analysis")
    assert jobs.job_claim(RUN_JOB, job_id=run.pk) is None  # finished: nothing to do


@pytest.mark.django_db
def test_claims_and_the_reconciler_do_not_read_a_stored_file(study):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from study.imports.job import DRY_RUN_JOB
    from study.models import ImportBatch

    batch = ImportBatch.objects.create(study=study, filename="x.csv", content=b"x" * 1000)
    with CaptureQueriesContext(connection) as queries:
        assert isinstance(jobs.job_claim(DRY_RUN_JOB, job_id=batch.pk), jobs.Claim)
        jobs.jobs_reconcile(DRY_RUN_JOB)
    reads = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert reads and not any('"content"' in sql for sql in reads)


@pytest.mark.django_db
def test_finished_and_missing_jobs_are_not_claimed(study):
    run = AnalysisRun.objects.create(study=study, status="succeeded")
    assert jobs.job_claim(RUN_JOB, job_id=run.pk) is None
    assert jobs.job_claim(RUN_JOB, job_id=run.pk + 1000) is None


# --- who runs a job ------------------------------------------------------------------------------


def test_worker_identity_is_host_pid_and_start(dead_claimant):
    host, pid, start = jobs.worker_identity().split(":")
    assert host == socket.gethostname() and int(pid) > 0 and start
    assert jobs.claimant_alive(jobs.worker_identity()) is True
    assert jobs.claimant_alive(dead_claimant) is False
    assert jobs.claimant_alive("another-host:1:1") is None  # this machine cannot tell
    assert jobs.claimant_alive("") is None


@pytest.mark.django_db
def test_a_worker_is_gone_when_its_heartbeat_is_older_than_the_stale_limit(study, settings):
    now = timezone.now()
    run = AnalysisRun(study=study, status="running", claimed_by="another-host:1:1")
    run.heartbeat_at = now - timezone.timedelta(seconds=settings.ANALYSIS_STALE_SECONDS - 1)
    assert not jobs.worker_gone(RUN_JOB, run, now=now)
    run.heartbeat_at = now - timezone.timedelta(seconds=settings.ANALYSIS_STALE_SECONDS + 1)
    assert jobs.worker_gone(RUN_JOB, run, now=now)
    assert not jobs.worker_gone(RUN_JOB, AnalysisRun(status="queued"), now=now)
