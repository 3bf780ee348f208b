"""A Celery app for the fault tests only: the real tracker app with a fault injected into analysis
runs, chosen by the environment of the worker (`celery -A tests.integration.fault_worker`).

FAULT_MODE=pause_once   the first attempt stops at its first progress step for FAULT_PAUSE_SECONDS
                        (after writing FAULT_MARKER), so that a test can kill it mid-run;
                        later attempts run through.
FAULT_MODE=kill_always  every attempt kills its own worker process (SIGKILL) as it starts
                        computing: the poison task.
FAULT_VISIBILITY_TIMEOUT=N  Redis hands unacknowledged tasks out again after N seconds, swept
                        every second (production: an hour, longer than any task).
Production code carries no test hook; the patch lives here.
"""

import os
import signal
import time
from pathlib import Path

import django

from tracker.celery import app

django.setup()

from analysis.runs import services  # noqa: E402

MODE = os.environ.get("FAULT_MODE", "")
MARKER = Path(os.environ.get("FAULT_MARKER", "/nonexistent/fault-marker"))
PAUSE = float(os.environ.get("FAULT_PAUSE_SECONDS", "120"))

_compute = services.analysis_compute
_progress = services._progress


def _paused_progress(claim):
    report = _progress(claim)

    def pausing(percent, note):
        report(percent, note)
        if not MARKER.exists():
            MARKER.write_text(str(os.getpid()))
            time.sleep(PAUSE)

    return pausing


def _killing_compute(**kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
    return _compute(**kwargs)


if os.environ.get("FAULT_VISIBILITY_TIMEOUT"):
    app.conf.broker_transport_options = {
        **(app.conf.broker_transport_options or {}),
        "visibility_timeout": int(os.environ["FAULT_VISIBILITY_TIMEOUT"]),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }

if MODE == "pause_once":
    services._progress = _paused_progress
elif MODE == "kill_always":
    services.analysis_compute = _killing_compute

__all__ = ["app"]
