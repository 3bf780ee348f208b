"""The write side of instruments: adding versions (never editing one in place) and recording
administrations. Keyword-only, transactional, audited (simple-history with user and reason);
the only writers of instrument data."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from instruments.definition import Definition, text_in, version_problems
from instruments.library import shipped
from instruments.models import Administration, InstrumentVersion
from instruments.scoring import AnswerError, check_answers, score_all
from study.models import Source, Study, Wave
from study.services.common import audited_save, ensure_unlocked
from study.services.values import lock_wave


class VersionRefused(ValidationError):
    """A definition that would edit a stored version or make stored data unreadable."""


def _stored(code: str, study: Study | None) -> list[InstrumentVersion]:
    scope = InstrumentVersion.objects.filter(code=code, study__isnull=True)
    if study is not None:
        scope = scope | InstrumentVersion.objects.filter(code=code, study=study)
    return list(scope)


@transaction.atomic
def instrument_version_add(
    *,
    definition: Definition,
    study: Study | None = None,
    user=None,
    source_file: str = "",
) -> tuple[InstrumentVersion, bool]:
    """Store a version of an instrument; (version, created). The same content again is no
    change; a stored version number with other content, or a new version that would make data
    entered under an earlier one unreadable, is refused (VersionRefused lists why)."""
    stored = _stored(definition.code, study)
    problems = version_problems(definition, [s.parsed for s in stored])
    if problems:
        raise VersionRefused(problems)
    same = next((s for s in stored if s.version == definition.version), None)
    if same is not None:
        return same, False
    row = InstrumentVersion(
        code=definition.code,
        version=definition.version,
        study=study,
        name=text_in(definition.name)[:200],
        definition=definition.raw,
        checksum=definition.checksum,
        comparable_with=list(definition.comparable_with),
        source_file=source_file[:200],
        added_by=user,
    )
    audited_save(row, user=user, reason=f"instrument version added from {source_file or 'code'}")
    return row, True


def instruments_ensure_shipped() -> None:
    """Store every shipped definition that is not stored yet (idempotent; refuses a shipped file
    edited in place after it was stored)."""
    stored = set(
        InstrumentVersion.objects.filter(study__isnull=True).values_list(
            "code", "version", "checksum"
        )
    )
    for definition in shipped():
        if (definition.code, definition.version, definition.checksum) not in stored:
            instrument_version_add(
                definition=definition, source_file=f"instruments/definitions/{definition.code}"
            )


def _answers_of(data: Mapping[str, object]) -> dict[str, object]:
    return {k: v for k, v in data.items() if v not in (None, "")}


@transaction.atomic
def administration_record(
    *,
    wave: Wave,
    instrument_version: InstrumentVersion,
    answers: Mapping[str, object],
    missing_codes: Mapping[str, str] | None = None,
    user=None,
    mode: str = Administration.Mode.RESEARCHER,
    source: str = Source.MANUAL,
    reason: str = "",
) -> Administration:
    """Record (or change) the answers to an instrument version at a wave and compute its scores.

    One live administration per wave and instrument: a second entry of the same version changes
    it (audited), one under another version is refused (the record keeps its version; correct or
    remove it first). The wave must be T0 or later and not locked."""
    lock_wave(wave)
    if wave.is_pre_intake:
        raise ValidationError(_("Instruments belong to T0 or later, not to pre-intake years."))
    study_id = instrument_version.study_id
    if study_id is not None and study_id != wave.family.study_id:
        raise ValidationError(_("This instrument version belongs to another study."))
    definition = instrument_version.parsed
    missing = {k: v for k, v in (missing_codes or {}).items() if v}
    try:
        clean = check_answers(definition, _answers_of(answers), missing)
    except AnswerError as error:
        raise ValidationError(error.problems) from error
    if not clean and not missing:
        raise ValidationError(_("Answer at least one item or give a missing-data code."))
    current = Administration.objects.filter(
        wave=wave, instrument_code=instrument_version.code, is_deleted=False
    ).first()
    if current is not None and current.instrument_version_id != instrument_version.pk:
        raise ValidationError(
            _("%(code)s is recorded at this wave under version %(version)s; change it there.")
            % {"code": instrument_version.code, "version": current.instrument_version.version}
        )
    admin = current or Administration(
        wave=wave, instrument_version=instrument_version, instrument_code=instrument_version.code
    )
    if current is not None and (current.answers, current.missing_codes) == (clean, missing):
        return current
    admin.answers, admin.missing_codes = clean, missing
    admin.scores = score_all(definition, clean)
    admin.mode, admin.source = mode, source
    admin.recorded_by = admin.recorded_by or user
    what = "administration changed" if current else "administration recorded"
    audited_save(admin, user=user, reason=f"{what}: {reason}" if reason else what)
    return admin


@transaction.atomic
def administration_remove(*, administration: Administration, user, reason: str) -> None:
    """Soft-delete an administration with a reason (its history keeps every answer)."""
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason.")})
    ensure_unlocked(administration.wave)
    administration.is_deleted = True
    administration.deleted_at = timezone.now()
    administration.deleted_reason = reason[:300]
    audited_save(administration, user=user, reason=f"administration removed: {reason}")
