"""An analysis run through a real Celery worker on Redis and PostgreSQL, delivered twice."""

import os
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from tests.integration.conftest import celery_worker

BROKER = os.environ.get("CELERY_BROKER_URL", "")
ROOT = Path(__file__).resolve().parents[2]

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
    queue = f"analysis-test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    with celery_worker(
        queue, extra_env={"CELERY_BROKER_URL": BROKER, "DATABASE_URL": url}, pool=("--pool", "solo")
    ):
        yield queue


def test_a_run_delivered_twice_through_a_real_worker_gives_one_result(worker, real_broker):
    from analysis.models import AnalysisRun, Report
    from analysis.tasks import analysis_run_task
    from tracker.setup import demo_set_up

    study, _ = demo_set_up()
    run = AnalysisRun.objects.create(
        study=study, params={"inference": "cr2", "draws": 0, "seed": 1}
    )
    for _ in range(2):  # duplicate delivery
        analysis_run_task.apply_async((run.pk,), queue=worker)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.is_finished:
            break
        time.sleep(1)
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    time.sleep(2)  # let the duplicate delivery reach the worker and be ignored
    assert Report.objects.filter(run=run).count() == 1
    assert run.attempts == 1
