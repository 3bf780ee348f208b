"""Without a broker (JOBS_RUNNER "thread", the embedded default of `make run`) starting a run
answers at once; the run is claimed and completed by a background thread of the same process."""

import threading
import time

import pytest

from analysis.models import AnalysisRun
from analysis.runs import services

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_for(run, status, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status == status:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run.pk} is {run.status}, not {status}")


def test_starting_a_run_answers_at_once_and_a_background_thread_completes_it(
    study, researcher, settings, monkeypatch
):
    settings.JOBS_RUNNER = "thread"
    release, threads = threading.Event(), []

    def slow_compute(*, study, params, progress=None):
        threads.append(threading.current_thread().name)
        progress(50, "halfway")
        assert release.wait(timeout=20), "the test never let the run finish"
        return {"questions": [], "n_families": 0}, "f" * 64

    monkeypatch.setattr(services, "analysis_compute", slow_compute)
    monkeypatch.setattr(services, "report_render", lambda run: None)
    started = time.monotonic()
    run = services.analysis_run_request(study=study, user=researcher)
    assert time.monotonic() - started < 2.0  # did not wait for the analysis
    run = _wait_for(run, AnalysisRun.Status.RUNNING)
    assert run.attempts == 1 and run.claimed_by  # claimed like any worker claims
    release.set()
    run = _wait_for(run, AnalysisRun.Status.SUCCEEDED)
    assert run.fingerprint == "f" * 64 and run.progress == 100
    assert threads and threads[0] != threading.current_thread().name
