"""Care around a family: wijkcoach caseloads and the care workers (hulpverleners) involved."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from study import access
from study.models import (
    CareCatalogueEntry,
    CareInvolvement,
    CaseloadAssignment,
    Family,
    NotesGrant,
    StudyMembership,
)
from study.roles import Role
from study.services import care_catalogue
from study.services.common import audited_save


def _coach_may_touch(*, user, family: Family) -> None:
    if not access.family_has_right(user, family, access.Right.CARE_WRITE):
        raise PermissionDenied(_("No family with this id on your caseload."))


def _ensure_coach_membership(*, family: Family, coach, user) -> None:
    """A caseload makes its coach a wijkcoach of the family's study: the membership is granted
    (audited) when the coach has none; an ended membership is not revived by a caseload."""
    membership = StudyMembership.objects.filter(
        study_id=family.study_id, user=coach, role=Role.WIJKCOACH
    ).first()
    if membership is None:
        membership = StudyMembership(study_id=family.study_id, user=coach, role=Role.WIJKCOACH)
        audited_save(membership, user=user, reason="wijkcoach membership with a caseload")
    elif not membership.active:
        raise ValidationError(
            {"coach": _("This coach's membership of the study has ended: grant it again first.")}
        )


@transaction.atomic
def caseload_assign(*, family: Family, coach, start_date: date, user=None) -> CaseloadAssignment:
    if not coach.is_active:
        raise ValidationError({"coach": _("Only an active user can have a caseload.")})
    _ensure_coach_membership(family=family, coach=coach, user=user)
    assignment = CaseloadAssignment(family=family, coach=coach, start_date=start_date)
    audited_save(assignment, user=user, reason="caseload assigned")
    return assignment


@transaction.atomic
def caseload_end(
    *, assignment: CaseloadAssignment, end_date: date, user=None
) -> CaseloadAssignment:
    assignment.end_date = end_date
    audited_save(assignment, user=user, reason="caseload ended")
    return assignment


@transaction.atomic
def care_involvement_add(
    *,
    family: Family,
    organisation: str,
    discipline: str,
    start_date: date,
    end_date: date | None = None,
    organisation_other: bool = False,
    discipline_other: bool = False,
    user=None,
) -> CareInvolvement:
    """Record a care worker: organisation and discipline from the study's list, or typed in
    only as "anders" (`*_other`)."""
    _coach_may_touch(user=user, family=family)
    errors: dict[str, list[str]] = {}
    coded = {}
    for kind, name, other in (
        (CareCatalogueEntry.Kind.ORGANISATION, organisation, organisation_other),
        (CareCatalogueEntry.Kind.DISCIPLINE, discipline, discipline_other),
    ):
        try:
            coded[kind] = care_catalogue.resolve(
                study=family.study, kind=kind, name=name, other=other
            )
        except ValidationError as exc:
            errors |= exc.message_dict
    if end_date and end_date < start_date:
        errors["end_date"] = [_("The end date lies before the start date.")]
    if errors:
        raise ValidationError(errors)
    (org_entry, org_name), (disc_entry, disc_name) = (
        coded[CareCatalogueEntry.Kind.ORGANISATION],
        coded[CareCatalogueEntry.Kind.DISCIPLINE],
    )
    involvement = CareInvolvement(
        family=family,
        organisation=org_name,
        organisation_entry=org_entry,
        discipline=disc_name,
        discipline_entry=disc_entry,
        start_date=start_date,
        end_date=end_date,
        recorded_by=user,
    )
    audited_save(involvement, user=user, reason="care worker added")
    return involvement


@transaction.atomic
def care_involvement_end(
    *, involvement: CareInvolvement, end_date: date, user=None
) -> CareInvolvement:
    _coach_may_touch(user=user, family=involvement.family)
    if end_date < involvement.start_date:
        raise ValidationError({"end_date": _("The end date lies before the start date.")})
    involvement.end_date = end_date
    audited_save(involvement, user=user, reason="care worker ended")
    return involvement


# --- caseloads managed by a coordinator or data manager: many families at once ----------------


def _require_caseload_right(*, user, families: list[Family]) -> None:
    allowed = set(
        access.caseload_managed_families(user)
        .filter(pk__in=[f.pk for f in families])
        .values_list("pk", flat=True)
    )
    if not families or any(f.pk not in allowed for f in families):
        raise PermissionDenied(_("You do not manage the caseloads of these families."))


def _current(family: Family, on: date) -> list[CaseloadAssignment]:
    return list(
        CaseloadAssignment.objects.select_for_update()
        .filter(family=family)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .order_by("start_date")
    )


@transaction.atomic
def caseloads_assign(*, families: list[Family], coach, start_date: date, user) -> int:
    """Put families without a coach on `coach`'s caseload from `start_date` (all or none)."""
    _require_caseload_right(user=user, families=families)
    taken = [f.pseudonym for f in families if _current(f, start_date)]
    if taken:
        raise ValidationError(
            {
                "families": _("These families have a coach already; hand them over instead: %(f)s.")
                % {"f": ", ".join(taken)}
            }
        )
    for family in families:
        caseload_assign(family=family, coach=coach, start_date=start_date, user=user)
    return len(families)


@transaction.atomic
def caseloads_hand_over(*, families: list[Family], coach, on: date, user) -> int:
    """Hand families over to `coach` on `on`: the earlier coach's assignment ends the day before
    (they keep no access from `on`), the new one starts on `on`; all or none."""
    _require_caseload_right(user=user, families=families)
    errors = []
    for family in families:
        current = _current(family, on)
        if not current:
            errors.append(_("%(f)s has no coach to hand over from.") % {"f": family.pseudonym})
        elif any(a.start_date >= on for a in current):
            errors.append(
                _("%(f)s: the hand-over date must lie after the current coach's start.")
                % {"f": family.pseudonym}
            )
        elif all(a.coach_id == coach.pk for a in current):
            errors.append(_("%(f)s is on this coach's caseload already.") % {"f": family.pseudonym})
    if errors:
        raise ValidationError({"families": errors})
    for family in families:
        for assignment in _current(family, on):
            assignment.end_date = on - timedelta(days=1)
            audited_save(assignment, user=user, reason="caseload handed over")
        caseload_assign(family=family, coach=coach, start_date=on, user=user)
    return len(families)


@transaction.atomic
def caseloads_end(*, families: list[Family], on: date, user) -> int:
    """End the families' current caseload assignments on `on` (the coach keeps access through
    that day); all or none."""
    _require_caseload_right(user=user, families=families)
    ended = 0
    for family in families:
        for assignment in _current(family, on):
            if assignment.start_date > on:
                raise ValidationError(
                    {
                        "end_date": _("%(f)s: the end lies before the coach's start.")
                        % {"f": family.pseudonym}
                    }
                )
            assignment.end_date = on
            audited_save(assignment, user=user, reason="caseload ended")
            ended += 1
    return ended


@transaction.atomic
def notes_grant(*, family: Family, coach, reason: str, user) -> NotesGrant:
    """The study's coordinator lets the family's coach (today) read the notes its earlier coaches
    wrote (masked, `study.access.note_reader`); with a reason, audited, once per coach."""
    if not access.may_grant_notes(user, family):
        raise PermissionDenied(_("Only the study's coordinator grants earlier notes."))
    why = " ".join((reason or "").split())
    if not why:
        raise ValidationError({"reason": _("Give the reason for the grant.")})
    if coach is None or not access.on_caseload(coach, family.pk):
        raise ValidationError(
            {
                "family": _("%(family)s is not on this coach's caseload today.")
                % {"family": family.pseudonym}
            }
        )
    if NotesGrant.objects.filter(family=family, coach=coach).exists():
        raise ValidationError(
            {
                "family": _("This coach already reads the earlier notes of %(family)s.")
                % {"family": family.pseudonym}
            }
        )
    grant = NotesGrant(family=family, coach=coach, granted_by=user, reason=why[:300])
    audited_save(grant, user=user, reason=f"earlier notes granted: {why}")
    return grant
