"""A registry import through a real Celery worker on Redis and PostgreSQL, whose pool child is
killed with SIGKILL in the middle of the dry run and again in the middle of the import: the job
is delivered again (acks_late + reject_on_worker_lost), finishes once, and nothing is doubled."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import time
import uuid
from datetime import date

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

ROWS = 60_000


@pytest.fixture
def worker(transactional_db):
    queue = f"import-test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    with celery_worker(
        queue,
        extra_env={"CELERY_BROKER_URL": BROKER, "DATABASE_URL": url},
        pool=("--pool", "prefork", "--concurrency", "1"),
    ) as process:
        yield queue, process


def pool_children(process) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True)
    return [int(pid) for pid in out.stdout.split()]


def wait_for(predicate, timeout: float, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out")


def build(rows: int):
    from study.catalogue import ensure_global_catalogue, indicators_for
    from study.models import Study
    from study.services.families import MemberSpec, family_enrol
    from study.services.studies import study_create

    ensure_global_catalogue()
    study = study_create(name="Kill test", municipality="Almelo", start_date=date(2020, 1, 1))
    Study.objects.filter(pk=study.pk).update(comparison_cap=None)
    codes = [i.code for i in indicators_for(study) if "eur" not in i.code]
    years = range(2019, 2026)
    eligibility = dict.fromkeys(
        [
            "elig_socio_economic",
            "elig_adult_psychosocial",
            "elig_child_psychosocial",
            "elig_chronic",
        ],
        True,
    )
    buffer = io.StringIO("pseudonym,year,indicator,value\n")
    buffer.seek(0, io.SEEK_END)
    written, n = 0, 0
    while written < rows:
        family = family_enrol(
            study=study,
            arm_kind="intervention" if n < 40 else "comparison",
            intake_date=date(2021, 3, 1),
            allocation="matched",
            eligibility=eligibility,
            members=[MemberSpec("adult", 1985), MemberSpec("child", 2012)],
        )
        n += 1
        for year in years:
            for code in codes:
                if written < rows:
                    buffer.write(f"{family.pseudonym},{year},{code},{(written % 2)}\n")
                    written += 1
    return study, buffer.getvalue().encode()


def test_import_survives_a_killed_worker_in_dry_run_and_in_apply(worker, real_broker, data_manager):
    from study.imports import workflow
    from study.models import ImportBatch, IndicatorValue
    from study.tasks import registry_import_apply_task, registry_import_validate_task

    queue, process = worker
    wait_for(lambda: pool_children(process), timeout=60, interval=0.2)
    study, content = build(ROWS)
    from study.services.studies import membership_grant

    membership_grant(study=study, user=data_manager, role="datamanager")  # roles are per study
    batch = workflow.registry_import_upload(
        study=study, user=data_manager, filename="big.csv", content=content, enqueue=False
    )

    # Dry run: kill the pool child as soon as it has claimed the batch
    registry_import_validate_task.apply_async((batch.pk,), queue=queue)
    # (once the attempt is counted: a kill between the claim and the count is not counted)
    wait_for(
        lambda: ImportBatch.objects.filter(
            pk=batch.pk, status="validating", attempts__gte=1
        ).exists(),
        timeout=60,
    )
    for pid in pool_children(process):
        os.kill(pid, signal.SIGKILL)
    batch = wait_for(
        lambda: ImportBatch.objects.filter(pk=batch.pk, status__in=["validated", "failed"]).first(),
        timeout=180,
        interval=0.2,
    )
    assert batch.status == "validated", batch.errors[:3]
    assert batch.attempts == 2, "killed once, delivered again, finished once"
    assert batch.summary["new"] == ROWS

    # Import: kill the pool child once it has started writing (attempt counted).
    workflow.registry_import_apply_request(batch=batch, user=data_manager, enqueue=False)
    registry_import_apply_task.apply_async((batch.pk,), queue=queue)
    wait_for(lambda: ImportBatch.objects.filter(pk=batch.pk, attempts__gte=1).exists(), timeout=60)
    time.sleep(0.3)
    for pid in pool_children(process):
        os.kill(pid, signal.SIGKILL)
    batch = wait_for(
        lambda: ImportBatch.objects.filter(pk=batch.pk, status__in=["applied", "failed"]).first(),
        timeout=180,
        interval=0.2,
    )
    assert batch.status == "applied", batch.errors[:3]
    assert batch.attempts == 2 and batch.created == ROWS
    assert IndicatorValue.objects.filter(wave__family__study=study).count() == ROWS
    history = IndicatorValue.history.model.objects.filter(wave__family__study=study)
    assert history.count() == ROWS, "the killed attempt's writes were rolled back"
