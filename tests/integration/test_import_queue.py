"""Imports on their own queue: a worker started with the README's worker command (the one
`make worker` runs) consumes it and completes an import sent the ordinary way (routed by the
settings, no explicit queue); a unit check that the routing puts imports there and analyses not."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("CELERY_BROKER_URL", "")


def readme_worker_command() -> list[str]:
    """The worker command of the README (`.venv/bin/celery -A tracker worker ...`), as argv."""
    text = (ROOT / "README.md").read_text()
    line = next(
        ln for ln in text.splitlines() if ln.startswith(".venv/bin/celery -A tracker worker")
    )
    return shlex.split(line.split("#", 1)[0])


def test_the_readme_and_make_worker_consume_the_import_queue():
    argv = readme_worker_command()
    queues = argv[argv.index("-Q") + 1].split(",")
    assert settings.IMPORT_QUEUE in queues and "celery" in queues
    recipe = (ROOT / "Makefile").read_text().split("\nworker:", 1)[1].split("\n\n", 1)[0]
    assert re.search(rf"-Q \S*\b{settings.IMPORT_QUEUE}\b", recipe)


def test_imports_are_routed_to_their_queue_and_analyses_are_not():
    from tracker.celery import app

    router = app.amqp.router
    for name in (
        "study.tasks.registry_import_validate_task",
        "study.tasks.registry_import_apply_task",
    ):
        assert router.route({}, name)["queue"].name == settings.IMPORT_QUEUE
    assert router.route({}, "analysis.tasks.analysis_run_task")["queue"].name == "celery"


@pytest.mark.integration
@pytest.mark.skipif(not BROKER, reason="CELERY_BROKER_URL is not set: needs Redis and a worker")
@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="DATABASE_URL is not PostgreSQL: the worker must share the test database",
)
def test_a_worker_started_as_the_readme_says_completes_an_import(
    transactional_db, real_broker, study, data_manager
):
    from study.imports import workflow
    from study.models import ImportBatch, IndicatorValue
    from tests.factories import make_family

    family = make_family(study, intake=date(2021, 3, 1))
    content = (
        "pseudonym,year,indicator,value\n"
        f"{family.pseudonym},2021,bijstand,1\n{family.pseudonym},2022,bijstand,2\n"
    ).encode()
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    argv = readme_worker_command()
    argv[0] = str(Path(sys.executable).with_name("celery"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "DEBUG": "1",
        "ANALYSIS_DIAGNOSTICS": "0",
        "CELERY_BROKER_URL": BROKER,
        "DATABASE_URL": url,
    }
    process = subprocess.Popen(
        [*argv, "--without-gossip", "--without-mingle", "-n", f"readme-{os.getpid()}@%h"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        batch = workflow.registry_import_upload(
            study=study, user=data_manager, filename="x.csv", content=content
        )  # the dry run is sent after the commit, routed to the import queue
        batch = _wait(lambda: ImportBatch.objects.filter(pk=batch.pk, status="validated").first())
        workflow.registry_import_apply_request(batch=batch, user=data_manager)
        batch = _wait(lambda: ImportBatch.objects.filter(pk=batch.pk, status="applied").first())
        assert batch.created == 2
        assert IndicatorValue.objects.filter(wave__family=family, import_batch=batch).count() == 2
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=10)


def _wait(predicate, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the worker")
