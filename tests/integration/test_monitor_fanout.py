"""The monitor's fan-out (one Celery task per municipality) through a real worker on Redis gives
the totals of the run in this process."""

import os
import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import celery_worker

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
    queue = f"monitor-test-{uuid.uuid4().hex[:8]}"
    with celery_worker(queue, extra_env={"CELERY_BROKER_URL": BROKER}):
        yield queue


def test_chord_through_a_worker_matches_the_in_process_run(extract, worker_queue, real_broker):
    from analysis.monitor import pipeline, runner

    assert runner.broker_configured()
    fanned = runner.monitor_count(path=extract, year=2014, queue=worker_queue)
    local = pipeline.monitor_run(path=extract, year=2014)
    assert fanned["errors"] == [] and local["errors"] == []
    assert fanned["municipalities"] == local["municipalities"] == 3
    assert fanned["rows"] == local["rows"]
    fanned_counts = pipeline.counts_frame(fanned).set_index(["municipality", "wijk"]).sort_index()
    local_counts = pipeline.counts_frame(local).set_index(["municipality", "wijk"]).sort_index()
    assert fanned_counts.equals(local_counts)
    assert fanned_counts["mpg"].sum() > 0
