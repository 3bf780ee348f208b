"""Indicator values of a wave: parsing input into entries, recording them (validated as a whole,
written in bulk through `study.bulk_sql`), soft deletion."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from study import bulk_sql
from study.catalogue import indicators_for
from study.models import (
    ImportBatch,
    Indicator,
    IndicatorValue,
    Member,
    MissingCode,
    Source,
    StudyDataPolicy,
    Wave,
    WaveSurvey,
)
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
    text = str(raw).strip()
    if "," in text:  # a decimal comma ("459,14"), perhaps with thousands points ("1.500,5")
        text = text.replace(".", "").replace(",", ".")
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
    cleared: int = 0
    version: str = ""
    soft_confirmed: tuple[str, ...] = ()


SOFT_LIMIT = "soft_limit"  # the ValidationError code of a limit the person may confirm


class ConflictError(ValidationError):
    """A field this write changes was changed by someone else after the version the write is
    based on. `conflicts` maps the field (indicator code or survey field) to
    {"theirs": the value now stored, "yours": the value sent}; `version` is the current one."""

    def __init__(self, conflicts: dict[str, dict[str, str]], version: str):
        super().__init__(
            {
                key: [
                    _(
                        "Changed by someone else to “%(theirs)s” since you opened this form; "
                        "you entered “%(yours)s”. Check which is right and save again."
                    )
                    % both
                ]
                for key, both in conflicts.items()
            },
            code="conflict",
        )
        self.conflicts = conflicts
        self.version = version


# --- versions: the wave's history rows ------------------------------------------------------


def wave_version(wave: Wave) -> str:
    """The wave's data version: the newest history row of its values and of its survey
    ("<value history id>.<survey history id>"). Writes to one wave hold its row lock, so these
    ids grow in commit order per wave."""
    value_top = (
        IndicatorValue.history.filter(wave_id=wave.pk).aggregate(top=Max("history_id"))["top"] or 0
    )
    survey_top = (
        WaveSurvey.history.filter(wave_id=wave.pk).aggregate(top=Max("history_id"))["top"] or 0
    )
    return f"{value_top}.{survey_top}"


def parse_version(text: object) -> tuple[int, int] | None:
    """A version as sent by a form or an If-Match header ('"12.3"' or '12.3'); None when absent."""
    if text in (None, ""):
        return None
    raw = str(text).strip().removeprefix("W/").strip('"')
    try:
        values_part, survey_part = raw.split(".")
        return int(values_part), int(survey_part)
    except ValueError:
        raise ValidationError(
            {"version": _("'%(raw)s' is not a version of this wave.") % {"raw": raw}}
        ) from None


def values_as_of(wave: Wave, history_id: int) -> dict[int, Entry]:
    """indicator id -> the wave's live entry as it stood at a version (from its history)."""
    state: dict[int, Entry] = {}
    rows = (
        IndicatorValue.history.filter(wave_id=wave.pk, history_id__lte=history_id)
        .order_by("history_id")
        .values_list("indicator_id", "value", "missing_code", "is_deleted", "history_type")
    )
    for indicator_id, value, missing_code, is_deleted, history_type in rows:
        if is_deleted or history_type == "-":
            state.pop(indicator_id, None)
        else:
            state[indicator_id] = Entry(value=value, missing_code=missing_code)
    return state


def lock_wave(wave: Wave) -> None:
    """Take the wave's row lock for this transaction (PostgreSQL; SQLite serialises writers
    anyway) and see a lock set meanwhile by someone else."""
    wave.locked = Wave.objects.select_for_update().values_list("locked", flat=True).get(pk=wave.pk)
    ensure_unlocked(wave)


def entry_text(entry: Entry | None) -> str:
    """An entry as a person reads it: the number, the missing code's label, or empty."""
    if entry is None or (entry.value is None and not entry.missing_code):
        return ""
    if entry.value is not None:
        return _fmt(entry.value)
    return str(MissingCode(entry.missing_code).label)


# --- soft limits ----------------------------------------------------------------------------


def data_policy(study) -> StudyDataPolicy:
    """The study's data-entry rules (defaults when it has none stored)."""
    policy = StudyDataPolicy.objects.filter(study=study).first()
    return policy or StudyDataPolicy(study=study)


_LIMITS_TTL = 600  # seconds a study's soft limits are reused (they move slowly)


def soft_limit(*, study, indicator: Indicator, policy: StudyDataPolicy) -> Decimal | None:
    """The percentile of the study's live values of an indicator so far (None: too few);
    cached for a few minutes, so a bulk write does not recount the study per value."""
    key = f"soft-limit:{study.pk}:{indicator.pk}:{policy.soft_limit_percentile}:{policy.soft_limit_min_values}"
    cached = cache.get(key)
    if cached is not None:
        return None if cached == "" else Decimal(cached)
    limit = _soft_limit_now(study=study, indicator=indicator, policy=policy)
    cache.set(key, "" if limit is None else str(limit), _LIMITS_TTL)
    return limit


def _soft_limit_now(*, study, indicator: Indicator, policy: StudyDataPolicy) -> Decimal | None:
    values = IndicatorValue.objects.alive().filter(
        wave__family__study=study, indicator=indicator, value__isnull=False
    )
    count = values.count()
    if count < max(policy.soft_limit_min_values, 1):
        return None
    position = int((count - 1) * policy.soft_limit_percentile / 100)
    return values.order_by("value").values_list("value", flat=True)[position]


def _soft_limit_errors(
    wave: Wave,
    changes: Mapping[Indicator, Entry],
    confirmed: Iterable[str],
) -> tuple[dict[str, ValidationError], list[str]]:
    """Values beyond the study's soft limit: an error the person may confirm (code SOFT_LIMIT)
    unless confirmed; returns (errors, codes confirmed beyond their limit)."""
    study = wave.family.study
    policy = data_policy(study)
    confirmed = set(confirmed)
    errors: dict[str, ValidationError] = {}
    accepted: list[str] = []
    for indicator, entry in changes.items():
        if not entry.value:
            continue
        limit = soft_limit(study=study, indicator=indicator, policy=policy)
        if limit is None or entry.value <= limit:
            continue
        if indicator.code in confirmed:
            accepted.append(indicator.code)
            continue
        errors[indicator.code] = ValidationError(
            _(
                "%(value)s is unusually high: %(pct)s %% of this study's values are at most "
                "%(limit)s. Confirm it if it is right."
            )
            % {
                "value": _fmt(entry.value),
                "pct": policy.soft_limit_percentile,
                "limit": _fmt(limit),
            },
            code=SOFT_LIMIT,
        )
    return errors, accepted


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


# --- recording ------------------------------------------------------------------------------


def _clear_errors(wave: Wave, clears: Iterable[str], catalogue: Mapping[str, Indicator]) -> dict:
    errors: dict[str, str] = {}
    policy = data_policy(wave.family.study)
    for code in clears:
        if code not in catalogue:
            errors[code] = _("Unknown indicator '%(code)s'.") % {"code": code}
        elif policy.require_missing_reason:
            errors[code] = _(
                "This study does not allow an empty field where a value was: choose why the "
                "value is missing instead."
            )
    return errors


def indicator_values_check(
    *,
    wave: Wave,
    values: Mapping[str, object],
    clears: Iterable[str] = (),
    soft_confirmed: Iterable[str] = (),
    soft_limits: bool = False,
) -> tuple[dict[Indicator, Entry], dict[str, list[ValidationError]], list[str]]:
    """Every problem of a wave's values in one pass, nothing written: (entries, errors by code,
    codes confirmed beyond their soft limit)."""
    catalogue = {i.code: i for i in indicators_for(wave.family.study)}
    entries, parse_errors = _parse_all(wave, values)
    errors: dict[str, list[ValidationError]] = {}
    for code, text in {
        **parse_errors,
        **_consistency_errors(wave, entries),
        **_clear_errors(wave, clears, catalogue),
    }.items():
        errors.setdefault(code, []).append(ValidationError(text))
    accepted: list[str] = []
    if soft_limits:
        soft, accepted = _soft_limit_errors(
            wave, {i: e for i, e in entries.items() if i.code not in errors}, soft_confirmed
        )
        for code, error in soft.items():
            errors.setdefault(code, []).append(error)
    return entries, errors, accepted


@transaction.atomic
def indicator_values_record(
    *,
    wave: Wave,
    values: Mapping[str, object],
    user=None,
    source: str = Source.MANUAL,
    import_batch: ImportBatch | None = None,
    reason: str = "",
    clears: Iterable[str] = (),
    base_version: str | None = None,
    soft_confirmed: Iterable[str] = (),
    soft_limits: bool = False,
) -> RecordOutcome:
    """Record registry indicator values of one wave (code -> number, missing code, or Entry).

    Validates every value first and saves nothing if any is wrong (errors keyed by code; a
    value beyond the study's soft limit is an error with code SOFT_LIMIT unless its code is in
    `soft_confirmed`). An empty input changes nothing; `clears` names the indicators whose value
    is removed (soft-deleted, audited). With `base_version` (see `wave_version`) a value changed
    by someone else since that version is not overwritten: ConflictError. Holds the wave's row
    lock, so parallel writes to one wave queue instead of colliding.
    """
    lock_wave(wave)
    clears = [c for c in dict.fromkeys(clears) if c not in values or values[c] in (None, "")]
    entries, errors, accepted = indicator_values_check(
        wave=wave,
        values=values,
        clears=clears,
        soft_confirmed=soft_confirmed,
        soft_limits=soft_limits,
    )
    if errors:
        raise ValidationError(errors)
    catalogue = {i.code: i for i in indicators_for(wave.family.study)}
    live = {v.indicator_id: v for v in IndicatorValue.objects.alive().filter(wave=wave)}

    def live_entry(indicator_id: int) -> Entry | None:
        row = live.get(indicator_id)
        return None if row is None else Entry(row.value, row.missing_code)

    changes = {i: e for i, e in entries.items() if live_entry(i.pk) != e}
    to_clear = [catalogue[c] for c in clears if c in catalogue and catalogue[c].pk in live]
    base = parse_version(base_version)
    if base is not None:
        before = values_as_of(wave, base[0])
        conflicts = {
            indicator.code: {
                "theirs": entry_text(live_entry(indicator.pk)),
                "yours": entry_text(changes.get(indicator)),
            }
            for indicator in [*changes, *to_clear]
            if before.get(indicator.pk) != live_entry(indicator.pk)
        }
        if conflicts:
            raise ConflictError(conflicts, wave_version(wave))
    why = reason or f"values recorded ({source})"
    if accepted:
        why = f"{why}; confirmed beyond the soft limit: {', '.join(sorted(accepted))}"
    created, updated, _same = values_apply_bulk(
        {(wave.pk, indicator.pk): entry for indicator, entry in changes.items()},
        user=user,
        source=source,
        import_batch=import_batch,
        reason=why,
    )
    for indicator in to_clear:
        value = live[indicator.pk]
        value.is_deleted, value.deleted_at = True, timezone.now()
        value.deleted_reason = reason or _("cleared on entry")
        audited_save(
            value,
            user=user,
            reason=f"cleared ({source}): {reason}" if reason else f"cleared ({source})",
        )
    if (changes or to_clear) and source in (Source.MANUAL, Source.API):
        from study.services.quality import quality_run

        quality_run(study=wave.family.study, family_ids=[wave.family_id])
    return RecordOutcome(
        created=created,
        updated=updated,
        unchanged=len(entries) - len(changes),
        cleared=len(to_clear),
        version=wave_version(wave),
        soft_confirmed=tuple(sorted(accepted)),
    )


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
    """Remove a value with a reason (a correction or an erasure of a wrong entry), audited."""
    lock_wave(value.wave)
    if value.is_deleted:
        return value
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for removing this value.")})
    value.is_deleted, value.deleted_at, value.deleted_reason = True, timezone.now(), reason
    audited_save(value, user=user, reason=f"deleted: {reason}")
    return value
