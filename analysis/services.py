"""Analysis runs: request, claim-and-execute, publish. The database row is the record of truth."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import time
from pathlib import Path

import pandas as pd
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Max
from django.utils import timezone

from analysis import derive, dose, plan_services, question_services, reconcile, runner
from analysis.costs import engine as cost_engine
from analysis.costs import pricing
from analysis.costs.selectors import CatalogueNotFound, costs_for_families, cpi_series
from analysis.models import AnalysisRun, Report
from study import panels
from study.models import Family, Study
from study.roles import is_data_manager, is_researcher

log = logging.getLogger(__name__)

DEFAULT_PARAMS = {"inference": "cr2", "draws": 0, "seed": 2016, "estimator": "twfe"}


def _code_version() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
            timeout=5,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def analysis_run_request(*, study: Study, user, params: dict | None = None) -> AnalysisRun:
    """Queue a run; the task is sent only after the transaction commits."""
    if not (is_researcher(user) or is_data_manager(user) or user is None):
        raise PermissionDenied
    plan = plan_services.plan_check_for_run(study)  # refuses post-intake data without a plan
    planned = plan_services.plan_params(plan) if plan else {}
    merged = {**DEFAULT_PARAMS, **planned, **(params or {}), "price_year": study.price_year}
    if plan:
        merged["plan_version"] = plan.version
    if merged["inference"] not in {"cr2", "cr1", "cv3", "wild"}:
        raise ValidationError({"inference": f"unknown inference method '{merged['inference']}'"})
    with transaction.atomic():
        run = AnalysisRun.objects.create(study=study, params=merged, started_by=user, plan=plan)
        from analysis.tasks import analysis_run_task

        transaction.on_commit(lambda: analysis_run_task.delay(run.pk))
    return run


def build_frames(study: Study) -> dict[str, pd.DataFrame]:
    """Everything a run reads from the database, in a fixed handful of queries."""
    families = Family.objects.alive().filter(study=study)
    frames = {
        "families": panels.family_frame(families),
        "wide": panels.indicator_wide_frame(families),
        "surveys": panels.survey_frame(families),
        "involvements": panels.involvement_frame(families),
        "contacts": panels.contact_frame(families),
        "professionals": panels.professional_survey_frame(study),
    }
    try:
        # Years after the last published CPI year cannot be indexed yet: they are left out.
        last_cpi_year = max(cpi_series(), default=study.price_year)
        costs = costs_for_families(families, price_year=study.price_year, max_year=last_cpi_year)
        frames["costs"] = cost_engine.family_totals(costs)
        frames["cost_domains"] = cost_engine.domain_totals(costs)
    except (pricing.MissingCpiYearError, CatalogueNotFound) as exc:
        log.warning("costs not computed: %s", exc)
        frames["costs"] = pd.DataFrame()
        frames["cost_domains"] = pd.DataFrame()
    return frames


def fingerprint(frames: dict[str, pd.DataFrame]) -> str:
    """SHA-256 of the input frames: an unchanged rerun has the same fingerprint and numbers."""
    digest = hashlib.sha256()
    for name in sorted(frames):
        frame = frames[name]
        digest.update(name.encode())
        digest.update(pd.util.hash_pandas_object(frame.astype(str), index=False).values.tobytes())
    return digest.hexdigest()


def _progress(run_id: int, attempt: int | None = None):
    """Progress is also the heartbeat; only the attempt that holds the claim writes it."""

    def report(percent: int, note: str) -> None:
        rows = AnalysisRun.objects.filter(pk=run_id)
        if attempt is not None:
            rows = rows.filter(status=AnalysisRun.Status.RUNNING, attempts=attempt)
        rows.update(progress=percent, progress_note=note[:200], heartbeat_at=timezone.now())

    return report


def _cost_summary(frames, family_panel, study) -> dict:
    domains = frames.get("cost_domains")
    summary: dict = {"price_year": study.price_year}
    try:
        base = cost_engine.baseline_per_family(cpi_series(), study.price_year)
        summary["baseline"] = {
            "point": float(base.point),
            "low": float(base.low),
            "high": float(base.high),
        }
    except pricing.MissingCpiYearError:
        summary["baseline"] = None
    if domains is None or domains.empty:
        return summary
    arms = frames["families"][["family_id", "arm"]].rename(columns={"family_id": "family"})
    d = domains.merge(arms, on="family").rename(columns={"period": "year"})
    d = d.loc[d["complete"]]
    grouped = d.groupby(["arm", "domain"]).agg(
        mean_eur=("total_eur", "mean"), n=("family", "nunique")
    )
    summary["by_domain"] = [
        {"arm": a, "domain": dom, "mean_eur": float(r.mean_eur), "n": int(r.n)}
        for (a, dom), r in grouped.iterrows()
    ]
    return summary


def analysis_compute(*, study: Study, params: dict, progress=None) -> tuple[dict, str]:
    """Build panels, answer every question; returns (results, fingerprint)."""
    frames = build_frames(study)
    family_panel = derive.family_year_panel(
        frames["families"],
        frames["wide"],
        frames["surveys"],
        frames["involvements"],
        frames["contacts"],
        frames["costs"],
    )
    if params.get("last_wave") is not None:
        # An interim report: only the waves up to T<last_wave> (and the pre-intake years).
        family_panel = family_panel.loc[family_panel["wave"] <= int(params["last_wave"])]
    professional_panel = derive.professional_panel(
        frames["professionals"], start_year=study.start_date.year
    )
    results = runner.answer_questions(
        family_panel,
        professional_panel,
        question_services.questions_for_run(study=study),
        inference=params.get("inference", "cr2"),
        draws=int(params.get("draws") or 0),
        seed=params.get("seed"),
        progress=progress,
    )
    results["plan"] = plan_services.plan_record(
        study=study, params=params, version=params.get("plan_version")
    )
    results["attrition"] = runner.attrition_summary(frames["families"])
    results["dose"] = runner.dose_summary(family_panel)
    results["dose_response"] = dose.dose_response(
        family_panel, dose.primary_family_outcomes(results["questions"])
    )
    results["mde"] = [
        m
        for m in (
            runner.mde_for(family_panel, c)
            for c in ("cost_per_family", "satisfaction", "receives_bijstand")
        )
        if m
    ]
    results["costs"] = _cost_summary(frames, family_panel, study)
    results["n_families"] = int(frames["families"]["family_id"].nunique())
    return results, fingerprint(frames)


def analysis_run_execute(*, run_id: int) -> AnalysisRun | None:
    """Claim the run (only one worker gets it), compute, store results and render the report.

    A queued run is claimed; so is a "running" run whose worker is gone (a redelivered task after
    SIGKILL). Each claim counts an attempt; a run that has used up ANALYSIS_MAX_ATTEMPTS is marked
    failed instead of being tried again. Results are stored only by the attempt that still holds
    the claim, so a run completes once however often its task is delivered."""
    run = AnalysisRun.objects.filter(pk=run_id).first()
    if run is None or run.is_finished:
        return None
    if run.status == AnalysisRun.Status.RUNNING and not reconcile.worker_gone(run):
        return None  # a live worker has it
    as_read = AnalysisRun.objects.filter(pk=run_id, status=run.status, attempts=run.attempts)
    if run.attempts >= reconcile.max_attempts():
        if as_read.update(
            status=AnalysisRun.Status.FAILED,
            error=reconcile.gave_up_message(run.attempts),
            finished_at=timezone.now(),
            claimed_by="",
        ):
            log.error("analysis run %s given up after %s attempts", run_id, run.attempts)
        return AnalysisRun.objects.get(pk=run_id)
    attempt = run.attempts + 1
    now = timezone.now()
    if not as_read.update(
        status=AnalysisRun.Status.RUNNING,
        attempts=attempt,
        started_at=now,
        heartbeat_at=now,
        progress=1,
        claimed_by=reconcile.worker_identity(),
    ):
        return None  # another worker claimed it first
    mine = AnalysisRun.objects.filter(
        pk=run_id, status=AnalysisRun.Status.RUNNING, attempts=attempt
    )
    try:
        return _execute_claimed(run_id, attempt, mine)
    except BaseException:
        # Ended without an outcome (database unreachable, worker shutdown, a bug): give the claim
        # back, so the task's retry or the reconciler picks the run up at once rather than after
        # the heartbeat has aged out.
        try:
            mine.update(
                status=AnalysisRun.Status.QUEUED, claimed_by="", heartbeat_at=timezone.now()
            )
        except Exception:
            log.exception("analysis run %s: claim not given back; the reconciler will", run_id)
        raise


def _execute_claimed(run_id: int, attempt: int, mine) -> AnalysisRun | None:
    run = AnalysisRun.objects.select_related("study").get(pk=run_id)
    started = time.monotonic()
    try:
        results, fp = analysis_compute(
            study=run.study, params=run.params, progress=_progress(run_id, attempt)
        )
    except (OperationalError, InterfaceError):
        raise  # the database, not the run: the task retries
    except Exception as exc:  # a statistics or data error fails the run with readable words
        log.exception("analysis run %s failed", run_id)
        return _fail(run, mine, f"{exc.__class__.__name__}: {exc}")
    results["seconds"] = round(time.monotonic() - started, 2)
    run.results, run.fingerprint, run.code_version = results, fp, _code_version()
    run.status, run.progress, run.finished_at = (
        AnalysisRun.Status.SUCCEEDED,
        100,
        timezone.now(),
    )
    try:
        with transaction.atomic():
            if not mine.update(
                results=run.results,
                fingerprint=run.fingerprint,
                code_version=run.code_version,
                status=run.status,
                progress=run.progress,
                finished_at=run.finished_at,
                heartbeat_at=run.finished_at,
            ):
                log.warning(
                    "analysis run %s: attempt %s lost its claim, result dropped", run_id, attempt
                )
                return None
            report_render(run=run)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:  # the numbers are fine but the report could not be made
        log.exception("analysis run %s: report not rendered", run_id)
        return _fail(run, mine, f"report not rendered: {exc.__class__.__name__}: {exc}")
    return run


def _fail(run: AnalysisRun, mine, error: str) -> AnalysisRun:
    run.status, run.error, run.finished_at = AnalysisRun.Status.FAILED, error, timezone.now()
    run.results, run.fingerprint = {}, ""
    mine.update(status=run.status, error=run.error, finished_at=run.finished_at)
    return run


def report_render(*, run: AnalysisRun) -> Report:
    """Render (or re-render) the draft report of a successful run."""
    from analysis.reporting import render

    existing = Report.objects.filter(run=run).first()
    if existing and existing.published:
        return existing
    version = (
        existing.version
        if existing
        else (Report.objects.filter(study=run.study).aggregate(v=Max("version"))["v"] or 0) + 1
    )
    previous = (
        Report.objects.filter(study=run.study, published=True)
        .exclude(run=run)
        .select_related("run")
        .order_by("-version")
        .first()
    )
    html = render.report_html(run=run, version=version, previous=previous.run if previous else None)
    pdf = render.report_pdf(run=run, version=version)
    report = existing or Report(run=run, study=run.study, version=version)
    report.html, report.pdf = html, pdf
    report.save()
    return report


@transaction.atomic
def report_publish(*, report: Report, user) -> Report:
    if not (is_researcher(user) or is_data_manager(user)):
        raise PermissionDenied
    if report.published:
        return report
    report.published, report.published_at, report.published_by = True, timezone.now(), user
    Report.objects.filter(pk=report.pk).update(
        published=True, published_at=report.published_at, published_by=user
    )
    return report
