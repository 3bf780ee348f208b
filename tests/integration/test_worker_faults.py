"""Faults with a real Celery worker, Redis and PostgreSQL (issue 8, "Faults").

* a pool child killed (SIGKILL) mid-run: the task is redelivered (acks_late +
  task_reject_on_worker_lost), taken over and completed once, with the same result hash as an
  uninterrupted run;
* the whole worker killed mid-run: a new worker finishes it, once, same hash, after Redis
  redelivers it (visibility timeout) or after the reconciler queues it again;
* Redis flushed while a run is queued: the reconciler sends it again and it completes;
* a task that kills its worker every time: the run ends "failed" after ANALYSIS_MAX_ATTEMPTS.

Each test is bounded by explicit deadlines; the worker runs `tests.integration.fault_worker`,
the tracker app with the fault injected by its environment.
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

BROKER = os.environ.get("CELERY_BROKER_URL", "")
ROOT = Path(__file__).resolve().parents[2]
PARAMS = {"inference": "cr2", "draws": 0, "seed": 1}

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not BROKER.startswith("redis"), reason="CELERY_BROKER_URL (Redis) is not set"
    ),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="DATABASE_URL is not PostgreSQL: the worker must share the test database",
    ),
]


@contextmanager
def fault_worker(queue: str, log: Path, **fault_env):
    """A real prefork worker (one pool child) of the fault app, consuming only `queue`."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tracker.settings",  # test_settings would force eager mode
        "DEBUG": "1",
        # As in the test settings: these workers test delivery and faults, not the diagnostics
        # (issue 14), which one run of the suite computes (tests/analysis/runs).
        "ANALYSIS_DIAGNOSTICS": "0",
        "CELERY_BROKER_URL": BROKER,
        "DATABASE_URL": url,
        **fault_env,
    }
    celery = Path(sys.executable).with_name("celery")
    with open(log, "ab") as err:
        process = subprocess.Popen(
            [
                str(celery),
                "-A",
                "tests.integration.fault_worker",
                "worker",
                "-Q",
                queue,
                "--concurrency",
                "1",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{queue}-{uuid.uuid4().hex[:4]}@%h",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=err,
            stderr=err,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def wait_for(check, *, seconds: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    pytest.fail(f"timed out after {seconds:.0f} s waiting for {what}\nworker log:\n{tail}")


def result_hash(fingerprint: str, results: dict) -> str:
    """The run's outcome without its wall-clock seconds."""
    stable = {k: v for k, v in results.items() if k != "seconds"}
    payload = json.dumps({"fingerprint": fingerprint, "results": stable}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


@pytest.fixture
def env(transactional_db, real_broker, tmp_path):
    """A fresh queue, a worker log, and a clean Redis database before and after."""
    import redis

    client = redis.Redis.from_url(BROKER)
    client.flushdb()
    yield {
        "queue": f"faults-{uuid.uuid4().hex[:8]}",
        "log": tmp_path / "worker.log",
        "tmp": tmp_path,
    }
    client.flushdb()


@pytest.fixture
def demo_study(transactional_db):
    from tracker.setup import demo_set_up

    study, _ = demo_set_up()
    return study


def _differences(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key != "seconds":
                yield from _differences(a.get(key), b.get(key), f"{path}/{key}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _differences(x, y, f"{path}[{i}]")
    elif a != b:
        yield (path, a, b)


def assert_same_as_uninterrupted(run, study) -> None:
    """The run's results and fingerprint equal those of a run computed here in one go."""
    from analysis.runs.services import analysis_compute

    results, fp = analysis_compute(study=study, params=PARAMS)
    results = json.loads(json.dumps(results))  # as stored: through JSON
    differences = list(_differences(run.results, results))
    assert not differences, differences[:10]
    assert result_hash(run.fingerprint, run.results) == result_hash(fp, results)


def _run_when(run, status, *, seconds, log):
    def check():
        run.refresh_from_db()
        return run.status == status

    wait_for(check, seconds=seconds, what=f"run {run.pk} to be {status}", log=log)
    return run


def _paused_run(env, study):
    """Start a run whose first attempt pauses mid-run; returns (run, pid of its pool child)."""
    from analysis.models import AnalysisRun
    from analysis.tasks import analysis_run_task

    run = AnalysisRun.objects.create(study=study, params=PARAMS)
    analysis_run_task.apply_async((run.pk,), queue=env["queue"])
    marker = env["tmp"] / "paused"
    wait_for(marker.exists, seconds=90, what="the run to reach its pause", log=env["log"])
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.RUNNING and run.attempts == 1
    child = int(run.claimed_by.split(":")[1])
    assert child == int(marker.read_text())
    return run, child


def test_pool_child_killed_mid_run_is_redelivered_and_completes_once(env, demo_study):
    from analysis.models import AnalysisRun, Report

    fault = {"FAULT_MODE": "pause_once", "FAULT_MARKER": str(env["tmp"] / "paused")}
    with fault_worker(env["queue"], env["log"], **fault) as worker:
        run, child = _paused_run(env, demo_study)
        assert child != worker.pid  # the pool child, not the main worker process
        os.kill(child, signal.SIGKILL)
        run = _run_when(run, AnalysisRun.Status.SUCCEEDED, seconds=120, log=env["log"])
    assert run.attempts == 2  # killed once, redelivered and taken over once
    assert Report.objects.filter(run=run).count() == 1
    assert_same_as_uninterrupted(run, demo_study)


@pytest.mark.parametrize("recovery", ["redelivery", "reconciler"])
def test_whole_worker_killed_mid_run_is_finished_by_a_new_worker(env, demo_study, recovery):
    """redelivery: Redis hands the unacknowledged task out again after the visibility timeout
    (shortened here); reconciler: the database row shows the dead worker and the run is queued
    again at once. Either way the run completes once, with the uninterrupted hash."""
    from analysis.models import AnalysisRun, Report
    from analysis.runs.reconcile import reconcile_runs

    fault = {"FAULT_MODE": "pause_once", "FAULT_MARKER": str(env["tmp"] / "paused")}
    with fault_worker(env["queue"], env["log"], **fault) as worker:
        run, child = _paused_run(env, demo_study)
        os.killpg(worker.pid, signal.SIGKILL)  # main worker and its pool child
        worker.wait(timeout=10)
    wait_for(lambda: not Path(f"/proc/{child}").exists(), seconds=10, what="the child to end")
    if recovery == "reconciler":
        assert reconcile_runs(queue=env["queue"]).resumed == [run.pk]
    else:
        fault["FAULT_VISIBILITY_TIMEOUT"] = "3"
    with fault_worker(env["queue"], env["log"], **fault):
        run = _run_when(run, AnalysisRun.Status.SUCCEEDED, seconds=120, log=env["log"])
    assert run.attempts == 2
    assert Report.objects.filter(run=run).count() == 1
    assert_same_as_uninterrupted(run, demo_study)


def test_runs_queued_when_redis_is_flushed_are_sent_again_and_complete(env, demo_study):
    import redis

    from analysis.models import AnalysisRun
    from analysis.runs.job import RUN_TASK
    from analysis.runs.reconcile import reconcile_runs
    from analysis.tasks import analysis_run_task
    from tracker.broker import held_task_args

    def broker_run_ids(queue=None):
        return held_task_args(RUN_TASK, queue)

    run = AnalysisRun.objects.create(study=demo_study, params=PARAMS)
    analysis_run_task.delay(run.pk)  # to the default queue; no worker is running yet
    assert run.pk in broker_run_ids()  # the message waits in Redis ...
    redis.Redis.from_url(BROKER).flushdb()  # ... until Redis loses it
    assert broker_run_ids() == set()
    assert reconcile_runs(queued_after=60).requeued == []  # too young to tell
    done = reconcile_runs(queued_after=0, queue=env["queue"])
    assert done.requeued == [run.pk]
    assert run.pk in broker_run_ids(env["queue"])
    assert reconcile_runs(queued_after=0, queue=env["queue"]).requeued == []  # message is there
    with fault_worker(env["queue"], env["log"]):
        run = _run_when(run, AnalysisRun.Status.SUCCEEDED, seconds=120, log=env["log"])
    assert run.attempts == 1


def test_a_task_that_always_kills_its_worker_ends_failed_after_max_attempts(env, study):
    from django.conf import settings

    from analysis.models import AnalysisRun
    from analysis.tasks import analysis_run_task

    run = AnalysisRun.objects.create(study=study, params=PARAMS)
    with fault_worker(env["queue"], env["log"], FAULT_MODE="kill_always"):
        analysis_run_task.apply_async((run.pk,), queue=env["queue"])
        run = _run_when(run, AnalysisRun.Status.FAILED, seconds=120, log=env["log"])
    limit = settings.ANALYSIS_MAX_ATTEMPTS
    assert run.attempts == limit
    assert str(limit) in run.error  # "Stopped after 3 attempts: ..." (in the worker's language)
