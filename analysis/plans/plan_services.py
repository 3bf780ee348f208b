"""The pre-registered analysis plan: freeze once, revise as a new version with a reason."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from analysis.did.inference import DEFAULT_METHODS
from analysis.effects import designs
from analysis.effects import plan as plan_core
from analysis.models import AnalysisPlan
from analysis.plans import plan_power
from analysis.plans.question_services import question_dicts
from analysis.plans.selectors import may_edit_questions, plan_current
from study.models import Wave

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


@transaction.atomic
def analysis_plan_freeze(*, study, user, params: dict | None = None) -> AnalysisPlan:
    """Freeze version 1 of the study's plan from its active questions and the run settings
    ``params`` (SETTABLE; the rest from PLAN_DEFAULTS), with the pre-registered MDE of each
    primary outcome (analysis/plans/plan_power.py)."""
    _check(user, study)
    if plan_current(study) is not None:
        raise ValidationError(
            _("the analysis plan is already frozen; a change is a new version with a reason")
        )
    settings = dict(params or {})
    _validate(settings)
    content = plan_core.plan_content(question_dicts(study=study), {**PLAN_DEFAULTS, **settings})
    content = plan_power.with_planned_mde(study=study, content=content)
    return _write(study=study, user=user, content=content, reason="")


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


@transaction.atomic
def analysis_plan_revise(*, study, user, changes: dict, reason: str) -> AnalysisPlan:
    """A new plan version: the study's current questions plus ``changes`` to the parameters
    (SETTABLE: design, multiplicity, inference, draws, seed, covariates, clustering, alpha,
    honest, power). The old version stays, and so do its pre-registered MDEs unless the power
    settings change (then they are simulated again from the pre-intake rows only); a new
    primary outcome gets its own. A plan frozen with the calendar-time ``estimator: twfe`` moves to the aligned design
    only by a revision that says ``design: aligned`` (with its reason)."""
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
    content = plan_power.with_planned_mde(
        study=study, content=content, previous=current.content, recompute="power" in changes
    )
    if plan_core.content_hash(content) == current.sha256:
        raise ValidationError(_("nothing differs from the current plan version"))
    return _write(study=study, user=user, content=content, reason=reason.strip())


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
