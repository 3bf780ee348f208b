"""Studies: setting one up (with its two arms), changing its set-up, granting memberships."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from study import access, municipalities
from study.models import Arm, Family, Study, StudyMembership
from study.roles import Role
from study.services.common import audited_save

#: What can change once a family is enrolled: nothing that recorded waves, allocations or
#: eligibility depend on.
EDITABLE_AFTER_ENROLMENT = frozenset(
    {
        "name",
        "description",
        "price_year",
        "enrolment_target",
        "intervention_cap",
        "comparison_cap",
        "coach_otp_required",
        "contact_notes_for_research",
        "intervention_name",
        "comparison_name",
    }
)
SET_UP_FIELDS = (
    frozenset(
        {
            "municipality_code",
            "start_date",
            "n_waves",
            "wave_interval_months",
            "wave_window_days",
            "pre_intake_years",
            "allocation_method",
            "allocation_strata",
            "randomisation",
            "eligibility_rule",
            "match_variables",
        }
    )
    | EDITABLE_AFTER_ENROLMENT
)
ARM_NAME_FIELDS = {
    "intervention_name": Arm.Kind.INTERVENTION,
    "comparison_name": Arm.Kind.COMPARISON,
}


def set_up_warnings(study: Study) -> list[str]:
    """What the set-up allows but the report will miss (shown before saving)."""
    warnings = []
    if study.pre_intake_years < 2:
        warnings.append(
            _(
                "With fewer than two registry years before intake the report can neither test "
                "pre-trends nor compute sensitivity bounds."
            )
        )
    return warnings


def _apply_municipality(study: Study, code: str) -> None:
    code = (code or "").strip().upper()
    if not municipalities.CODE.match(code):
        raise ValidationError(
            {"municipality_code": _("Give the CBS municipality code as GM and four digits.")}
        )
    name = municipalities.name_of(code)
    if name is None:
        raise ValidationError(
            {
                "municipality_code": _("%(code)s is not on the list of municipalities.")
                % {"code": code}
            }
        )
    study.municipality_code, study.municipality = code, name


def _check_design(study: Study, *, acknowledge_warnings: bool) -> None:
    errors: dict[str, str] = {}
    if study.allocation_method == Study.AllocationMethod.RANDOMISED:
        if not study.enrolment_target:
            errors["enrolment_target"] = _(
                "A randomised study needs one enrolment target for both arms together."
            )
        # One total target: arm caps would let a full arm give away the next allocation.
        study.intervention_cap, study.comparison_cap = 0, None
        if study.match_variables.strip():
            errors["match_variables"] = _("A randomised study is not matched.")
    else:
        if study.allocation_strata:
            errors["allocation_strata"] = _("Only a randomised study stratifies its allocation.")
        if study.randomisation == Study.Randomisation.MINIMISATION:
            errors["randomisation"] = _("Only a randomised study uses minimisation.")
    if study.wave_interval_months < 1:
        errors["wave_interval_months"] = _("Waves lie at least a month apart.")
    warnings = set_up_warnings(study)
    if warnings and not acknowledge_warnings:
        errors["pre_intake_years"] = (
            " ".join(warnings) + " " + _("Tick the box to set the study up like this anyway.")
        )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def study_create(
    *,
    name: str,
    municipality: str = "",
    start_date: date,
    user=None,
    municipality_code: str = "",
    intervention_name: str = "",
    comparison_name: str = "",
    acknowledge_warnings: bool = True,
    data_manager=None,
    **options,
) -> Study:
    """A new study with its two arms (intervention and care as usual, names editable).

    With `municipality_code` (a CBS gemeentecode) the municipality's name comes from the list.
    `data_manager` (the person setting it up) becomes the study's data manager.
    """
    study = Study(name=name.strip(), municipality=municipality, start_date=start_date, **options)
    if municipality_code or not municipality:
        _apply_municipality(study, municipality_code)
    _check_design(study, acknowledge_warnings=acknowledge_warnings)
    if study.allocation_method != Study.AllocationMethod.RANDOMISED and not study.intervention_cap:
        study.intervention_cap = 40
    if Study.objects.filter(name__iexact=study.name).exists():
        raise ValidationError({"name": _("A study with this name exists already.")})
    audited_save(study, user=user, reason="study created")
    for kind, arm_name in (
        (Arm.Kind.INTERVENTION, intervention_name),
        (Arm.Kind.COMPARISON, comparison_name),
    ):
        arm = Arm(study=study, kind=kind, name=arm_name.strip())
        audited_save(arm, user=user, reason="study created")
    if data_manager is not None and not access.is_installation_admin(data_manager):
        membership_grant(study=study, user=data_manager, role=Role.DATA_MANAGER, granted_by=user)
    return study


def may_create_study(user) -> bool:
    """The installation administrator and the data managers of any study set up studies."""
    return access.is_installation_admin(user) or (
        access.api_key_of(user) is None and access.holds_anywhere(user, access.Right.MEMBERS_MANAGE)
    )


def _check_frozen(study: Study, changed: dict) -> None:
    if not Family.objects.filter(study=study).exists():
        return
    frozen = sorted(set(changed) - EDITABLE_AFTER_ENROLMENT)
    if frozen:
        message = _(
            "Families are enrolled: this can no longer change without breaking their recorded data."
        )
        raise ValidationError(dict.fromkeys(frozen, message))


@transaction.atomic
def study_update(*, study: Study, changes: dict, reason: str, user) -> Study:
    """Change a study's set-up, audited with a reason. Until the first family is enrolled
    everything can change; afterwards only what recorded data does not depend on."""
    if not access.has_right(user, study, access.Right.STUDY_SET_UP):
        raise PermissionDenied(
            _("Only the study's researchers and data managers change its set-up.")
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for this change.")})
    study = Study.objects.select_for_update().get(pk=study.pk)
    unknown = set(changes) - SET_UP_FIELDS
    if unknown:
        raise ValidationError({f: _("This cannot be changed here.") for f in sorted(unknown)})
    changed = {k: v for k, v in changes.items() if k in ARM_NAME_FIELDS or getattr(study, k) != v}
    _check_frozen(study, changed)
    arm_names = {k: changed.pop(k) for k in list(changed) if k in ARM_NAME_FIELDS}
    if "municipality_code" in changed:
        _apply_municipality(study, changed.pop("municipality_code"))
    for key, value in changed.items():
        setattr(study, key, value)
    if (
        "name" in changed
        and Study.objects.filter(name__iexact=study.name).exclude(pk=study.pk).exists()
    ):
        raise ValidationError({"name": _("A study with this name exists already.")})
    _check_design(study, acknowledge_warnings=True)
    audited_save(study, user=user, reason=f"set-up changed: {reason.strip()}")
    for key, arm_name in arm_names.items():
        arm = Arm.objects.get(study=study, kind=ARM_NAME_FIELDS[key])
        if arm.name != arm_name.strip():
            arm.name = arm_name.strip()
            audited_save(arm, user=user, reason=f"arm renamed: {reason.strip()}")
    return study


@transaction.atomic
def membership_grant(*, study: Study, user, role: str, granted_by=None) -> StudyMembership:
    """Give a user a role in a study (what the role may do: `study.access`)."""
    membership = StudyMembership.objects.filter(study=study, user=user, role=role).first()
    if membership is None:
        membership = StudyMembership(study=study, user=user, role=role, active=True)
        audited_save(membership, user=granted_by, reason="membership granted")
    elif not membership.active:
        membership.active = True
        audited_save(membership, user=granted_by, reason="membership re-activated")
    return membership


@transaction.atomic
def membership_end(*, membership: StudyMembership, ended_by=None, reason: str = "") -> None:
    """Take a role in a study away (the row stays, inactive, with its history)."""
    if membership.active:
        membership.active = False
        audited_save(membership, user=ended_by, reason=f"membership ended: {reason}".strip(": "))
