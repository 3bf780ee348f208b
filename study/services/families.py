"""Families: enrolment (eligibility, caps, members, the wave schedule), status, soft deletion."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from study import access, linkage
from study.models import Arm, CaseloadAssignment, Family, Member, Study, Wave
from study.services.common import audited_save


@dataclass(frozen=True)
class MemberSpec:
    role: str
    birth_year: int
    relation: str = ""


def wave_schedule(*, study: Study, intake_date: date) -> list[dict]:
    """The waves that follow from an intake date: pre-intake registry years, T0, T1 … Tn."""
    rows = []
    window = relativedelta(days=study.wave_window_days)
    for index in study.wave_indices:
        row: dict = {"index": index, "year": intake_date.year + index}
        if index < 0:
            row["status"] = Wave.Status.REGISTRY
        else:
            due = intake_date + relativedelta(months=study.wave_interval_months * index)
            row.update(
                status=Wave.Status.PLANNED,
                due_date=due,
                window_start=due - window if index else intake_date,
                window_end=due + window,
            )
        rows.append(row)
    return rows


def _check_cap(*, study: Study, arm: Arm) -> None:
    if study.allocation_method == Study.AllocationMethod.RANDOMISED:
        # One target for both arms: a full arm would give away the next allocation.
        target = study.enrolment_target
        if target is not None and Family.objects.alive().filter(study=study).count() >= target:
            raise ValidationError(
                {
                    "__all__": _(
                        "Enrolment is closed: %(n)d families are enrolled (the study's target)."
                    )
                    % {"n": target}
                }
            )
        return
    cap = study.intervention_cap if arm.is_intervention else study.comparison_cap
    if cap is None:
        return
    enrolled = Family.objects.alive().filter(study=study, arm=arm).count()
    if enrolled >= cap:
        raise ValidationError(
            {
                "arm": _("The %(arm)s is full: %(cap)d families are enrolled (the study's cap).")
                % {"arm": arm.get_kind_display(), "cap": cap}
            }
        )


def _check_eligibility(
    eligibility: Mapping[str, bool], *, rule: str = Study.EligibilityRule.MPG
) -> None:
    missing = [
        label
        for key, label in (
            ("elig_socio_economic", _("socio-economic problems")),
            ("elig_adult_psychosocial", _("psychosocial problems of an adult")),
            ("elig_child_psychosocial", _("psychosocial problems of a child")),
            ("elig_chronic", _("support in each of the two preceding years")),
        )
        if not eligibility.get(key)
        and not (key == "elig_chronic" and rule == Study.EligibilityRule.MVP)
    ]
    if missing:
        raise ValidationError(
            {
                "__all__": _("Not eligible as a multi-problem family: missing %(what)s.")
                % {"what": ", ".join(missing)}
            }
        )


def _check_members(members: list[MemberSpec], intake_year: int) -> None:
    adults = [m for m in members if m.role == Member.Role.ADULT]
    children = [
        m for m in members if m.role == Member.Role.CHILD and intake_year - m.birth_year <= 17
    ]
    if not adults or not children:
        raise ValidationError(
            {"members": _("A family needs at least one adult and one child aged 0-17 at intake.")}
        )


def _linkage_key_of(*, study: Study, identifier: str | None, linkage_key: str) -> str:
    """The family's linkage key (from the BSN when one is given), refused when already enrolled."""
    if identifier:
        try:
            linkage_key = linkage.bsn_linkage_key(identifier, key=settings.LINKAGE_KEY)
        except linkage.IdentifierError as exc:
            raise ValidationError({"identifier": str(exc)}) from None
    if linkage_key and Family.objects.filter(study=study, linkage_key=linkage_key).exists():
        raise ValidationError({"identifier": _("This family is already enrolled in the study.")})
    return linkage_key


@transaction.atomic
def family_enrol(
    *,
    study: Study,
    arm_kind: str,
    intake_date: date,
    allocation: str,
    eligibility: Mapping[str, bool],
    members: Iterable[MemberSpec],
    wijk: str = "",
    identifier: str | None = None,
    linkage_key: str = "",
    allocation_date: date | None = None,
    eligibility_override_reason: str = "",
    match_set: str = "",
    user=None,
) -> Family:
    """Enrol an eligible family in an arm, with its members and its wave schedule.

    `identifier` (a BSN) is turned into the linkage key on the spot and never stored.
    `eligibility_override_reason`: a researcher enrols a family whose recorded indicators do not
    show eligibility but whose case file does (audited; the report counts such families).
    A randomised study's families are enrolled through `study.services.allocation` only.
    """
    if (
        study.allocation_method == Study.AllocationMethod.RANDOMISED
        and allocation != Family.Allocation.RANDOMISED
    ):
        raise ValidationError(
            {"arm": _("This study is randomised: the arm is allocated at enrolment.")}
        )
    match_set = match_set.strip()
    if match_set and study.allocation_method == Study.AllocationMethod.RANDOMISED:
        raise ValidationError({"match_set": _("A randomised study has no matched sets.")})
    arm = Arm.objects.filter(study=study, kind=arm_kind).first()
    if arm is None:
        raise ValidationError({"arm": _("This study has no such arm.")})
    _check_cap(study=study, arm=arm)
    override = eligibility_override_reason.strip()
    try:
        _check_eligibility(eligibility, rule=study.eligibility_rule)
        override = ""  # eligible on the indicators: nothing to override
    except ValidationError:
        if not override:
            raise
        if user is not None and not access.has_right(
            user, study, access.Right.ELIGIBILITY_OVERRIDE
        ):
            raise PermissionDenied(
                _("Only a researcher of the study enrols a family on its case file.")
            ) from None
    specs = list(members)
    _check_members(specs, intake_date.year)
    family = Family(
        study=study,
        arm=arm,
        wijk=wijk,
        intake_date=intake_date,
        allocation=allocation,
        allocation_date=allocation_date or intake_date,
        allocated_by=user,
        eligibility_override_reason=override,
        match_set=match_set,
        linkage_key=_linkage_key_of(study=study, identifier=identifier, linkage_key=linkage_key),
        **{k: bool(v) for k, v in eligibility.items()},
    )
    audited_save(
        family,
        user=user,
        reason=f"family enrolled despite the indicators: {override}"
        if override
        else "family enrolled",
    )
    bulk_create_with_history(
        [
            Member(family=family, role=m.role, birth_year=m.birth_year, relation=m.relation)
            for m in specs
        ],
        Member,
        default_user=user,
        default_change_reason="family enrolled",
    )
    bulk_create_with_history(
        [Wave(family=family, **row) for row in wave_schedule(study=study, intake_date=intake_date)],
        Wave,
        default_user=user,
        default_change_reason="wave schedule",
    )
    return family


@transaction.atomic
def family_set_status(
    *, family: Family, status: str, on: date, reason: str = "", user=None
) -> Family:
    """Change a family's status. Withdrawn consent ends its caseloads on that day and marks its
    waves still to come as missed; under the study's "remove" policy the family then drops out
    of every page, list, caseload, export and analysis (`FamilyQuerySet.alive`), its data kept
    in the history. Erasure is a separate, audited procedure."""
    if status not in Family.Status.values:
        raise ValidationError({"status": _("Unknown status '%(s)s'.") % {"s": status}})
    if status != Family.Status.ACTIVE and not reason:
        raise ValidationError({"status_reason": _("Give a reason for this status.")})
    withdrawing = status == Family.Status.WITHDRAWN and family.status != status
    family.status, family.status_date, family.status_reason = status, on, reason
    audited_save(family, user=user, reason=f"status: {status}")
    if withdrawing:
        _apply_withdrawal(family=family, on=on, user=user)
    return family


def _apply_withdrawal(*, family: Family, on: date, user) -> None:
    """What withdrawn consent does under either policy: nobody follows the family any more."""
    for assignment in CaseloadAssignment.objects.filter(family=family).active_on(on):
        assignment.end_date = max(on, assignment.start_date)
        audited_save(assignment, user=user, reason="caseload ended: consent withdrawn")
    open_waves = Wave.objects.filter(
        family=family,
        is_deleted=False,
        index__gte=0,
        status__in=[Wave.Status.PLANNED, Wave.Status.DUE, Wave.Status.OVERDUE],
        locked=False,
    ).exclude(due_date__lt=on)
    for wave in open_waves:
        wave.status, wave.missed_reason = Wave.Status.MISSED, _("consent withdrawn")
        audited_save(wave, user=user, reason="wave missed: consent withdrawn")


@transaction.atomic
def family_soft_delete(*, family: Family, reason: str, user) -> Family:
    if not reason.strip():
        raise ValidationError({"deleted_reason": _("Give a reason for removing this family.")})
    family.is_deleted, family.deleted_at, family.deleted_reason = True, timezone.now(), reason
    audited_save(family, user=user, reason=f"deleted: {reason}")
    return family
