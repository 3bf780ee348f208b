"""One reconcile pass for every kind of job: the beat task and `manage.py reconcile_jobs` cover
analysis runs, import dry runs and applies, monitor jobs, plan freezes and report typesetting
through tracker.jobs.jobs_reconcile."""

import json
import socket
import subprocess
import sys

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command

from analysis.models import AnalysisRun, PlanFreezeJob, Report, ReportTypesetJob
from analysis.monitor.models import MonitorJob
from study.models import ImportBatch
from tracker.job_kinds import JOB_KINDS, jobs_reconcile_all

JOB_FIELDS = {"status", "attempts", "claimed_by", "heartbeat_at"}


@pytest.fixture
def dead_claimant():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}:1"


def test_every_model_with_job_fields_is_a_kind_of_job():
    with_job_fields = {
        model
        for model in apps.get_models()
        if JOB_FIELDS <= {f.name for f in model._meta.concrete_fields}
        and not model.__name__.startswith("Historical")
    }
    assert with_job_fields == {spec.model for spec in JOB_KINDS.values()}
    assert {spec.task_name for spec in JOB_KINDS.values()} == {
        "analysis.tasks.analysis_run_task",
        "study.tasks.registry_import_validate_task",
        "study.tasks.registry_import_apply_task",
        "analysis.tasks.monitor_job_task",
        "analysis.tasks.plan_freeze_task",
        "analysis.tasks.report_typeset_task",
    }


def test_the_beat_schedule_runs_one_reconcile_task_for_every_kind():
    from tracker.celery import app

    app.loader.import_default_modules()
    tasks = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert tasks.count("tracker.tasks.reconcile_jobs_task") == 1
    assert not {t for t in tasks if "reconcile" in t} - {"tracker.tasks.reconcile_jobs_task"}
    assert set(tasks) <= set(app.tasks)


@pytest.fixture
def dead_jobs(study, dead_claimant):
    """One job of each kind, left running by a dead worker with no attempt left."""
    dead = {"status": "running", "claimed_by": dead_claimant}
    run = AnalysisRun.objects.create(study=study, attempts=settings.ANALYSIS_MAX_ATTEMPTS, **dead)
    batch = {"study": study, "attempts": settings.IMPORT_MAX_ATTEMPTS, "claimed_by": dead_claimant}
    checking = ImportBatch.objects.create(filename="a.csv", status="validating", **batch)
    importing = ImportBatch.objects.create(filename="b.csv", status="applying", **batch)
    monitor = MonitorJob.objects.create(attempts=settings.MONITOR_JOB_MAX_ATTEMPTS, **dead)
    last = {"attempts": settings.ANALYSIS_MAX_ATTEMPTS, **dead}
    freeze = PlanFreezeJob.objects.create(study=study, **last)
    done = AnalysisRun.objects.create(study=study, status="succeeded")
    report = Report.objects.create(run=done, study=study, version=1, html="<p>r</p>")
    typeset = ReportTypesetJob.objects.create(report=report, **last)
    return {
        "analysis-run": run.pk,
        "import-dry-run": checking.pk,
        "import-apply": importing.pk,
        "monitor-job": monitor.pk,
        "plan-freeze": freeze.pk,
        "report-typeset": typeset.pk,
    }


@pytest.mark.django_db
def test_the_beat_task_reconciles_every_kind_of_job(dead_jobs):
    from tracker.tasks import reconcile_jobs_task

    done = reconcile_jobs_task.delay().get()
    assert {kind: outcome["failed"] for kind, outcome in done.items()} == {
        kind: [pk] for kind, pk in dead_jobs.items()
    }
    assert AnalysisRun.objects.get(pk=dead_jobs["analysis-run"]).status == "failed"
    assert set(ImportBatch.objects.values_list("status", flat=True)) == {"failed"}
    assert MonitorJob.objects.get(pk=dead_jobs["monitor-job"]).status == "failed"
    assert PlanFreezeJob.objects.get(pk=dead_jobs["plan-freeze"]).status == "failed"
    typeset = ReportTypesetJob.objects.select_related("report").get(pk=dead_jobs["report-typeset"])
    assert typeset.status == "failed" and typeset.report.pdf_error == typeset.error != ""


@pytest.mark.django_db
def test_the_command_reconciles_every_kind_or_the_kinds_asked_for(dead_jobs, capsys):
    call_command("reconcile_jobs", "--kind", "monitor-job", "--json")
    assert json.loads(capsys.readouterr().out) == {
        "monitor-job": {"failed": [dead_jobs["monitor-job"]], "requeued": [], "resumed": []}
    }
    assert AnalysisRun.objects.get(pk=dead_jobs["analysis-run"]).status == "running"
    call_command("reconcile_jobs")
    out = capsys.readouterr().out
    assert "analysis-run: resumed 0 whose worker was gone, failed 1 out of attempts" in out
    assert "import-apply: resumed 0 whose worker was gone, failed 1" in out
    assert "monitor-job: resumed 0 whose worker was gone, failed 0" in out


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown kind of job: reports"):
        jobs_reconcile_all(kinds=["reports"])
    with pytest.raises(CommandError):
        call_command("reconcile_jobs", "--kind", "reports")
