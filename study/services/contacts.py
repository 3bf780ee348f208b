"""Contact logging: a wijkcoach records a contact with a family on their own caseload."""

from __future__ import annotations

from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from study import access, bulk_sql
from study.linkage import has_bsn
from study.models import Contact, Family
from study.services.common import audited_save, clean_exclusions


def _contact_errors(
    *, occurred_at: datetime, initiated_by: str, requested_at: datetime | None
) -> dict[str, str]:
    errors = {}
    if occurred_at > timezone.now() + relativedelta(minutes=5):
        errors["occurred_at"] = _("A contact cannot lie in the future.")
    if requested_at is not None:
        if initiated_by != Contact.Initiator.FAMILY:
            errors["requested_at"] = _(
                "A request time only applies when the family asked for the contact."
            )
        elif requested_at > occurred_at:
            errors["requested_at"] = _("The request lies after the contact.")
    return errors


def contact_log(
    *,
    family: Family | int,
    coach,
    occurred_at: datetime,
    kind: str,
    duration_minutes: int,
    initiated_by: str,
    requested_at: datetime | None = None,
    note: str = "",
    note_private: bool = False,
) -> Contact:
    """A wijkcoach logs a contact with a family on their own caseload (a Family or its id; one
    EXISTS query checks the caseload)."""
    family_id = family if isinstance(family, int) else family.pk
    if not access.on_caseload(coach, family_id):
        raise PermissionDenied(_("No family with this id on your caseload."))
    errors = _contact_errors(
        occurred_at=occurred_at, initiated_by=initiated_by, requested_at=requested_at
    )
    if has_bsn(note):  # a note is free text, not pseudonymised: never an identifier in it
        errors["note"] = _(
            "The note holds a number that passes the BSN check (the 11-proof); a note never "
            "holds a BSN or another identifier. Leave it out."
        )
    if errors:
        raise ValidationError(errors)
    contact = Contact(
        family_id=family_id,
        coach=coach,
        occurred_at=occurred_at,
        kind=kind,
        duration_minutes=duration_minutes,
        initiated_by=initiated_by,
        requested_at=requested_at,
        note=note,
        note_private=note_private,
    )
    if isinstance(family, Family):
        contact.family = family  # the caller's object, so nothing loads it again
    if connection.vendor == "postgresql":
        contact.full_clean(exclude=[*clean_exclusions(contact), "family"])
        bulk_sql.insert_with_history(contact, user=coach, reason="contact logged")
    else:
        with transaction.atomic():  # the row and its history row together
            audited_save(contact, user=coach, reason="contact logged", checked=("family",))
    return contact
