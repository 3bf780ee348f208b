"""Waves: completing, marking missed, locking and unlocking, and the wave entry page's save of
values and survey together."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from study import access
from study.models import Wave
from study.services.common import WaveLockedError, audited_save, ensure_unlocked
from study.services.surveys import wave_survey_record
from study.services.values import (
    ConflictError,
    RecordOutcome,
    indicator_values_record,
    wave_version,
)


@transaction.atomic
def wave_lock(*, wave: Wave, user) -> Wave:
    if not access.may_write_research(user, wave.family):
        raise PermissionDenied(_("Only researchers and data managers lock waves."))
    if wave.locked:
        return wave
    wave.locked, wave.locked_at, wave.locked_by = True, timezone.now(), user
    audited_save(wave, user=user, reason="wave locked")
    return wave


@transaction.atomic
def wave_unlock(*, wave: Wave, user, reason: str) -> Wave:
    if not access.has_right(user, wave.family.study, access.Right.WAVE_UNLOCK):
        raise PermissionDenied(_("Only a data manager can unlock a wave."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for unlocking this wave.")})
    wave.locked, wave.locked_at, wave.locked_by = False, None, None
    audited_save(wave, user=user, reason=f"wave unlocked: {reason}")
    return wave


@transaction.atomic
def wave_complete(*, wave: Wave, on: date, user=None) -> Wave:
    ensure_unlocked(wave)
    if wave.is_pre_intake:
        raise ValidationError(
            _("Pre-intake registry years are not completed; they hold registry values.")
        )
    wave.status, wave.completed_date, wave.missed_reason = Wave.Status.COMPLETED, on, ""
    audited_save(wave, user=user, reason="wave completed")
    return wave


@transaction.atomic
def wave_mark_missed(*, wave: Wave, reason: str, user=None) -> Wave:
    ensure_unlocked(wave)
    if not reason.strip():
        raise ValidationError({"missed_reason": _("Give a reason why the wave was missed.")})
    wave.status, wave.missed_reason = Wave.Status.MISSED, reason
    audited_save(wave, user=user, reason="wave missed")
    return wave


def _gather(exc: ValidationError, errors: dict, conflicts: dict) -> None:
    if isinstance(exc, ConflictError):
        conflicts.update(exc.conflicts)
    if hasattr(exc, "error_dict"):
        for key, items in exc.error_dict.items():
            errors.setdefault(key, []).extend(items)
    else:
        errors.setdefault(NON_FIELD_ERRORS, []).extend(exc.error_list)


@transaction.atomic
def wave_entry_record(
    *,
    wave: Wave,
    values: Mapping[str, object],
    survey: Mapping[str, object] | None = None,
    user=None,
    clears: Iterable[str] = (),
    base_version: str | None = None,
    soft_confirmed: Iterable[str] = (),
    soft_limits: bool = True,
    reason: str = "",
) -> RecordOutcome:
    """Record a wave's indicator values and its survey together: both or neither.

    Errors of both parts are gathered into one ValidationError (keyed by indicator code or
    survey field) so the form shows them all at once; when the only problems are fields someone
    else changed since `base_version`, one ConflictError names all of them.
    """
    errors: dict[str, list[ValidationError]] = {}
    conflicts: dict[str, dict[str, str]] = {}
    outcome = RecordOutcome()
    parts: list[Callable[[], object]] = [
        lambda: indicator_values_record(
            wave=wave,
            values=values,
            user=user,
            clears=clears,
            base_version=base_version,
            soft_confirmed=soft_confirmed,
            soft_limits=soft_limits,
            reason=reason,
        )
    ]
    if survey is not None:
        parts.append(
            lambda: wave_survey_record(wave=wave, data=survey, user=user, base_version=base_version)
        )
    for part in parts:
        try:
            with transaction.atomic():
                result = part()
        except WaveLockedError:
            raise
        except ValidationError as exc:
            _gather(exc, errors, conflicts)
        else:
            if isinstance(result, RecordOutcome):
                outcome = result
    if errors:
        # Raising inside the outer transaction undoes whichever part did succeed.
        if conflicts and set(errors) == set(conflicts):
            raise ConflictError(conflicts, wave_version(wave))
        raise ValidationError(errors)
    outcome.version = wave_version(wave)
    return outcome
