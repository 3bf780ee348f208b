"""Analysis runs: request, claim-and-execute, compute. The database row is the record of truth.

A run is a job of tracker/jobs.py (see analysis/runs/job.py): requesting it enqueues its task by
name after the transaction commits; executing it claims the row first, so however often the task
is delivered, the run completes once.
"""

from __future__ import annotations

import logging
import subprocess
import time
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from analysis.costs import engine as cost_engine
from analysis.costs import pricing
from analysis.costs.selectors import cpi_series
from analysis.did.inference import DEFAULT_METHODS
from analysis.effects import derive, designs, dose, estimate, run_diagnostics, summaries
from analysis.effects.plan import multiplicity_of
from analysis.models import AnalysisPlan, AnalysisRun
from analysis.plans import plan_services, question_services
from analysis.runs import selectors
from analysis.runs.frames import build_frames, fingerprint, instrument_definitions
from analysis.runs.job import RUN_JOB
from analysis.runs.reconcile import reconcile_runs
from analysis.runs.report_services import report_render
from study import access
from study.models import Family, Study
from tracker import jobs

log = logging.getLogger(__name__)

# No design here: a run follows its plan's (analysis/effects/designs.py design_from_params: an
# old plan's "estimator: twfe" is the calendar design, anything else the aligned one).
DEFAULT_PARAMS = {"inference": "cr2", "draws": 0, "seed": 2016}


def _code_version() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
            timeout=5,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


class RunAlreadyActive(ValidationError):
    """A run of the study is already queued or running: one at a time per study."""

    def __init__(self, run: AnalysisRun) -> None:
        self.run = run
        super().__init__(
            _(
                "Analysis %(run)s of this study is still %(status)s: wait until it has "
                "finished before starting another one."
            )
            % {"run": run.pk, "status": run.get_status_display()},
            code="run_active",
        )


def _resume_stalled(study: Study) -> None:
    """Put right the runs of ``study`` whose worker is gone or whose message was lost (the
    reconciler's pass, tracker.jobs), so that a stalled run is picked up again rather than
    blocking the study for ever where no beat runs (the embedded default)."""
    if selectors.stalled_runs(study):
        reconcile_runs()


def analysis_run_request(*, study: Study, user, params: dict | None = None) -> AnalysisRun:
    """Queue a run; the task is sent only after the transaction commits.

    One run per study at a time: while a run of the study is queued or running another request
    is refused (:class:`RunAlreadyActive`, a ValidationError). The study row is locked while
    checking, so two requests at once give one run."""
    if user is not None and not access.has_right(user, study, access.Right.ANALYSE):
        raise PermissionDenied
    _resume_stalled(study)
    plan = plan_services.plan_check_for_run(study)  # refuses post-intake data without a plan
    planned = plan_services.plan_params(plan) if plan else {}
    merged = {**DEFAULT_PARAMS, **planned, **(params or {}), "price_year": study.price_year}
    if plan:
        merged["plan_version"] = plan.version
    if merged["inference"] not in DEFAULT_METHODS:
        raise ValidationError({"inference": f"unknown inference method '{merged['inference']}'"})
    with transaction.atomic():
        Study.objects.select_for_update().filter(pk=study.pk).first()  # one request at a time
        active = selectors.active_run(study)
        if active is not None:
            raise RunAlreadyActive(active)
        run = AnalysisRun.objects.create(study=study, params=merged, started_by=user, plan=plan)
        jobs.enqueue_on_commit(RUN_JOB.task_name, run.pk)
    return run


def _cost_baseline(price_year: int) -> dict | None:
    """The baseline report's cost per family, indexed to the study's price year (None when the
    CPI series does not reach it)."""
    try:
        base = cost_engine.baseline_per_family(cpi_series(), price_year)
    except pricing.MissingCpiYearError:
        return None
    return {"point": float(base.point), "low": float(base.low), "high": float(base.high)}


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
        frames.get("instrument_scores"),
        instrument_definitions=instrument_definitions(study),
    )
    if params.get("last_wave") is not None:
        # An interim report: only the waves up to T<last_wave> (and the pre-intake years).
        family_panel = family_panel.loc[family_panel["wave"] <= int(params["last_wave"])]
    professional_panel = derive.professional_panel(
        frames["professionals"], start_year=study.start_date.year
    )
    results = estimate.answer_questions(
        family_panel,
        professional_panel,
        question_services.questions_for_run(study=study),
        design=designs.design_from_params(params),
        multiplicity=multiplicity_of(params),
        inference=params.get("inference", "cr2"),
        draws=int(params.get("draws") or 0),
        seed=params.get("seed"),
        progress=progress,
    )
    results["plan"] = plan_services.plan_record(
        study=study, params=params, version=params.get("plan_version")
    )
    primary = dose.primary_family_outcomes(results["questions"])
    results["attrition"] = summaries.attrition_summary(frames["families"])
    overrides = frames.get("eligibility_overrides")
    if overrides is not None:
        results["eligibility_overrides"] = [
            {"arm": str(r.arm), "n": int(r.n)} for r in overrides.itertuples()
        ]
    results["dose"] = summaries.dose_summary(family_panel)
    results["dose_response"] = dose.dose_response(family_panel, primary)
    results["costs"] = summaries.cost_summary(
        frames.get("cost_domains"),
        frames["families"],
        price_year=study.price_year,
        baseline=_cost_baseline(study.price_year),
    )
    results["n_families"] = int(frames["families"]["family_id"].nunique())
    default = getattr(settings, "ANALYSIS_DIAGNOSTICS", True)
    if run_diagnostics.diagnostics_wanted(params, default):
        if progress:
            progress(92, "diagnostics")
        matched = study.allocation_method == Study.AllocationMethod.MATCHED
        cells_panel, ri_note = _with_strata(family_panel, study)
        run_diagnostics.add_diagnostics(
            cells_panel,
            results,
            ri_note=ri_note,
            params=params,
            randomised=study.allocation_method == Study.AllocationMethod.RANDOMISED,
            chronicity_rule=study.eligibility_rule == Study.EligibilityRule.MPG,
            planned_mde=_planned_mde(study, params.get("plan_version")),
            families=_with_match_sets(frames["families"], study) if matched else frames["families"],
            match_variables=study.match_variables if matched else None,
            candidates=selectors.matching_candidates_frame(study) if matched else None,
        )
    else:
        results["diagnostics"] = {"computed": False, "reason": "uitgeschakeld voor deze run"}
        for q in results.get("questions", []):
            for o in q["outcomes"]:
                o["primary"] = bool(o.get("primary"))
    return results, fingerprint(frames)


def _planned_mde(study: Study, version: int | None) -> dict | None:
    """The pre-registered MDEs of the plan version the run follows (as plan_record: a run
    without a recorded version follows the latest frozen one; None without a plan)."""
    plan = AnalysisPlan.objects.filter(study=study, version=version).first() if version else None
    plan = plan or plan_services.plan_current(study)
    return (plan.content.get("planned_mde") or None) if plan else None


def _match_sets(study: Study) -> dict[int, str]:
    """Family id -> the matched pair or set recorded at enrolment (matched studies)."""
    return dict(
        Family.objects.alive()
        .filter(study=study)
        .exclude(match_set="")
        .values_list("id", "match_set")
    )


def _with_match_sets(families, study: Study):
    return families.assign(match_set=families["family_id"].map(_match_sets(study)).fillna(""))


def _with_strata(family_panel, study: Study):
    """The family panel with each family's allocation stratum and block (randomisation
    inference permutes arms within intake year x block, or x stratum where the blocks are not
    known) and, in a matched study, its matched pair or set (within intake year x pair); and
    the note on the restriction. Unchanged when the study recorded neither."""
    strata, blocks, note = selectors.allocation_cells(study)
    if strata:
        family_panel = family_panel.assign(
            **{run_diagnostics.STRATUM: family_panel["family_id"].map(strata).fillna("")}
        )
    if blocks:
        # A family without an allocation record is its own cell (its label is never permuted).
        ids = family_panel["family_id"]
        family_panel = family_panel.assign(
            **{
                run_diagnostics.ALLOCATION_BLOCK: ids.map(blocks).fillna(
                    "unallocated-" + ids.astype(str)
                )
            }
        )
    if study.allocation_method == Study.AllocationMethod.MATCHED:
        pairs = _match_sets(study)
        if pairs:
            # A family outside any recorded pair is its own cell (its label is never permuted).
            ids = family_panel["family_id"]
            family_panel = family_panel.assign(
                **{run_diagnostics.BLOCK: ids.map(pairs).fillna("unpaired-" + ids.astype(str))}
            )
    return family_panel, note


def _progress(claim: jobs.Claim):
    """Progress is also the heartbeat; only the attempt that holds the claim writes it."""

    def report(percent: int, note: str) -> None:
        claim.heartbeat(progress=percent, progress_note=note[:200])

    return report


def analysis_run_execute(*, run_id: int) -> AnalysisRun | None:
    """Claim the run (only one worker gets it), compute, store results and render the report.

    A queued run is claimed; so is a "running" run whose worker is gone (a redelivered task after
    SIGKILL). Each claim counts an attempt; a run that has used up ANALYSIS_MAX_ATTEMPTS is marked
    failed instead of being tried again. Results are stored only by the attempt that still holds
    the claim, so a run completes once however often its task is delivered."""
    # Ended without an outcome (database unreachable, worker shutdown, a bug): the claim is given
    # back, so the task's retry or the reconciler picks the run up at once.
    return jobs.job_execute(
        RUN_JOB,
        job_id=run_id,
        work=_execute_claimed,
        gave_up=lambda pk: AnalysisRun.objects.get(pk=pk),
    )


def _execute_claimed(claim: jobs.Claim) -> AnalysisRun | None:
    run = AnalysisRun.objects.select_related("study").get(pk=claim.job_id)
    started = time.monotonic()
    try:
        results, fp = analysis_compute(
            study=run.study, params=run.params, progress=_progress(claim)
        )
    except (OperationalError, InterfaceError):
        raise  # the database, not the run: the task retries
    except Exception as exc:  # a statistics or data error fails the run with readable words
        log.exception("analysis run %s failed", run.pk)
        return _fail(run, claim, f"{exc.__class__.__name__}: {exc}")
    results["seconds"] = round(time.monotonic() - started, 2)
    run.results, run.fingerprint, run.code_version = results, fp, _code_version()
    run.status, run.progress, run.finished_at = (
        AnalysisRun.Status.SUCCEEDED,
        100,
        timezone.now(),
    )
    try:
        with transaction.atomic():
            if not claim.finish(
                results=run.results,
                fingerprint=run.fingerprint,
                code_version=run.code_version,
                status=run.status,
                progress=run.progress,
                finished_at=run.finished_at,
                heartbeat_at=run.finished_at,
            ):
                log.warning(
                    "analysis run %s: attempt %s lost its claim, result dropped",
                    run.pk,
                    claim.attempt,
                )
                return None
            report_render(run=run)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:  # the numbers are fine but the report could not be made
        log.exception("analysis run %s: report not rendered", run.pk)
        return _fail(run, claim, f"report not rendered: {exc.__class__.__name__}: {exc}")
    return run


def _fail(run: AnalysisRun, claim: jobs.Claim, error: str) -> AnalysisRun:
    run.status, run.error, run.finished_at = AnalysisRun.Status.FAILED, error, timezone.now()
    run.results, run.fingerprint = {}, ""
    claim.finish(status=run.status, error=run.error, finished_at=run.finished_at)
    return run
