"""Monitor jobs as jobs of tracker/jobs.py (eager Celery, no broker): the reconciler resumes a job
whose worker died and resends one whose message was lost, a job out of attempts is failed and its
extract deleted, and only the attempt holding the claim writes progress or the outcome."""

import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from analysis.monitor import services
from analysis.monitor.job import MONITOR_JOB
from analysis.monitor.models import MonitorJob
from study.roles import Role
from tests.factories import make_member, make_study
from tracker import jobs
from tracker.job_kinds import jobs_reconcile_all

from .helpers_monitor import household_rows, three_years

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.MONITOR_UPLOAD_DIR = tmp_path / "uploads"
    return settings.MONITOR_UPLOAD_DIR


@pytest.fixture
def dead_claimant():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}:1"


def _extract() -> bytes:
    rows = []
    for i in range(12):
        rows += three_years(
            f"h{i}",
            y0={"bijstand": 1, "adult_outreach_care": 1, "child_ots": 1},
            y1={"child_ots": 1},
            y2={"child_ots": 1},
        )
    return household_rows(rows).to_csv(index=False).encode()


def _queued_job() -> MonitorJob:
    """A job as the API queues it (its task is sent only once the test's transaction commits,
    which it never does: the job stays queued until a test runs it)."""
    user = make_member(make_study(municipality="Almelo"), Role.RESEARCHER, "researcher-m")
    return services.monitor_job_request(
        chunks=[_extract()], file_name="extract.csv", year=2014, save=False, user=user
    )


def _reconcile(capture):
    with capture(execute=True):
        return jobs_reconcile_all(kinds=["monitor-job"])["monitor-job"]


def test_a_job_whose_worker_died_is_resumed_by_the_reconciler_and_completes(
    dead_claimant, django_capture_on_commit_callbacks
):
    job = _queued_job()
    assert isinstance(jobs.job_claim(MONITOR_JOB, job_id=job.pk), jobs.Claim)
    MonitorJob.objects.filter(pk=job.pk).update(claimed_by=dead_claimant)  # killed mid-count
    done = _reconcile(django_capture_on_commit_callbacks)
    assert (done.resumed, done.failed, done.requeued) == ([job.pk], [], [])
    job.refresh_from_db()
    assert (job.status, job.attempts, job.progress) == ("succeeded", 2, 100)
    assert [m["mpg"] for m in job.result["municipalities"]] == [12]
    assert not Path(job.params["path"]).exists()


def test_a_queued_job_whose_message_was_lost_is_sent_again(django_capture_on_commit_callbacks):
    job = _queued_job()
    young = _reconcile(django_capture_on_commit_callbacks)
    assert young.requeued == []  # too young to tell
    MonitorJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=1))
    done = _reconcile(django_capture_on_commit_callbacks)
    assert done.requeued == [job.pk]
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("succeeded", 1)


def test_a_job_out_of_attempts_is_failed_and_its_extract_deleted(
    settings, dead_claimant, django_capture_on_commit_callbacks, upload_dir
):
    job = _queued_job()
    MonitorJob.objects.filter(pk=job.pk).update(
        status="running", attempts=settings.MONITOR_JOB_MAX_ATTEMPTS, claimed_by=dead_claimant
    )
    assert Path(job.params["path"]).exists()
    done = _reconcile(django_capture_on_commit_callbacks)
    assert done.failed == [job.pk]
    job.refresh_from_db()
    assert job.status == "failed" and job.finished_at is not None and job.claimed_by == ""
    assert job.error.startswith(f"Stopped after {settings.MONITOR_JOB_MAX_ATTEMPTS} attempts")
    assert [p for p in Path(upload_dir).rglob("*") if p.is_file()] == []


def test_a_redelivered_job_task_out_of_attempts_fails_the_job_too(settings, dead_claimant):
    job = _queued_job()
    MonitorJob.objects.filter(pk=job.pk).update(
        status="running", attempts=settings.MONITOR_JOB_MAX_ATTEMPTS, claimed_by=dead_claimant
    )
    assert services.monitor_job_execute(job_id=job.pk).status == "failed"
    assert not Path(job.params["path"]).exists()


def test_a_live_worker_keeps_its_job(django_capture_on_commit_callbacks):
    job = _queued_job()
    jobs.job_claim(MONITOR_JOB, job_id=job.pk)  # this process: alive
    assert services.monitor_job_execute(job_id=job.pk) is None  # a second delivery
    done = _reconcile(django_capture_on_commit_callbacks)
    assert (done.resumed, done.failed, done.requeued) == ([], [], [])
    assert MonitorJob.objects.get(pk=job.pk).attempts == 1


def test_the_finish_of_an_attempt_taken_over_writes_nothing(dead_claimant):
    job = _queued_job()
    first = jobs.job_claim(MONITOR_JOB, job_id=job.pk)
    results = [
        services.monitor_chunk_count(path=job.params["path"], municipality="Almelo", year=2014)
    ]
    MonitorJob.objects.filter(pk=job.pk).update(claimed_by=dead_claimant)
    second = jobs.job_claim(MONITOR_JOB, job_id=job.pk)
    assert second.attempt == 2
    # The first attempt's chunk and chord body arrive late: neither writes, the extract stays.
    services.monitor_chunk_count(
        path=job.params["path"],
        municipality="Almelo",
        year=2014,
        job_id=job.pk,
        chunks=1,
        attempt=first.attempt,
    )
    assert (
        services.monitor_job_finish(job_id=job.pk, attempt=first.attempt, results=results) is None
    )
    stored = MonitorJob.objects.get(pk=job.pk)
    assert (stored.status, stored.attempts, stored.chunks_done, stored.result) == (
        "running",
        2,
        0,
        {},
    )
    assert Path(job.params["path"]).exists()
    # The attempt that holds the job completes it.
    services.monitor_chunk_count(
        path=job.params["path"],
        municipality="Almelo",
        year=2014,
        job_id=job.pk,
        chunks=1,
        attempt=second.attempt,
    )
    done = services.monitor_job_finish(job_id=job.pk, attempt=second.attempt, results=results)
    assert (done.status, done.chunks_done, done.progress) == ("succeeded", 1, 100)
    assert not Path(job.params["path"]).exists()


def test_a_failure_of_an_attempt_taken_over_leaves_the_job_alone(dead_claimant):
    job = _queued_job()
    first = jobs.job_claim(MONITOR_JOB, job_id=job.pk)
    MonitorJob.objects.filter(pk=job.pk).update(claimed_by=dead_claimant)
    jobs.job_claim(MONITOR_JOB, job_id=job.pk)
    services.monitor_job_fail(job_id=job.pk, attempt=first.attempt, error="chunk lost")
    assert MonitorJob.objects.get(pk=job.pk).status == "running"
    assert Path(job.params["path"]).exists()


def test_the_counting_process_hands_the_job_over_once_the_counts_are_sent(monkeypatch):
    """With a broker the job's task only fans out: it no longer holds the job in person (its
    worker may stop without harm), the heartbeat of the chunks and of the finishing task tells."""
    sent = []
    monkeypatch.setattr(services.runner, "monitor_count", lambda **kwargs: sent.append(kwargs))
    job = _queued_job()
    services.monitor_job_execute(job_id=job.pk)
    stored = MonitorJob.objects.get(pk=job.pk)
    assert [s["claim"].attempt for s in sent] == [1]
    assert (stored.status, stored.claimed_by, stored.attempts) == ("running", "", 1)
