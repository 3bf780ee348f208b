"""A monitor job started as the API starts it, run by a real Celery worker on Redis and
PostgreSQL: the job's task fans out one task per municipality and the chord's body completes the
job, with the same figures as a run in this process and one stored report per municipality."""

import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.integration.conftest import celery_worker

BROKER = os.environ.get("CELERY_BROKER_URL", "")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not BROKER, reason="CELERY_BROKER_URL is not set: needs Redis and a worker"),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="DATABASE_URL is not PostgreSQL: the worker must share the test database",
    ),
]


@pytest.fixture
def extract(tmp_path):
    from analysis.monitor.synthetic import iter_population, national_specs, write_population

    path = tmp_path / "three_municipalities.parquet"
    write_population(
        iter_population(national_specs(seed=4, municipalities=3), year=2014, seed=4), path
    )
    return path


def default_queue_worker():
    """A worker on the default queue (the job sends its tasks there): the Redis database is this
    checkout's own, so nothing else consumes it. Same database and upload folder as the test."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        "CELERY_BROKER_URL": BROKER,
        "DATABASE_URL": url,
        "MONITOR_UPLOAD_DIR": str(Path(settings.MONITOR_UPLOAD_DIR).resolve()),
    }
    return celery_worker("celery", extra_env=env)


@pytest.fixture
def worker(transactional_db, real_broker):
    real_broker.control.purge()
    with default_queue_worker():
        yield


def finished(job, seconds: float = 300):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            break
        time.sleep(0.5)
    return job


def test_a_job_fans_out_over_the_worker_and_stores_the_reports(extract, worker):
    from analysis.monitor import pipeline, services, summary
    from analysis.monitor.models import MonitorJob, MonitorReport
    from study.roles import Role
    from study.services.studies import membership_grant
    from tests.factories import make_study, make_user

    researcher = make_user(Role.RESEARCHER)
    # The monitor is scoped by municipality: the researcher works on a study in each of them.
    for name in pipeline.monitor_municipalities(path=extract):
        membership_grant(study=make_study(municipality=name), user=researcher, role=Role.RESEARCHER)
    job = services.monitor_job_request(
        chunks=[extract.read_bytes()],
        file_name="three.parquet",
        year=2014,
        save=True,
        user=researcher,
    )
    job = finished(job)
    assert job.status == MonitorJob.Status.SUCCEEDED, job.error
    assert (job.chunks, job.chunks_done, job.progress, job.attempts) == (3, 3, 100, 1)
    local = pipeline.monitor_run(path=extract, year=2014)
    expected = summary.monitor_summary(counts=pipeline.counts_frame(local), year=2014)
    saved = job.result.pop("saved_reports")
    assert job.result == expected
    reports = MonitorReport.objects.filter(pk__in=saved)
    assert sorted(reports.values_list("municipality", flat=True)) == ["Almelo", "Borne", "Dalfsen"]
    assert all(r.created_by == researcher and r.source_name == "three.parquet" for r in reports)
    assert not Path(job.params["path"]).exists()  # the extract is gone with the job


def test_a_job_whose_message_redis_lost_is_sent_again_and_completes(
    extract, transactional_db, real_broker
):
    import redis

    from analysis.monitor import pipeline, services
    from analysis.monitor.job import MONITOR_JOB
    from analysis.monitor.models import MonitorJob
    from study.roles import Role
    from study.services.studies import membership_grant
    from tests.factories import make_study, make_user
    from tracker.broker import held_task_args
    from tracker.job_kinds import jobs_reconcile_all

    real_broker.control.purge()
    researcher = make_user(Role.RESEARCHER)
    for name in pipeline.monitor_municipalities(path=extract):  # scoped by municipality
        membership_grant(study=make_study(municipality=name), user=researcher, role=Role.RESEARCHER)
    job = services.monitor_job_request(
        chunks=[extract.read_bytes()],
        file_name="three.parquet",
        year=2014,
        save=False,
        user=researcher,
    )
    assert job.pk in held_task_args(MONITOR_JOB.task_name)  # no worker yet: the message waits
    redis.Redis.from_url(BROKER).flushdb()  # ... until Redis loses it
    done = jobs_reconcile_all(kinds=["monitor-job"], queued_after=0)["monitor-job"]
    assert done.requeued == [job.pk]
    assert job.pk in held_task_args(MONITOR_JOB.task_name)
    with default_queue_worker():
        job = finished(job)
    assert job.status == MonitorJob.Status.SUCCEEDED, job.error
    assert (job.attempts, job.chunks_done) == (1, 3)
    assert not Path(job.params["path"]).exists()
