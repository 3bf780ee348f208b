"""Indicator values of a wave: parsing input into entries, recording them (validated as a whole,
written in bulk through `study.bulk_sql`), soft deletion."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from study import bulk_sql
from study.catalogue import indicators_for
from study.models import ImportBatch, Indicator, IndicatorValue, Member, MissingCode, Source, Wave
from study.services.common import audited_save, ensure_unlocked

_MISSING_CODES = frozenset(MissingCode.values)


@dataclass(frozen=True)
class Entry:
    """One value to record: a number, or a missing-data code (never both)."""

    value: Decimal | None = None
    missing_code: str = ""


def _entry_of(raw: object) -> Entry:
    """Input as an Entry, not yet checked against an indicator."""
    if isinstance(raw, Entry):
        return raw
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return Entry()
    if isinstance(raw, str) and raw.strip() in _MISSING_CODES:
        return Entry(missing_code=raw.strip())
    text = str(raw).strip().replace(",", ".")
    try:
        return Entry(value=Decimal(text))
    except InvalidOperation:
        raise ValidationError(_("'%(raw)s' is not a number.") % {"raw": raw}) from None


def parse_entry(raw, *, indicator: Indicator) -> Entry:
    """Turn user input into an Entry, or raise ValidationError with a readable message."""
    entry = _entry_of(raw)
    if entry.value is None:
        if entry.missing_code and entry.missing_code not in _MISSING_CODES:
            raise ValidationError(
                _("Unknown missing-data code '%(code)s'.") % {"code": entry.missing_code}
            )
        return entry
    value = entry.value
    if not value.is_finite():
        raise ValidationError(_("'%(raw)s' is not a number.") % {"raw": raw})
    if indicator.is_integer and value != value.to_integral_value():
        raise ValidationError(_("Must be a whole number."))
    if not indicator.min_value <= value <= indicator.max_value:
        raise ValidationError(
            _("%(value)s is out of range: allowed %(min)s to %(max)s.")
            % {"value": value, "min": _fmt(indicator.min_value), "max": _fmt(indicator.max_value)}
        )
    return Entry(value=value.quantize(Decimal("0.01")))


def _fmt(number: Decimal) -> str:
    return f"{number.normalize():f}"


def _consistency_errors(wave: Wave, entries: Mapping[Indicator, Entry]) -> dict[str, str]:
    """Checks across fields: child indicators need a child in the family, adult ones an adult."""
    errors: dict[str, str] = {}
    roles = set(wave.family.members.alive().values_list("role", flat=True))
    for indicator, entry in entries.items():
        if (
            entry.value
            and indicator.level == Indicator.Level.CHILD
            and Member.Role.CHILD not in roles
        ):
            errors[indicator.code] = _(
                "The family has no child recorded; this child indicator must be 0 or a missing code."
            )
        if (
            entry.value
            and indicator.level == Indicator.Level.ADULT
            and Member.Role.ADULT not in roles
        ):
            errors[indicator.code] = _("The family has no adult recorded.")
    return errors


@dataclass
class RecordOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _parse_all(
    wave: Wave, values: Mapping[str, object]
) -> tuple[dict[Indicator, Entry], dict[str, str]]:
    """The non-empty entries by indicator, and the errors keyed by code."""
    catalogue = {i.code: i for i in indicators_for(wave.family.study)}
    errors: dict[str, str] = {}
    entries: dict[Indicator, Entry] = {}
    for code, raw in values.items():
        indicator = catalogue.get(code)
        if indicator is None:
            errors[code] = _("Unknown indicator '%(code)s'.") % {"code": code}
            continue
        try:
            entry = parse_entry(raw, indicator=indicator)
        except ValidationError as exc:
            errors[code] = " ".join(exc.messages)
            continue
        if entry.value is not None or entry.missing_code:
            entries[indicator] = entry
    return entries, errors


@transaction.atomic
def indicator_values_record(
    *,
    wave: Wave,
    values: Mapping[str, object],
    user=None,
    source: str = Source.MANUAL,
    import_batch: ImportBatch | None = None,
    reason: str = "",
) -> RecordOutcome:
    """Record registry indicator values of one wave (code -> number, missing code, or Entry).

    Validates every value first and saves nothing if any is wrong (errors keyed by code).
    An empty input clears nothing: to remove a value, soft-delete it explicitly.
    """
    ensure_unlocked(wave)
    entries, errors = _parse_all(wave, values)
    errors.update(_consistency_errors(wave, entries))
    if errors:
        raise ValidationError(errors)
    created, updated, unchanged = values_apply_bulk(
        {(wave.pk, indicator.pk): entry for indicator, entry in entries.items()},
        user=user,
        source=source,
        import_batch=import_batch,
        reason=reason or f"values recorded ({source})",
    )
    return RecordOutcome(created=created, updated=updated, unchanged=unchanged)


def _live_values(wave_ids: list[int]) -> dict[tuple[int, int], tuple[int, Decimal | None, str]]:
    """(wave id, indicator id) -> (id, value, missing code) of the live values of these waves."""
    current: dict[tuple[int, int], tuple[int, Decimal | None, str]] = {}
    step = bulk_sql.WAVES_PER_QUERY
    for start in range(0, len(wave_ids), step):
        for pk, wave_id, indicator_id, value, missing_code in (
            IndicatorValue.objects.alive()
            .filter(wave_id__in=wave_ids[start : start + step])
            .values_list("pk", "wave_id", "indicator_id", "value", "missing_code")
        ):
            current[(wave_id, indicator_id)] = (pk, value, missing_code)
    return current


def values_apply_bulk(
    entries: dict[tuple[int, int], Entry],
    *,
    user,
    source: str,
    import_batch: ImportBatch | None,
    reason: str,
) -> tuple[int, int, int]:
    """Create or update live values for (wave id, indicator id) pairs and write one history row
    per change (who, when, why: the same rows django-simple-history writes); returns (created,
    updated, unchanged). Callers hold a transaction and have checked every entry.

    Written by `study.bulk_sql` (COPY / executemany) instead of the ORM's bulk helpers: a
    100,000-value extract spends most of its time in per-field ORM preparation otherwise.
    """
    current = _live_values(sorted({w for w, _i in entries}))
    created: list[bulk_sql.ValueRow] = []
    updated: list[tuple[int, bulk_sql.ValueRow]] = []
    unchanged = 0
    for (wave_id, indicator_id), entry in entries.items():
        row = bulk_sql.ValueRow(wave_id, indicator_id, entry.value, entry.missing_code)
        existing = current.get((wave_id, indicator_id))
        if existing is None:
            created.append(row)
        elif (existing[1], existing[2]) != (entry.value, entry.missing_code):
            updated.append((existing[0], row))
        else:
            unchanged += 1
    bulk_sql.indicator_values_write(
        created=created,
        updated=updated,
        source=source,
        import_batch_id=import_batch.pk if import_batch is not None else None,
        user_id=user.pk if user is not None else None,
        reason=reason,
    )
    return len(created), len(updated), unchanged


@transaction.atomic
def indicator_value_soft_delete(*, value: IndicatorValue, reason: str, user) -> IndicatorValue:
    ensure_unlocked(value.wave)
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for removing this value.")})
    value.is_deleted, value.deleted_at, value.deleted_reason = True, timezone.now(), reason
    audited_save(value, user=user, reason=f"deleted: {reason}")
    return value
