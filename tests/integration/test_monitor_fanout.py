"""The monitor's Celery chord through a real worker on Redis gives the in-process totals."""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

BROKER = os.environ.get("CELERY_BROKER_URL", "")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not BROKER, reason="CELERY_BROKER_URL is not set: the fan-out test needs Redis and a worker"
    ),
]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def extract(tmp_path):
    from analysis.monitor.synthetic import iter_population, national_specs, write_population

    path = tmp_path / "three_municipalities.parquet"
    write_population(
        iter_population(national_specs(seed=3, municipalities=3), year=2014, seed=3), path
    )
    return path


@pytest.fixture
def worker_queue():
    """A real `celery -A tracker worker` on its own queue, killed at the end."""
    queue = f"monitor-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tracker.settings",  # test_settings would force eager mode
        "DEBUG": "1",
        "CELERY_BROKER_URL": BROKER,
    }
    celery = Path(sys.executable).with_name("celery")
    process = subprocess.Popen(
        [
            str(celery),
            "-A",
            "tracker",
            "worker",
            "-Q",
            queue,
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{queue}@%h",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield queue
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
def real_broker():
    """Switch off the eager mode test_settings force, for this test only."""
    from tracker.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield app
    finally:
        app.conf.task_always_eager = saved


def test_chord_through_a_worker_matches_the_in_process_run(extract, worker_queue, real_broker):
    from analysis.monitor import services
    from analysis.monitor.tasks import monitor_fanout

    result = monitor_fanout(path=str(extract), year=2014, queue=worker_queue)
    fanned = result.get(timeout=300, disable_sync_subtasks=False)
    local = services.monitor_run(path=extract, year=2014)
    assert fanned["errors"] == [] and local["errors"] == []
    assert fanned["municipalities"] == local["municipalities"] == 3
    assert fanned["rows"] == local["rows"]
    fanned_counts = services.counts_frame(fanned).set_index(["municipality", "wijk"]).sort_index()
    local_counts = services.counts_frame(local).set_index(["municipality", "wijk"]).sort_index()
    assert fanned_counts.equals(local_counts)
    assert fanned_counts["mpg"].sum() > 0
