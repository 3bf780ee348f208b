"""Shared helpers of the integration tests: a real Celery worker process and a real broker."""

import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def celery_worker(
    queue: str, *, extra_env: dict | None = None, pool: tuple[str, ...] = ("--concurrency", "2")
):
    """A real `celery -A tracker worker` consuming only `queue`; killed at the end."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tracker.settings",  # test_settings would force eager mode
        "DEBUG": "1",
        # As in the test settings: these workers test delivery and faults, not the diagnostics
        # (issue 14), which one run of the suite computes (tests/analysis/runs).
        "ANALYSIS_DIAGNOSTICS": "0",
        **(extra_env or {}),
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
            *pool,
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
        yield process
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
