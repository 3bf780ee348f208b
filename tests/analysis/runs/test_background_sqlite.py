"""On the embedded default (SQLite file, background-thread runner) a running analysis and the
web process write side by side: WAL and the busy timeout make a writer wait for the lock
instead of failing with "database is locked"."""

import threading
import time

import pytest
from django.conf import settings
from django.db import connection

from analysis.models import AnalysisRun
from analysis.runs import services
from study.models import Study

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"), reason="SQLite only"
)
def test_a_background_run_and_page_writes_do_not_lock_each_other_out(
    study, researcher, settings, monkeypatch
):
    settings.JOBS_RUNNER = "thread"
    with connection.cursor() as cursor:
        assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.settings_dict["OPTIONS"]["timeout"] >= 5
    started, errors = threading.Event(), []

    def busy_compute(*, study, params, progress=None):
        started.set()
        for step in range(60):  # a heartbeat (a write) after every step
            progress(step, f"step {step}")
        return {"questions": [], "n_families": 0}, "f" * 64

    monkeypatch.setattr(services, "analysis_compute", busy_compute)
    monkeypatch.setattr(services, "report_render", lambda run: None)
    run = services.analysis_run_request(study=study, user=researcher)
    assert started.wait(timeout=30)
    try:
        for i in range(60):  # the web process writes meanwhile
            Study.objects.filter(pk=study.pk).update(description=f"write {i}")
    except Exception as exc:  # "database is locked" would land here
        errors.append(exc)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        run.refresh_from_db()
        if run.is_finished:
            break
        time.sleep(0.05)
    assert errors == []
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
