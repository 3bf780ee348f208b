"""Correcting and removing recorded data with a reason: contacts, care involvements, families.
(Values are corrected on the wave entry form and removed by `values.indicator_value_soft_delete`.)
Every change is audited with who, when and why; a removal is a soft delete."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from study import access
from study.models import CareInvolvement, Contact
from study.services import care_catalogue
from study.services.common import audited_save
from study.services.contacts import _contact_errors

CONTACT_FIELDS = (
    "occurred_at",
    "kind",
    "duration_minutes",
    "initiated_by",
    "requested_at",
    "note",
    "note_private",
)
INVOLVEMENT_FIELDS = (
    "organisation",
    "discipline",
    "start_date",
    "end_date",
    "organisation_other",
    "discipline_other",
)


def _need_reason(reason: str) -> str:
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for this correction.")})
    return reason.strip()


def _check_contact(user, contact: Contact) -> None:
    if not access.may_correct(
        user, contact.family, recorded_by_id=contact.coach_id, right=access.Right.CONTACT_LOG
    ):
        raise PermissionDenied(_("Only the coach who logged it or a data manager corrects it."))


def _check_involvement(user, involvement: CareInvolvement) -> None:
    if not access.may_correct(
        user,
        involvement.family,
        recorded_by_id=involvement.recorded_by_id,
        right=access.Right.CARE_WRITE,
    ):
        raise PermissionDenied(_("Only who recorded it or a data manager corrects it."))


def _apply(obj, changes: Mapping[str, object], allowed: tuple[str, ...]) -> list[str]:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise ValidationError({f: _("This field cannot be corrected here.") for f in unknown})
    changed = [f for f, v in changes.items() if getattr(obj, f) != v]
    for field in changed:
        setattr(obj, field, changes[field])
    return changed


@transaction.atomic
def contact_correct(
    *, contact: Contact, changes: Mapping[str, object], reason: str, user
) -> Contact:
    """Correct a logged contact (only the fields given that differ are changed)."""
    _check_contact(user, contact)
    why = _need_reason(reason)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    changed = _apply(contact, changes, CONTACT_FIELDS)
    if contact.initiated_by != Contact.Initiator.FAMILY:
        contact.requested_at = None
    errors = _contact_errors(
        occurred_at=contact.occurred_at,
        initiated_by=contact.initiated_by,
        requested_at=contact.requested_at,
    )
    if errors:
        raise ValidationError(errors)
    if changed:
        audited_save(contact, user=user, reason=f"corrected ({', '.join(changed)}): {why}")
    return contact


@transaction.atomic
def contact_soft_delete(*, contact: Contact, reason: str, user) -> Contact:
    _check_contact(user, contact)
    why = _need_reason(reason)
    contact.is_deleted, contact.deleted_at, contact.deleted_reason = True, timezone.now(), why
    audited_save(contact, user=user, reason=f"deleted: {why}")
    return contact


def _coded_names(involvement: CareInvolvement, changes: Mapping[str, object]) -> dict:
    """A corrected organisation or discipline from the study's list (or "anders"), as the
    involvement's name and entry fields."""
    changes = dict(changes)
    unknown = sorted(set(changes) - set(INVOLVEMENT_FIELDS))
    if unknown:
        raise ValidationError({f: _("This field cannot be corrected here.") for f in unknown})
    errors: dict = {}
    for kind, (text_field, entry_field) in care_catalogue.FIELDS.items():
        other = bool(changes.pop(f"{text_field}_other", False))
        if text_field not in changes:
            continue
        name = str(changes[text_field])
        if normalise_same(name, getattr(involvement, text_field)) and not other:
            changes.pop(text_field)  # unchanged: keep it as it is coded (or not)
            continue
        try:
            entry, stored = care_catalogue.resolve(
                study=involvement.family.study, kind=kind, name=name, other=other
            )
        except ValidationError as exc:
            errors |= exc.message_dict
            continue
        changes[text_field], changes[entry_field] = stored, entry
    if errors:
        raise ValidationError(errors)
    return changes


def normalise_same(a: str, b: str) -> bool:
    return care_catalogue.normalise(a) == care_catalogue.normalise(b)


@transaction.atomic
def care_involvement_correct(
    *, involvement: CareInvolvement, changes: Mapping[str, object], reason: str, user
) -> CareInvolvement:
    _check_involvement(user, involvement)
    why = _need_reason(reason)
    involvement = CareInvolvement.objects.select_for_update().get(pk=involvement.pk)
    changes = _coded_names(involvement, changes)
    changed = _apply(
        involvement, changes, (*INVOLVEMENT_FIELDS, "organisation_entry", "discipline_entry")
    )
    if involvement.end_date and involvement.end_date < involvement.start_date:
        raise ValidationError({"end_date": _("The end date lies before the start date.")})
    if changed:
        audited_save(involvement, user=user, reason=f"corrected ({', '.join(changed)}): {why}")
    return involvement


@transaction.atomic
def care_involvement_soft_delete(
    *, involvement: CareInvolvement, reason: str, user
) -> CareInvolvement:
    _check_involvement(user, involvement)
    why = _need_reason(reason)
    involvement.is_deleted, involvement.deleted_at = True, timezone.now()
    involvement.deleted_reason = why
    audited_save(involvement, user=user, reason=f"deleted: {why}")
    return involvement
