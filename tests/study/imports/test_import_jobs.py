"""The dry run and the apply of a registry import as jobs of tracker/jobs.py: each phase is
claimed exclusively (two deliveries, one dry run; one import), a taken-over attempt writes
nothing, the reconciler covers both phases, and the migration maps existing batches."""

from __future__ import annotations

import importlib
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from study.imports import workflow
from study.imports.job import APPLY_JOB, DRY_RUN_JOB
from study.models import ImportBatch, IndicatorValue
from tests.factories import make_family
from tracker import jobs
from tracker.job_kinds import jobs_reconcile_all

KEY = "a" * 64


@pytest.fixture
def dead_claimant():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}:1"


@pytest.fixture
def family(study, researcher):
    return make_family(study, user=researcher, linkage_key=KEY)


def _uploaded(family, researcher) -> ImportBatch:
    return workflow.registry_import_upload(
        study=family.study,
        user=researcher,
        filename="x.csv",
        content=f"pseudonym,year,bijstand\n{family.pseudonym},2020,1\n".encode(),
        enqueue=False,
    )


def _during(monkeypatch, module, name, side_step):
    """Replace module.name by a wrapper that, on its first call, runs ``side_step()`` before the
    original; returns the list that receives the side step's result."""
    original = getattr(module, name)
    seen: list = []
    calls: list[int] = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:  # the first call only (the side step may call it again)
            seen.append(side_step())
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return seen


@pytest.mark.django_db
def test_two_deliveries_of_the_dry_run_task_give_one_dry_run(family, researcher, monkeypatch):
    batch = _uploaded(family, researcher)
    # The second delivery arrives while the first is checking the values.
    second = _during(
        monkeypatch,
        workflow,
        "_check",  # the check of the values (set-based or cell by cell)
        lambda: workflow.registry_import_validate(batch_id=batch.pk),
    )
    done = workflow.registry_import_validate(batch_id=batch.pk)
    assert second == [None]  # the second delivery found the batch held and did nothing
    assert done.status == ImportBatch.Status.VALIDATED and done.attempts == 1
    assert done.claimed_by == "" and done.summary["new"] == 1


@pytest.mark.django_db
def test_a_dry_run_claim_is_exclusive(family, researcher):
    batch = _uploaded(family, researcher)
    first = jobs.job_claim(DRY_RUN_JOB, job_id=batch.pk)
    assert isinstance(first, jobs.Claim) and first.attempt == 1
    assert jobs.job_claim(DRY_RUN_JOB, job_id=batch.pk) is None  # a live worker holds it
    assert jobs.job_claim(APPLY_JOB, job_id=batch.pk) is None  # not the apply's to take
    batch.refresh_from_db()
    assert (batch.status, batch.attempts, batch.claimed_by) == (
        "validating",
        1,
        jobs.worker_identity(),
    )


@pytest.mark.django_db
def test_a_dry_run_taken_over_from_a_worker_taken_for_dead_drops_its_outcome(
    family, researcher, monkeypatch, dead_claimant
):
    batch = _uploaded(family, researcher)

    def taken_over():
        # The first attempt's worker looks dead: a redelivery takes the batch and finishes it.
        ImportBatch.objects.filter(pk=batch.pk).update(claimed_by=dead_claimant)
        return workflow.registry_import_validate(batch_id=batch.pk)

    second = _during(monkeypatch, workflow, "_check", taken_over)
    workflow.registry_import_validate(batch_id=batch.pk)
    assert second[0].status == ImportBatch.Status.VALIDATED and second[0].attempts == 2
    stored = ImportBatch.objects.get(pk=batch.pk)
    assert (stored.status, stored.attempts, stored.validated_at) == (
        "validated",
        2,
        second[0].validated_at,  # the first attempt's later outcome was not written
    )


@pytest.mark.django_db
def test_the_apply_is_queued_as_a_job_of_its_own_and_claimed_once(family, researcher, monkeypatch):
    batch = workflow.registry_import_validate(batch_id=_uploaded(family, researcher).pk)
    assert batch.attempts == 1
    workflow.registry_import_apply_request(batch=batch, user=researcher, enqueue=False)
    batch.refresh_from_db()
    assert (batch.status, batch.attempts, batch.is_applying) == ("apply_queued", 0, True)
    second = _during(
        monkeypatch,
        workflow,
        "_write",  # the writer on both paths (COPY on PostgreSQL, the values service elsewhere)
        lambda: workflow.registry_import_apply(batch_id=batch.pk),
    )
    done = workflow.registry_import_apply(batch_id=batch.pk)
    assert second == [None]  # held by this worker: the second delivery wrote nothing
    assert (done.status, done.attempts, done.created) == ("applied", 1, 1)
    assert IndicatorValue.objects.filter(wave__family=family).count() == 1


@pytest.mark.django_db
def test_an_apply_taken_over_before_it_writes_writes_nothing(family, researcher, dead_claimant):
    batch = workflow.registry_import_validate(batch_id=_uploaded(family, researcher).pk)
    workflow.registry_import_apply_request(batch=batch, user=researcher, enqueue=False)
    first = jobs.job_claim(APPLY_JOB, job_id=batch.pk)
    # Between its claim and its transaction another worker takes the batch (this one looked
    # dead; a takeover during the transaction waits for the row lock the apply holds).
    ImportBatch.objects.filter(pk=batch.pk).update(claimed_by=dead_claimant)
    assert jobs.job_claim(APPLY_JOB, job_id=batch.pk).attempt == 2
    assert workflow._apply(first) is None
    assert not IndicatorValue.objects.filter(wave__family=family).exists()
    stored = ImportBatch.objects.get(pk=batch.pk)
    assert (stored.status, stored.attempts, stored.applied_at) == ("applying", 2, None)


@pytest.mark.django_db
def test_the_reconciler_resends_a_lost_apply_and_resumes_one_whose_worker_died(
    family, researcher, dead_claimant, django_capture_on_commit_callbacks
):
    lost = workflow.registry_import_validate(batch_id=_uploaded(family, researcher).pk)
    dead = workflow.registry_import_validate(batch_id=_uploaded(family, researcher).pk)
    for batch in (lost, dead):
        workflow.registry_import_apply_request(batch=batch, user=researcher, enqueue=False)
    old = timezone.now() - timedelta(hours=1)
    ImportBatch.objects.filter(pk=lost.pk).update(heartbeat_at=old)  # Redis lost the message
    ImportBatch.objects.filter(pk=dead.pk).update(
        status="applying", attempts=1, claimed_by=dead_claimant
    )
    with django_capture_on_commit_callbacks(execute=True):
        outcome = jobs_reconcile_all(kinds=["import-apply"])
    assert outcome["import-apply"].as_dict() == {
        "resumed": [dead.pk],
        "requeued": [lost.pk],
        "failed": [],
    }
    statuses = dict(ImportBatch.objects.values_list("pk", "status"))
    assert statuses == {lost.pk: "applied", dead.pk: "applied"}
    assert ImportBatch.objects.get(pk=dead.pk).attempts == 2
    # the same file twice: the second import found every value unchanged
    assert IndicatorValue.objects.filter(wave__family=family).count() == 1


@pytest.mark.django_db
def test_an_apply_out_of_attempts_is_failed_with_a_readable_message(
    family, researcher, settings, dead_claimant
):
    settings.IMPORT_MAX_ATTEMPTS = 2
    batch = workflow.registry_import_validate(batch_id=_uploaded(family, researcher).pk)
    workflow.registry_import_apply_request(batch=batch, user=researcher, enqueue=False)
    ImportBatch.objects.filter(pk=batch.pk).update(
        status="applying", attempts=2, claimed_by=dead_claimant
    )
    assert workflow.registry_import_apply(batch_id=batch.pk) is None
    batch.refresh_from_db()
    assert batch.status == "failed" and batch.claimed_by == ""
    assert batch.errors[0]["message"].startswith("Stopped after 2 attempts")
    assert not IndicatorValue.objects.filter(wave__family=family).exists()


@pytest.mark.django_db
def test_the_migration_moves_requested_imports_to_their_queued_status(study):
    """The data step of migration 0008, run on batches as the code before it left them."""
    migration = importlib.import_module("study.migrations.0008_import_batch_jobs")
    rows = {
        "requested": ("applying", 0),  # waiting for the import job: its attempt not counted yet
        "importing": ("applying", 1),  # a worker had started
        "checking": ("validating", 1),
        "checked": ("validated", 1),
    }
    for name, (status, attempts) in rows.items():
        ImportBatch.objects.create(study=study, filename=name, status=status, attempts=attempts)
    migration.queued_applies_get_their_status(django_apps, None)
    assert sorted(ImportBatch.objects.values_list("filename", "status", "claimed_by")) == [
        ("checked", "validated", ""),
        ("checking", "validating", ""),
        ("importing", "applying", ""),
        ("requested", "apply_queued", ""),
    ]
    migration.back_to_applying(django_apps, None)
    assert dict(ImportBatch.objects.values_list("filename", "status"))["requested"] == "applying"
