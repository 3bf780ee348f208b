"""The pre-registered analysis plan: freeze once, revise as a new version with a reason.

Freezing is two steps, because the pre-registered MDE of each primary outcome is simulated
(seconds per outcome): the request (``analysis_plan_freeze_request``,
``analysis_plan_revise_request``) checks and records what is to be frozen as a PlanFreezeJob and
queues it (tracker/jobs.py, analysis/plans/job.py); the job (``analysis_plan_freeze_execute``)
computes the MDEs with progress per outcome and only then writes the plan version, with its MDEs,
in the transaction that marks the job succeeded. Until then no plan is frozen; a failure leaves
it unfrozen with a readable error on the job. One freeze per study at a time.
``analysis_plan_freeze`` and ``analysis_plan_revise`` do both steps at once, in this process
(commands, the demo, scripts).
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from analysis.did.inference import DEFAULT_METHODS
from analysis.effects import designs
from analysis.effects import plan as plan_core
from analysis.models import AnalysisPlan, PlanFreezeJob
from analysis.plans import plan_power, selectors
from analysis.plans.job import PLAN_FREEZE_JOB, PROGRESS_CLAIMED, PROGRESS_SIMULATED
from analysis.plans.question_services import question_dicts
from analysis.plans.selectors import may_edit_questions, plan_current
from study.models import Study, Wave
from tracker import jobs

log = logging.getLogger(__name__)

#: The analysis parameters a plan starts from when a researcher freezes it.
PLAN_DEFAULTS = {
    "design": designs.DEFAULT_DESIGN,
    "multiplicity": designs.DEFAULT_MULTIPLICITY,
    "inference": "cr2",
    "draws": 0,
    "seed": 2016,
    "honest": dict(plan_core.HONEST_DEFAULTS),
}
#: The parameters the freeze page and a revision may set.
SETTABLE = (
    "design",
    "multiplicity",
    "inference",
    "draws",
    "seed",
    "covariates",
    "clustering",
    "alpha",
    "honest",
    "power",
)


def study_has_post_intake_data(study) -> bool:
    """True once any family of the study has a completed wave after intake (T1 or later)."""
    return Wave.objects.filter(
        family__study=study,
        family__is_deleted=False,
        is_deleted=False,
        index__gte=1,
        status=Wave.Status.COMPLETED,
    ).exists()


def _check(user, study) -> None:
    if user is None or not may_edit_questions(user, study):
        raise PermissionDenied


def _write(*, study, user, content: dict, reason: str) -> AnalysisPlan:
    version = (AnalysisPlan.objects.filter(study=study).aggregate(v=Max("version"))["v"] or 0) + 1
    try:
        with transaction.atomic():
            return AnalysisPlan.objects.create(
                study=study,
                version=version,
                frozen_by=user,
                content=content,
                reason=reason,
                sha256=plan_core.content_hash(content),
            )
    except IntegrityError:
        raise ValidationError(
            _("another researcher changed the plan at the same moment; reload and try again")
        ) from None


class PlanFreezeActive(ValidationError):
    """A freeze of the study's plan is already queued or running: one at a time per study."""

    def __init__(self, job: PlanFreezeJob) -> None:
        self.job = job
        super().__init__(
            _(
                "The analysis plan of this study is being frozen (request %(job)s is "
                "%(status)s): wait until it has finished."
            )
            % {"job": job.pk, "status": job.get_status_display()},
            code="freeze_active",
        )


def _already_frozen() -> ValidationError:
    return ValidationError(
        _("the analysis plan is already frozen; a change is a new version with a reason"),
        code="frozen",
    )


def _changed_meanwhile() -> ValidationError:
    return ValidationError(
        _("another version of the plan was frozen meanwhile; reload and try again"),
        code="changed",
    )


def _resume_stalled(study) -> None:
    """A freeze whose worker is gone or whose message was lost is put right (the reconciler's
    pass) rather than blocking the study for ever where no beat runs (the embedded default)."""
    if selectors.freeze_stalled(study):
        jobs.jobs_reconcile(PLAN_FREEZE_JOB)


def _request(
    *,
    study,
    user,
    kind: str,
    content: dict,
    previous: AnalysisPlan | None = None,
    recompute: bool = False,
    reason: str = "",
    send: bool = True,
) -> PlanFreezeJob:
    """Record a freeze and queue its job (``send``: the task after commit; else the caller
    executes it). The study row is locked while checking, so two requests at once give one job."""
    _resume_stalled(study)
    with transaction.atomic():
        Study.objects.select_for_update().filter(pk=study.pk).first()
        active = selectors.freeze_active(study)
        if active is not None:
            raise PlanFreezeActive(active)
        current = plan_current(study)
        if kind == PlanFreezeJob.Kind.FREEZE and current is not None:
            raise _already_frozen()
        if kind == PlanFreezeJob.Kind.REVISE and current != previous:
            raise _changed_meanwhile()
        job = PlanFreezeJob.objects.create(
            study=study,
            kind=kind,
            requested_by=user,
            content=content,
            previous=previous,
            recompute=recompute,
            reason=reason,
            heartbeat_at=timezone.now(),
        )
        if send:
            jobs.enqueue_on_commit(PLAN_FREEZE_JOB.task_name, job.pk)
    return job


def analysis_plan_freeze_request(
    *, study, user, params: dict | None = None, send: bool = True
) -> PlanFreezeJob:
    """Ask to freeze version 1 of the study's plan from its active questions and the run
    settings ``params`` (SETTABLE; the rest from PLAN_DEFAULTS). Checked and recorded now; the
    job adds the pre-registered MDE of each primary outcome (analysis/plans/plan_power.py) and
    freezes. Refused while another freeze of the study is queued or running
    (:class:`PlanFreezeActive`) and once a plan is frozen."""
    _check(user, study)
    if plan_current(study) is not None:
        raise _already_frozen()
    settings = dict(params or {})
    _validate(settings)
    content = plan_core.plan_content(question_dicts(study=study), {**PLAN_DEFAULTS, **settings})
    return _request(
        study=study, user=user, kind=PlanFreezeJob.Kind.FREEZE, content=content, send=send
    )


def analysis_plan_freeze(*, study, user, params: dict | None = None) -> AnalysisPlan:
    """Freeze version 1 at once, in this process: the request and its job one after the other
    (commands, the demo, scripts; pages and the API queue the job). ValidationError with the
    job's error when it fails."""
    job = analysis_plan_freeze_request(study=study, user=user, params=params, send=False)
    return _frozen_here(job)


def _frozen_here(job: PlanFreezeJob) -> AnalysisPlan:
    analysis_plan_freeze_execute(job_id=job.pk)
    job.refresh_from_db()
    if job.status != PlanFreezeJob.Status.SUCCEEDED or job.plan is None:
        raise ValidationError(job.error or _("the analysis plan was not frozen"))
    return job.plan


def _validate(changes: dict) -> None:
    """Refuse unknown keys and values a run cannot follow (the freeze page and revisions)."""
    unknown = sorted(set(changes) - set(SETTABLE))
    if unknown:
        raise ValidationError(
            {
                "changes": _("cannot change %(keys)s; allowed: %(allowed)s")
                % {"keys": ", ".join(unknown), "allowed": ", ".join(sorted(SETTABLE))}
            }
        )
    if "inference" in changes and changes["inference"] not in DEFAULT_METHODS:
        raise ValidationError(
            {"inference": _("unknown inference method '%(m)s'") % {"m": changes["inference"]}}
        )
    if "design" in changes and changes["design"] not in designs.DESIGNS:
        raise ValidationError(
            {"design": _("design must be one of %(names)s") % {"names": ", ".join(designs.DESIGNS)}}
        )
    if "multiplicity" in changes and changes["multiplicity"] not in designs.MULTIPLICITY:
        raise ValidationError(
            {
                "multiplicity": _("multiplicity must be one of %(names)s")
                % {"names": ", ".join(designs.MULTIPLICITY)}
            }
        )
    if "draws" in changes and (not isinstance(changes["draws"], int) or changes["draws"] < 0):
        raise ValidationError({"draws": _("bootstrap draws must be a whole number, 0 or more")})
    if "seed" in changes and not isinstance(changes["seed"], int):
        raise ValidationError({"seed": _("the seed must be a whole number")})
    _validate_settings(changes)


def _validate_settings(changes: dict) -> None:
    """The HonestDiD and power settings, normalised in place."""
    for key, check in (("honest", plan_core.honest_settings), ("power", plan_core.power_settings)):
        if key in changes:
            try:
                changes[key] = check(changes[key])
            except (TypeError, ValueError) as exc:
                raise ValidationError({key: str(exc)}) from None


def analysis_plan_revise_request(
    *, study, user, changes: dict, reason: str, send: bool = True
) -> PlanFreezeJob:
    """Ask for a new plan version: the study's current questions plus ``changes`` to the
    parameters (SETTABLE: design, multiplicity, inference, draws, seed, covariates, clustering,
    alpha, honest, power). The old version stays, and so do its pre-registered MDEs unless the
    power settings change (then the job simulates them again from the pre-intake rows only); a
    new primary outcome gets its own. A plan frozen with the calendar-time ``estimator: twfe``
    moves to the aligned design only by a revision that says ``design: aligned`` (with its
    reason). Checked and recorded now, frozen by the job (as a first freeze)."""
    _check(user, study)
    current = plan_current(study)
    if current is None:
        raise ValidationError(_("there is no frozen plan to revise yet; freeze it first"))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("a new plan version needs a reason")})
    changes = dict(changes)
    for key in ("honest", "power"):  # a partial change keeps the plan's other settings
        if isinstance(changes.get(key), dict) and isinstance(current.content.get(key), dict):
            changes[key] = {**current.content[key], **changes[key]}
    _validate(changes)
    params = {**current.content, **changes}
    if "design" in changes:
        params.pop("estimator", None)
    content = plan_core.plan_content(question_dicts(study=study), params)
    recompute = "power" in changes
    previous = current.content
    if not plan_power.simulation_needed(content=content, previous=previous, recompute=recompute):
        # Nothing to simulate: the version is known now, so "nothing differs" is said at once.
        final = plan_power.with_planned_mde(
            study=study, content=content, previous=previous, recompute=recompute
        )
        if plan_core.content_hash(final) == current.sha256:
            raise _nothing_differs()
    return _request(
        study=study,
        user=user,
        kind=PlanFreezeJob.Kind.REVISE,
        content=content,
        previous=current,
        recompute=recompute,
        reason=reason.strip(),
        send=send,
    )


def analysis_plan_revise(*, study, user, changes: dict, reason: str) -> AnalysisPlan:
    """A new plan version at once, in this process (see :func:`analysis_plan_revise_request`)."""
    job = analysis_plan_revise_request(
        study=study, user=user, changes=changes, reason=reason, send=False
    )
    return _frozen_here(job)


def _nothing_differs() -> ValidationError:
    return ValidationError(_("nothing differs from the current plan version"), code="same")


# --- the job ---------------------------------------------------------------------------------


class _ClaimLost(Exception):
    """The attempt lost its claim before writing: the transaction is rolled back."""


def _progress(claim: jobs.Claim):
    """Progress per outcome, also the heartbeat (only the attempt holding the claim writes)."""

    def report(done: int, total: int, code: str) -> None:
        span = PROGRESS_SIMULATED - PROGRESS_CLAIMED
        percent = PROGRESS_CLAIMED + span * done // max(total, 1)
        if code:
            note = _("minimum detectable effect %(i)s of %(n)s: %(outcome)s") % {
                "i": done + 1,
                "n": total,
                "outcome": code,
            }
        else:
            note = _("freezing the plan")
        claim.heartbeat(progress=percent, progress_note=note[:200])

    return report


def analysis_plan_freeze_execute(*, job_id: int) -> PlanFreezeJob | None:
    """Claim the freeze (only one worker gets it), simulate the MDEs, then freeze the plan
    version with them atomically. Only the attempt that still holds the claim writes the plan,
    so a plan is frozen once however often the task is delivered. A failure (the simulation
    raised, or another version was frozen meanwhile) fails the job with a readable message and
    freezes nothing."""
    return jobs.job_execute(
        PLAN_FREEZE_JOB,
        job_id=job_id,
        work=_freeze_claimed,
        gave_up=lambda pk: PlanFreezeJob.objects.get(pk=pk),
    )


def _freeze_claimed(claim: jobs.Claim) -> PlanFreezeJob | None:
    job = PlanFreezeJob.objects.select_related("study", "previous", "requested_by").get(
        pk=claim.job_id
    )
    previous = job.previous.content if job.previous else None
    try:
        content = plan_power.with_planned_mde(
            study=job.study,
            content=job.content,
            previous=previous,
            recompute=job.recompute,
            progress=_progress(claim),
        )
    except (OperationalError, InterfaceError):
        raise  # the database, not the plan: the task retries
    except Exception as exc:  # a simulation or data error fails the freeze with readable words
        log.exception("plan freeze %s: MDE not computed", job.pk)
        return _fail(
            job,
            claim,
            _(
                "The analysis plan was not frozen: the minimum detectable effects could not be "
                "computed (%(error)s). Check the research questions and the power settings, "
                "then freeze the plan again."
            )
            % {"error": f"{exc.__class__.__name__}: {exc}"},
        )
    try:
        with transaction.atomic():
            plan = _freeze_now(job, claim, content)
    except _ClaimLost:
        log.warning("plan freeze %s: attempt %s lost its claim", job.pk, claim.attempt)
        return None
    except ValidationError as exc:
        return _fail(
            job,
            claim,
            _("The analysis plan was not frozen: %(why)s") % {"why": "; ".join(exc.messages)},
        )
    job.status, job.plan, job.progress = PlanFreezeJob.Status.SUCCEEDED, plan, 100
    return job


def _freeze_now(job: PlanFreezeJob, claim: jobs.Claim, content: dict) -> AnalysisPlan:
    """In one transaction: check the plan is as the request found it, write the version and
    mark the job succeeded (rolled back when the claim is lost)."""
    Study.objects.select_for_update().filter(pk=job.study_id).first()
    current = plan_current(job.study)
    if job.kind == PlanFreezeJob.Kind.FREEZE and current is not None:
        raise _already_frozen()
    if job.kind == PlanFreezeJob.Kind.REVISE:
        if current is None or current != job.previous:
            raise _changed_meanwhile()
        if plan_core.content_hash(content) == current.sha256:
            raise _nothing_differs()
    plan = _write(study=job.study, user=job.requested_by, content=content, reason=job.reason)
    now = timezone.now()
    if not claim.finish(
        status=PlanFreezeJob.Status.SUCCEEDED,
        plan=plan,
        progress=100,
        progress_note="",
        finished_at=now,
        heartbeat_at=now,
    ):
        raise _ClaimLost
    return plan


def _fail(job: PlanFreezeJob, claim: jobs.Claim, error: str) -> PlanFreezeJob:
    job.status, job.error, job.finished_at = PlanFreezeJob.Status.FAILED, error, timezone.now()
    claim.finish(status=job.status, error=error, finished_at=job.finished_at)
    return job


def plan_check_for_run(study) -> AnalysisPlan | None:
    """The plan a new run follows; refuses when post-intake data exist and no plan is frozen."""
    plan = plan_current(study)
    if plan is None and study_has_post_intake_data(study):
        raise ValidationError(
            _(
                "This study has data after intake but no frozen analysis plan: a researcher must "
                "freeze the analysis plan (Analyses → Analysis plan) before the first "
                "post-intake wave is analysed."
            )
        )
    return plan


def plan_params(plan: AnalysisPlan) -> dict:
    return plan_core.plan_params(plan.content)


def plan_record(*, study, params: dict, version: int | None = None) -> dict | None:
    """What a run stores about its plan: version, hash, date and the deviations from it. A run
    without a recorded version (started from a script) follows the latest frozen version."""
    plan = (
        AnalysisPlan.objects.filter(study=study, version=version).first() if version else None
    ) or plan_current(study)
    if plan is None:
        return None
    return {
        "id": plan.pk,
        "version": plan.version,
        "sha256": plan.sha256,
        "frozen_at": plan.frozen_at.isoformat(),
        "reason": plan.reason,
        "deviations": plan_core.deviations(plan.content, question_dicts(study=study), params),
    }
