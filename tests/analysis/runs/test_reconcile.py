"""Faults around analysis runs (eager Celery, no broker): a task that keeps killing its worker is
given up after N attempts, a run whose worker died is taken over or queued again, a queued run
whose message was lost is sent again, and only the attempt holding the claim stores a result."""

import json
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from analysis.models import AnalysisRun
from analysis.runs import services
from analysis.runs.job import RUN_JOB
from analysis.runs.reconcile import reconcile_runs
from tracker import broker, jobs
from tracker.jobs import worker_identity

pytestmark = pytest.mark.django_db

RESULTS = {"questions": [], "n_families": 0}


@pytest.fixture
def quick_compute(monkeypatch):
    """The claim logic under test, not the statistics: a compute that returns at once."""
    calls = []

    def compute(*, study, params, progress=None):
        calls.append(study.pk)
        if progress:
            progress(50, "halfway")
        return dict(RESULTS), "f" * 64

    monkeypatch.setattr(services, "analysis_compute", compute)
    monkeypatch.setattr(services, "report_render", lambda run: None)
    return calls


@pytest.fixture
def dead_claimant():
    """host:pid:start of a process on this machine that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}:1"


def _run(study, **fields) -> AnalysisRun:
    return AnalysisRun.objects.create(study=study, params={"seed": 1}, **fields)


def test_a_run_that_used_up_its_attempts_is_failed_not_tried_again(study, quick_compute):
    run = _run(study, attempts=settings.ANALYSIS_MAX_ATTEMPTS)
    out = services.analysis_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.FAILED
    assert run.error.startswith(f"Stopped after {settings.ANALYSIS_MAX_ATTEMPTS} attempts")
    assert "worker" in run.error and out.status == AnalysisRun.Status.FAILED
    assert quick_compute == []  # never computed


def test_the_limit_is_a_setting(study, quick_compute, settings):
    settings.ANALYSIS_MAX_ATTEMPTS = 5
    run = _run(study, attempts=3)
    services.analysis_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED and run.attempts == 4


def test_a_claim_counts_an_attempt_and_records_the_worker(study, quick_compute):
    run = _run(study)
    services.analysis_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED and run.attempts == 1
    assert run.claimed_by == worker_identity()
    assert run.heartbeat_at is not None and run.results["questions"] == []


def test_redelivery_takes_over_a_run_whose_worker_died(study, quick_compute, dead_claimant):
    run = _run(study, status=AnalysisRun.Status.RUNNING, attempts=1, claimed_by=dead_claimant)
    services.analysis_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED and run.attempts == 2


def test_redelivery_leaves_a_run_with_a_live_worker_alone(study, quick_compute):
    run = _run(
        study,
        status=AnalysisRun.Status.RUNNING,
        attempts=1,
        claimed_by=worker_identity(),
        heartbeat_at=timezone.now(),
    )
    assert services.analysis_run_execute(run_id=run.pk) is None
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.RUNNING and run.attempts == 1
    assert quick_compute == []


def test_a_live_process_silent_for_longer_than_a_run_may_take_has_left_the_run(
    study, quick_compute
):
    run = _run(
        study,
        status=AnalysisRun.Status.RUNNING,
        attempts=1,
        claimed_by=worker_identity(),
        heartbeat_at=timezone.now() - timedelta(seconds=settings.ANALYSIS_STALE_SECONDS + 60),
    )
    services.analysis_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED and run.attempts == 2


def test_a_database_error_gives_the_claim_back_and_is_raised_for_the_retry(study, monkeypatch):
    from django.db import OperationalError

    def compute(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "analysis_compute", compute)
    run = _run(study)
    with pytest.raises(OperationalError):
        services.analysis_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.QUEUED and run.claimed_by == ""
    assert run.attempts == 1 and run.error == ""


def test_a_report_that_cannot_be_rendered_fails_the_run_in_plain_words(
    study, quick_compute, monkeypatch
):
    def render(run):
        raise RuntimeError("typst is not installed")

    monkeypatch.setattr(services, "report_render", render)
    run = _run(study)
    services.analysis_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.FAILED
    assert run.error == "report not rendered: RuntimeError: typst is not installed"
    assert run.results == {}  # the stored result was rolled back with the report


def test_a_reused_pid_is_not_taken_for_the_worker(study):
    host, pid, start = worker_identity().split(":")
    assert start, "this test needs /proc (Linux)"
    run = _run(
        study,
        status=AnalysisRun.Status.RUNNING,
        claimed_by=f"{host}:{pid}:{int(start) + 1}",
    )
    assert jobs.worker_gone(RUN_JOB, run)


def test_a_worker_on_another_machine_is_gone_only_after_the_heartbeat_stops(study):
    now = timezone.now()
    run = _run(
        study,
        status=AnalysisRun.Status.RUNNING,
        claimed_by="another-host:123:456",
        heartbeat_at=now - timedelta(seconds=settings.ANALYSIS_STALE_SECONDS - 60),
    )
    assert not jobs.worker_gone(RUN_JOB, run, now=now)
    run.heartbeat_at = now - timedelta(seconds=settings.ANALYSIS_STALE_SECONDS + 60)
    assert jobs.worker_gone(RUN_JOB, run, now=now)


def test_the_stale_threshold_is_longer_than_the_task_time_limit():
    assert settings.ANALYSIS_STALE_SECONDS > settings.ANALYSIS_TIME_LIMIT.total_seconds()


def test_an_attempt_that_lost_its_claim_stores_nothing(study, monkeypatch):
    """A worker presumed dead that comes back after another took over: its result is dropped."""
    run = _run(study)

    def compute(*, study, params, progress=None):
        AnalysisRun.objects.filter(pk=run.pk).update(attempts=2)  # another worker took over
        progress(50, "late")
        return dict(RESULTS), "f" * 64

    monkeypatch.setattr(services, "analysis_compute", compute)
    monkeypatch.setattr(services, "report_render", lambda run: pytest.fail("rendered"))
    assert services.analysis_run_execute(run_id=run.pk) is None
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.RUNNING and run.results == {}
    assert run.progress_note != "late"  # nor its heartbeat


def test_a_statistics_error_still_fails_the_run_in_plain_words(study, monkeypatch):
    def compute(**kwargs):
        raise ValueError("the panel has no intervention families")

    monkeypatch.setattr(services, "analysis_compute", compute)
    run = _run(study)
    services.analysis_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.FAILED
    assert run.error == "ValueError: the panel has no intervention families"


# --- the reconciler ---------------------------------------------------------------------------


def test_reconciler_queues_again_a_run_whose_worker_died(
    study, quick_compute, dead_claimant, django_capture_on_commit_callbacks
):
    run = _run(study, status=AnalysisRun.Status.RUNNING, attempts=1, claimed_by=dead_claimant)
    with django_capture_on_commit_callbacks(execute=False) as sent:
        done = reconcile_runs()
    assert done.resumed == [run.pk] and len(sent) == 1
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.QUEUED and run.claimed_by == ""
    sent[0]()  # the task (eager) claims and completes it
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED and run.attempts == 2


def test_reconciler_fails_a_dead_run_out_of_attempts(study, dead_claimant):
    run = _run(
        study,
        status=AnalysisRun.Status.RUNNING,
        attempts=settings.ANALYSIS_MAX_ATTEMPTS,
        claimed_by=dead_claimant,
    )
    done = reconcile_runs()
    run.refresh_from_db()
    assert done.failed == [run.pk] and run.status == AnalysisRun.Status.FAILED
    assert run.error.startswith("Stopped after 3 attempts") and run.finished_at


def test_reconciler_leaves_live_and_finished_runs_alone(study):
    live = _run(study, status=AnalysisRun.Status.RUNNING, claimed_by=worker_identity())
    done_run = _run(study, status=AnalysisRun.Status.SUCCEEDED)
    fresh = _run(study)  # queued just now
    done = reconcile_runs()
    assert done.as_dict() == {"resumed": [], "failed": [], "requeued": []}
    for run, status in ((live, "running"), (done_run, "succeeded"), (fresh, "queued")):
        run.refresh_from_db()
        assert run.status == status


def test_reconciler_resends_a_queued_run_the_broker_lost(
    study, monkeypatch, django_capture_on_commit_callbacks
):
    old = timezone.now() - timedelta(seconds=settings.ANALYSIS_QUEUED_SECONDS + 60)
    lost = _run(study)
    held = _run(study)
    AnalysisRun.objects.filter(pk__in=[lost.pk, held.pk]).update(created_at=old)
    monkeypatch.setattr(broker, "held_task_args", lambda task_name, queue=None: {held.pk})
    with django_capture_on_commit_callbacks(execute=False) as sent:
        done = reconcile_runs()
    assert done.requeued == [lost.pk] and len(sent) == 1
    # Sent again: its clock restarts, so the next pass does not send it a second time.
    with django_capture_on_commit_callbacks(execute=False) as sent_again:
        assert reconcile_runs().requeued == []
    assert sent_again == []


def test_reconciler_resends_every_old_queued_run_when_the_broker_cannot_be_read(
    study, monkeypatch, django_capture_on_commit_callbacks
):
    run = _run(study)
    AnalysisRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(hours=1))
    monkeypatch.setattr(broker, "held_task_args", lambda task_name, queue=None: None)
    with django_capture_on_commit_callbacks(execute=False):
        assert reconcile_runs().requeued == [run.pk]


def test_management_command_and_beat_schedule(study, dead_claimant, capsys):
    run = _run(
        study,
        status=AnalysisRun.Status.RUNNING,
        attempts=settings.ANALYSIS_MAX_ATTEMPTS,
        claimed_by=dead_claimant,
    )
    call_command("reconcile_runs", "--json")
    assert json.loads(capsys.readouterr().out) == {
        "failed": [run.pk],
        "requeued": [],
        "resumed": [],
    }
    call_command("reconcile_runs")
    assert "failed 0 run(s)" in capsys.readouterr().out
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "tracker.tasks.reconcile_jobs_task" in tasks


def test_beat_task_runs_the_reconciler(study, dead_claimant):
    from tracker.tasks import reconcile_jobs_task

    run = _run(
        study,
        status=AnalysisRun.Status.RUNNING,
        attempts=settings.ANALYSIS_MAX_ATTEMPTS,
        claimed_by=dead_claimant,
    )
    assert reconcile_jobs_task.delay().get()["analysis-run"]["failed"] == [run.pk]


def test_progress_is_the_heartbeat(study):
    run = _run(study, status=AnalysisRun.Status.RUNNING, attempts=1)
    services._progress(jobs.Claim(spec=RUN_JOB, job_id=run.pk, attempt=1))(40, "F1 cost")
    run.refresh_from_db()
    assert run.progress == 40 and run.heartbeat_at is not None
