"""What every study service shares: the audited save and the locked-wave guard."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.fields.related import RelatedField
from django.utils.translation import gettext as _

from study.models import Family, Wave


class WaveLockedError(ValidationError):
    """Raised when a change would touch a locked wave."""


def audited_save(
    obj: models.Model,
    *,
    user,
    reason: str,
    update_fields: list[str] | None = None,
    checked: tuple[str, ...] = (),
) -> None:
    """Validate, save and record who and why. `checked` names foreign keys the caller has just
    verified in the database (no second existence query for them)."""
    obj._history_user = user  # type: ignore[attr-defined]
    obj._change_reason = reason  # type: ignore[attr-defined]
    obj.full_clean(exclude=clean_exclusions(obj) + list(checked))
    obj.save(update_fields=update_fields)


def clean_exclusions(obj: models.Model) -> list[str]:
    """Fields `full_clean` may skip: checks the database enforces anyway."""
    # Unique checks on soft-deletable rows are enforced by partial DB constraints instead.
    excluded = ["pseudonym"] if isinstance(obj, Family) else []
    # A foreign key given as a saved object needs no existence query (the database's foreign
    # key constraint still guards it); this saves a query per relation on every write.
    for field in obj._meta.concrete_fields:
        if isinstance(field, RelatedField) and field.is_cached(obj):
            related = field.get_cached_value(obj)
            if related is not None and related.pk is not None:
                excluded.append(field.name)
    return excluded


def ensure_unlocked(wave: Wave) -> None:
    if wave.locked:
        raise WaveLockedError(
            _("Wave %(wave)s of family %(family)s is locked; a data manager must unlock it first.")
            % {"wave": wave.label, "family": wave.family.pseudonym}
        )
