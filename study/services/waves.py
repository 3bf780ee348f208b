"""Waves: completing, marking missed, locking and unlocking, and the wave entry page's save of
values and survey together."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from study import access
from study.models import Wave
from study.services.common import WaveLockedError, audited_save, ensure_unlocked
from study.services.surveys import wave_survey_record
from study.services.values import RecordOutcome, indicator_values_record


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


@transaction.atomic
def wave_entry_record(
    *,
    wave: Wave,
    values: Mapping[str, object],
    survey: Mapping[str, object] | None = None,
    user=None,
) -> RecordOutcome:
    """Record a wave's indicator values and its survey together: both or neither.

    Errors of both parts are gathered into one ValidationError (keyed by indicator code or
    survey field) so the form shows them all at once.
    """
    errors: dict[str, list[str]] = {}
    outcome = RecordOutcome()
    try:
        with transaction.atomic():
            outcome = indicator_values_record(wave=wave, values=values, user=user)
    except WaveLockedError:
        raise
    except ValidationError as exc:
        errors.update(exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages})
    if survey is not None:
        try:
            with transaction.atomic():
                wave_survey_record(wave=wave, data=survey, user=user)
        except WaveLockedError:
            raise
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                errors.update(exc.message_dict)
            else:
                errors.setdefault("__all__", []).extend(exc.messages)
    if errors:
        # Raising inside the outer transaction undoes whichever part did succeed.
        raise ValidationError(errors)
    return outcome
