"""Freezing an analysis plan and typesetting a published report through a real Celery worker on
Redis and PostgreSQL, each delivered twice: one plan version with its MDEs, one PDF."""

import os
import time
import uuid

import pytest
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
def worker(transactional_db):
    queue = f"plan-test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {"CELERY_BROKER_URL": BROKER, "DATABASE_URL": url, "PLANNED_MDE_REPS": "50"}
    with celery_worker(queue, extra_env=env, pool=("--pool", "solo")):
        yield queue


def _wait(job, seconds=300):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status not in ("queued", "running"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"{job} did not finish in {seconds} s")


def test_a_freeze_delivered_twice_through_a_real_worker_freezes_one_version(
    worker, real_broker, researcher
):
    from analysis.models import AnalysisPlan
    from analysis.plans import plan_services
    from analysis.tasks import plan_freeze_task
    from study.roles import Role
    from study.services.studies import membership_grant
    from tracker.setup import demo_set_up

    study, _ = demo_set_up()
    membership_grant(study=study, user=researcher, role=Role.RESEARCHER)
    job = plan_services.analysis_plan_freeze_request(study=study, user=researcher, send=False)
    for _ in range(2):  # duplicate delivery
        plan_freeze_task.apply_async((job.pk,), queue=worker)
    job = _wait(job)
    assert job.status == "succeeded", job.error
    time.sleep(2)  # let the duplicate reach the worker and be ignored
    (plan,) = AnalysisPlan.objects.filter(study=study)
    job.refresh_from_db()
    assert job.plan == plan and job.attempts == 1 and job.progress == 100
    assert plan.content["planned_mde"]["outcomes"]  # frozen with its MDEs


def test_a_typesetting_delivered_twice_through_a_real_worker_stores_one_pdf(
    worker, real_broker, study, researcher, monkeypatch, django_capture_on_commit_callbacks
):
    from analysis.models import AnalysisRun, ReportTypesetJob
    from analysis.runs import report_services
    from analysis.tasks import report_typeset_task
    from tracker import jobs

    run = AnalysisRun.objects.create(study=study, status="succeeded", results={"questions": []})
    report = report_services.report_render(run=run)
    monkeypatch.setattr(jobs, "send_now", lambda *args, **kwargs: None)  # sent below, twice
    report_services.report_publish(report=report, user=researcher)
    job = ReportTypesetJob.objects.get(report=report)
    for _ in range(2):
        report_typeset_task.apply_async((job.pk,), queue=worker)
    job = _wait(job)
    assert job.status == "succeeded", job.error
    time.sleep(2)
    job.refresh_from_db()
    report.refresh_from_db()
    assert job.attempts == 1 and bytes(report.pdf).startswith(b"%PDF")
    assert report.pdf_error == ""
