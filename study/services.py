"""The write side of the study app: every change to study data goes through these functions.

Each service takes keyword-only arguments, runs in one transaction, checks the business rules
(access, enrolment caps, locked waves, value ranges) and leaves an audit record with the acting
user and a reason. Errors are `ValidationError`s keyed by field, so forms and the API can show
them next to the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from study import linkage
from study.catalogue import indicators_for
from study.models import (
    Arm,
    CareInvolvement,
    CaseloadAssignment,
    Contact,
    Family,
    Indicator,
    IndicatorValue,
    Member,
    MissingCode,
    Professional,
    ProfessionalSurvey,
    Source,
    Study,
    StudyMembership,
    Wave,
    WaveSurvey,
)
from study.roles import Role, is_data_manager, is_researcher


class WaveLockedError(ValidationError):
    """Raised when a change would touch a locked wave."""


def _audited_save(
    obj, *, user, reason: str, update_fields: list[str] | None = None, checked: tuple = ()
) -> None:
    """Validate, save and record who and why. `checked` names foreign keys the caller has just
    verified in the database (no second existence query for them)."""
    obj._history_user = user
    obj._change_reason = reason
    obj.full_clean(exclude=_clean_exclusions(obj) + list(checked))
    obj.save(update_fields=update_fields)


def _clean_exclusions(obj) -> list[str]:
    # Unique checks on soft-deletable rows are enforced by partial DB constraints instead.
    excluded = ["pseudonym"] if isinstance(obj, Family) else []
    # A foreign key given as a saved object needs no existence query (the database's foreign
    # key constraint still guards it); this saves a query per relation on every write.
    for field in obj._meta.concrete_fields:
        if field.is_relation and field.is_cached(obj):
            related = field.get_cached_value(obj)
            if related is not None and related.pk is not None:
                excluded.append(field.name)
    return excluded


# --- studies -------------------------------------------------------------------------------


@transaction.atomic
def study_create(*, name: str, municipality: str, start_date: date, user=None, **options) -> Study:
    """A new study with its two arms (intervention and care as usual)."""
    study = Study(name=name, municipality=municipality, start_date=start_date, **options)
    _audited_save(study, user=user, reason="study created")
    for kind in Arm.Kind:
        arm = Arm(study=study, kind=kind)
        _audited_save(arm, user=user, reason="study created")
    return study


@transaction.atomic
def membership_grant(*, study: Study, user, role: str, granted_by=None) -> StudyMembership:
    membership, _created = StudyMembership.objects.get_or_create(
        study=study, user=user, role=role, defaults={"active": True}
    )
    if not membership.active:
        membership.active = True
        _audited_save(membership, user=granted_by, reason="membership re-activated")
    return membership


# --- families and waves --------------------------------------------------------------------


@dataclass(frozen=True)
class MemberSpec:
    role: str
    birth_year: int
    relation: str = ""


def wave_schedule(*, study: Study, intake_date: date) -> list[dict]:
    """The waves that follow from an intake date: pre-intake registry years, T0, T1 … Tn."""
    rows = []
    window = relativedelta(days=study.wave_window_days)
    for index in study.wave_indices:
        row = {"index": index, "year": intake_date.year + index}
        if index < 0:
            row["status"] = Wave.Status.REGISTRY
        else:
            due = intake_date + relativedelta(months=study.wave_interval_months * index)
            row.update(
                status=Wave.Status.PLANNED,
                due_date=due,
                window_start=due - window if index else intake_date,
                window_end=due + window,
            )
        rows.append(row)
    return rows


def _check_cap(*, study: Study, arm: Arm) -> None:
    cap = study.intervention_cap if arm.is_intervention else study.comparison_cap
    if cap is None:
        return
    enrolled = Family.objects.alive().filter(study=study, arm=arm).count()
    if enrolled >= cap:
        raise ValidationError(
            {
                "arm": _("The %(arm)s is full: %(cap)d families are enrolled (the study's cap).")
                % {"arm": arm.get_kind_display(), "cap": cap}
            }
        )


def _check_eligibility(eligibility: Mapping[str, bool]) -> None:
    missing = [
        label
        for key, label in (
            ("elig_socio_economic", _("socio-economic problems")),
            ("elig_adult_psychosocial", _("psychosocial problems of an adult")),
            ("elig_child_psychosocial", _("psychosocial problems of a child")),
            ("elig_chronic", _("support in each of the two preceding years")),
        )
        if not eligibility.get(key)
    ]
    if missing:
        raise ValidationError(
            {
                "__all__": _("Not eligible as a multi-problem family: missing %(what)s.")
                % {"what": ", ".join(missing)}
            }
        )


def _check_members(members: Iterable[MemberSpec], intake_year: int) -> None:
    members = list(members)
    adults = [m for m in members if m.role == Member.Role.ADULT]
    children = [
        m for m in members if m.role == Member.Role.CHILD and intake_year - m.birth_year <= 17
    ]
    if not adults or not children:
        raise ValidationError(
            {"members": _("A family needs at least one adult and one child aged 0-17 at intake.")}
        )


@transaction.atomic
def family_enrol(
    *,
    study: Study,
    arm_kind: str,
    intake_date: date,
    allocation: str,
    eligibility: Mapping[str, bool],
    members: Iterable[MemberSpec],
    wijk: str = "",
    identifier: str | None = None,
    identifier_kind: str = "bsn",
    linkage_key: str = "",
    allocation_date: date | None = None,
    user=None,
    source: str = Source.MANUAL,
) -> Family:
    """Enrol an eligible family in an arm, with its members and its wave schedule.

    `identifier` (a BSN) is turned into the linkage key on the spot and never stored.
    """
    arm = Arm.objects.get(study=study, kind=arm_kind)
    _check_cap(study=study, arm=arm)
    _check_eligibility(eligibility)
    members = list(members)
    _check_members(members, intake_date.year)
    if identifier:
        try:
            linkage_key = linkage.bsn_linkage_key(identifier, key=settings.LINKAGE_KEY)
        except linkage.IdentifierError as exc:
            raise ValidationError({"identifier": str(exc)}) from None
    if linkage_key and Family.objects.filter(study=study, linkage_key=linkage_key).exists():
        raise ValidationError({"identifier": _("This family is already enrolled in the study.")})
    family = Family(
        study=study,
        arm=arm,
        wijk=wijk,
        intake_date=intake_date,
        allocation=allocation,
        allocation_date=allocation_date or intake_date,
        allocated_by=user,
        linkage_key=linkage_key,
        **{k: bool(v) for k, v in eligibility.items()},
    )
    _audited_save(family, user=user, reason="family enrolled")
    bulk_create_with_history(
        [
            Member(family=family, role=m.role, birth_year=m.birth_year, relation=m.relation)
            for m in members
        ],
        Member,
        default_user=user,
        default_change_reason="family enrolled",
    )
    bulk_create_with_history(
        [Wave(family=family, **row) for row in wave_schedule(study=study, intake_date=intake_date)],
        Wave,
        default_user=user,
        default_change_reason="wave schedule",
    )
    return family


@transaction.atomic
def family_set_status(
    *, family: Family, status: str, on: date, reason: str = "", user=None
) -> Family:
    if status != Family.Status.ACTIVE and not reason:
        raise ValidationError({"status_reason": _("Give a reason for this status.")})
    family.status, family.status_date, family.status_reason = status, on, reason
    _audited_save(family, user=user, reason=f"status: {status}")
    return family


@transaction.atomic
def family_soft_delete(*, family: Family, reason: str, user) -> Family:
    if not reason.strip():
        raise ValidationError({"deleted_reason": _("Give a reason for removing this family.")})
    family.is_deleted, family.deleted_at, family.deleted_reason = True, timezone.now(), reason
    _audited_save(family, user=user, reason=f"deleted: {reason}")
    return family


def _ensure_unlocked(wave: Wave) -> None:
    if wave.locked:
        raise WaveLockedError(
            _("Wave %(wave)s of family %(family)s is locked; a data manager must unlock it first.")
            % {"wave": wave.label, "family": wave.family.pseudonym}
        )


@transaction.atomic
def wave_lock(*, wave: Wave, user) -> Wave:
    if not (is_researcher(user) or is_data_manager(user)):
        raise PermissionDenied(_("Only researchers and data managers lock waves."))
    if wave.locked:
        return wave
    wave.locked, wave.locked_at, wave.locked_by = True, timezone.now(), user
    _audited_save(wave, user=user, reason="wave locked")
    return wave


@transaction.atomic
def wave_unlock(*, wave: Wave, user, reason: str) -> Wave:
    if not is_data_manager(user):
        raise PermissionDenied(_("Only a data manager can unlock a wave."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for unlocking this wave.")})
    wave.locked, wave.locked_at, wave.locked_by = False, None, None
    _audited_save(wave, user=user, reason=f"wave unlocked: {reason}")
    return wave


@transaction.atomic
def wave_complete(*, wave: Wave, on: date, user=None) -> Wave:
    _ensure_unlocked(wave)
    if wave.is_pre_intake:
        raise ValidationError(
            _("Pre-intake registry years are not completed; they hold registry values.")
        )
    wave.status, wave.completed_date, wave.missed_reason = Wave.Status.COMPLETED, on, ""
    _audited_save(wave, user=user, reason="wave completed")
    return wave


@transaction.atomic
def wave_mark_missed(*, wave: Wave, reason: str, user=None) -> Wave:
    _ensure_unlocked(wave)
    if not reason.strip():
        raise ValidationError({"missed_reason": _("Give a reason why the wave was missed.")})
    wave.status, wave.missed_reason = Wave.Status.MISSED, reason
    _audited_save(wave, user=user, reason="wave missed")
    return wave


# --- indicator values ----------------------------------------------------------------------


_MISSING_CODES = frozenset(MissingCode.values)


@dataclass(frozen=True)
class Entry:
    """One value to record: a number, or a missing-data code (never both)."""

    value: Decimal | None = None
    missing_code: str = ""


def parse_entry(raw, *, indicator: Indicator) -> Entry:
    """Turn user input into an Entry, or raise ValidationError with a readable message."""
    if isinstance(raw, Entry):
        entry = raw
    elif raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return Entry()
    elif isinstance(raw, str) and raw.strip() in _MISSING_CODES:
        return Entry(missing_code=raw.strip())
    else:
        text = str(raw).strip().replace(",", ".")
        try:
            entry = Entry(value=Decimal(text))
        except InvalidOperation:
            raise ValidationError(_("'%(raw)s' is not a number.") % {"raw": raw}) from None
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


@transaction.atomic
def indicator_values_record(
    *,
    wave: Wave,
    values: Mapping[str, object],
    user=None,
    source: str = Source.MANUAL,
    import_batch=None,
    reason: str = "",
) -> RecordOutcome:
    """Record registry indicator values of one wave (code -> number, missing code, or Entry).

    Validates every value first and saves nothing if any is wrong (errors keyed by code).
    An empty input clears nothing: to remove a value, soft-delete it explicitly.
    """
    _ensure_unlocked(wave)
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
    errors.update(_consistency_errors(wave, entries))
    if errors:
        raise ValidationError(errors)
    return _apply_entries(
        wave=wave,
        entries=entries,
        user=user,
        source=source,
        import_batch=import_batch,
        reason=reason or f"values recorded ({source})",
    )


def _apply_entries(*, wave, entries, user, source, import_batch, reason) -> RecordOutcome:
    created, updated, unchanged = values_apply_bulk(
        {(wave.pk, indicator.pk): entry for indicator, entry in entries.items()},
        user=user,
        source=source,
        import_batch=import_batch,
        reason=reason,
    )
    return RecordOutcome(created=created, updated=updated, unchanged=unchanged)


_VALUE_COLUMNS = (
    "is_deleted",
    "deleted_at",
    "deleted_reason",
    "wave_id",
    "indicator_id",
    "value",
    "missing_code",
    "source",
    "import_batch_id",
    "updated_at",
)
_HISTORY_COLUMNS = (
    "id",
    *_VALUE_COLUMNS,
    "history_date",
    "history_change_reason",
    "history_type",
    "history_user_id",
)
_CHUNK = 5000


def _insert_rows(table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Many rows at once: COPY on PostgreSQL, executemany elsewhere (no per-object ORM cost)."""
    if not rows:
        return
    qn = connection.ops.quote_name
    names = ", ".join(qn(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {qn(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {qn(table)} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
        for start in range(0, len(rows), _CHUNK):
            cursor.executemany(sql, rows[start : start + _CHUNK])


def values_apply_bulk(
    entries: dict[tuple[int, int], Entry], *, user, source: str, import_batch, reason: str
) -> tuple[int, int, int]:
    """Create or update live values for (wave id, indicator id) pairs and write one history row
    per change (who, when, why: the same rows django-simple-history writes); returns (created,
    updated, unchanged). Callers hold a transaction and have checked every entry.

    Written with COPY / executemany instead of the ORM's bulk helpers: a 100,000-value extract
    spends most of its time in per-field ORM preparation otherwise.
    """
    wave_ids = sorted({w for w, _ in entries})
    current: dict[tuple[int, int], tuple[int, Decimal | None, str]] = {}
    for start in range(0, len(wave_ids), 2000):
        for pk, wave_id, indicator_id, value, missing_code in (
            IndicatorValue.objects.alive()
            .filter(wave_id__in=wave_ids[start : start + 2000])
            .values_list("pk", "wave_id", "indicator_id", "value", "missing_code")
        ):
            current[(wave_id, indicator_id)] = (pk, value, missing_code)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    batch_id = import_batch.pk if import_batch is not None else None
    user_id = user.pk if user is not None else None
    created: list[tuple] = []
    updated: list[tuple[int, tuple]] = []
    unchanged = 0
    for (wave_id, indicator_id), entry in entries.items():
        row = (
            False,
            None,
            "",
            wave_id,
            indicator_id,
            entry.value,
            entry.missing_code,
            source,
            batch_id,
            now,
        )
        existing = current.get((wave_id, indicator_id))
        if existing is None:
            created.append(row)
        elif (existing[1], existing[2]) != (entry.value, entry.missing_code):
            updated.append((existing[0], row))
        else:
            unchanged += 1
    table = IndicatorValue._meta.db_table
    _insert_rows(table, _VALUE_COLUMNS, created)
    if updated:
        qn = connection.ops.quote_name
        sql = (
            f"UPDATE {qn(table)} SET {qn('value')} = %s, {qn('missing_code')} = %s, "
            f"{qn('source')} = %s, {qn('import_batch_id')} = %s, {qn('updated_at')} = %s "
            f"WHERE {qn('id')} = %s"
        )
        params = [(r[5], r[6], r[7], r[8], r[9], pk) for pk, r in updated]
        with connection.cursor() as cursor:
            for start in range(0, len(params), _CHUNK):
                cursor.executemany(sql, params[start : start + _CHUNK])
    history: list[tuple] = []
    if created:
        # One live row per (wave, indicator) (a unique constraint), so these are the new ones.
        new_ids = {
            (w, i): pk
            for start in range(0, len(wave_ids), 2000)
            for pk, w, i in IndicatorValue.objects.alive()
            .filter(wave_id__in=wave_ids[start : start + 2000])
            .values_list("pk", "wave_id", "indicator_id")
        }
        history += [(new_ids[(r[3], r[4])], *r, now, reason, "+", user_id) for r in created]
    history += [(pk, *r, now, reason, "~", user_id) for pk, r in updated]
    _insert_rows(IndicatorValue.history.model._meta.db_table, _HISTORY_COLUMNS, history)
    return len(created), len(updated), unchanged


@transaction.atomic
def indicator_value_soft_delete(*, value: IndicatorValue, reason: str, user) -> IndicatorValue:
    _ensure_unlocked(value.wave)
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for removing this value.")})
    value.is_deleted, value.deleted_at, value.deleted_reason = True, timezone.now(), reason
    _audited_save(value, user=user, reason=f"deleted: {reason}")
    return value


# --- surveys -------------------------------------------------------------------------------


@transaction.atomic
def wave_survey_record(
    *, wave: Wave, data: Mapping[str, object], user=None, source: str = Source.MANUAL
) -> WaveSurvey:
    """Record (or change) a family's survey answers for a wave (T0 or later)."""
    _ensure_unlocked(wave)
    if wave.is_pre_intake:
        raise ValidationError(_("Surveys belong to T0 or later, not to pre-intake registry years."))
    survey = WaveSurvey.objects.filter(wave=wave).first() or WaveSurvey(wave=wave)
    allowed = set(WaveSurvey.SCORE_FIELDS) | {"qol_instrument", "missing_codes"}
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError({f: _("Unknown survey field.") for f in sorted(unknown)})
    for field, value in data.items():
        setattr(survey, field, None if value == "" else value)
    survey.source = source
    _audited_save(survey, user=user, reason="survey recorded")
    return survey


# --- care workers, caseloads and contacts --------------------------------------------------


def _coach_may_touch(*, user, family: Family) -> None:
    if not Family.objects.visible_to(user).filter(pk=family.pk).exists():
        raise PermissionDenied(_("No family with this id on your caseload."))


@transaction.atomic
def caseload_assign(*, family: Family, coach, start_date: date, user=None) -> CaseloadAssignment:
    if not coach.groups.filter(name=Role.WIJKCOACH).exists():
        raise ValidationError({"coach": _("Only a wijkcoach can have a caseload.")})
    assignment = CaseloadAssignment(family=family, coach=coach, start_date=start_date)
    _audited_save(assignment, user=user, reason="caseload assigned")
    return assignment


@transaction.atomic
def caseload_end(
    *, assignment: CaseloadAssignment, end_date: date, user=None
) -> CaseloadAssignment:
    assignment.end_date = end_date
    _audited_save(assignment, user=user, reason="caseload ended")
    return assignment


@transaction.atomic
def care_involvement_add(
    *,
    family: Family,
    organisation: str,
    discipline: str,
    start_date: date,
    end_date: date | None = None,
    user=None,
) -> CareInvolvement:
    _coach_may_touch(user=user, family=family)
    if end_date and end_date < start_date:
        raise ValidationError({"end_date": _("The end date lies before the start date.")})
    involvement = CareInvolvement(
        family=family,
        organisation=organisation,
        discipline=discipline,
        start_date=start_date,
        end_date=end_date,
        recorded_by=user,
    )
    _audited_save(involvement, user=user, reason="care worker added")
    return involvement


@transaction.atomic
def care_involvement_end(
    *, involvement: CareInvolvement, end_date: date, user=None
) -> CareInvolvement:
    _coach_may_touch(user=user, family=involvement.family)
    if end_date < involvement.start_date:
        raise ValidationError({"end_date": _("The end date lies before the start date.")})
    involvement.end_date = end_date
    _audited_save(involvement, user=user, reason="care worker ended")
    return involvement


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
    if not Family.objects.caseload_has(coach, family_id):
        raise PermissionDenied(_("No family with this id on your caseload."))
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
        contact.full_clean(exclude=[*_clean_exclusions(contact), "family"])
        _insert_with_history(contact, user=coach, reason="contact logged")
    else:
        with transaction.atomic():  # the row and its history row together
            _audited_save(contact, user=coach, reason="contact logged", checked=("family",))
    return contact


def _insert_with_history(obj, *, user, reason: str) -> None:
    """PostgreSQL: write a new row and its history row ('+', who, why: the row
    django-simple-history writes) in one statement, a data-modifying CTE. Contact logging is
    the API's hot path; one atomic statement saves the transaction's round trips."""
    model, history = type(obj), type(obj).history.model
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
    qn = connection.ops.quote_name
    names = [qn(f.column) for f in fields]
    copied = [
        qn(f.column)
        for f in history._meta.concrete_fields
        if f.column in {"id", *(f.column for f in fields)}
    ]
    sql = (
        f"WITH new AS (INSERT INTO {qn(model._meta.db_table)} ({', '.join(names)}) "
        f"VALUES ({', '.join(['%s'] * len(names))}) RETURNING *) "
        f"INSERT INTO {qn(history._meta.db_table)} ({', '.join(copied)}, {qn('history_date')}, "
        f"{qn('history_change_reason')}, {qn('history_type')}, {qn('history_user_id')}) "
        f"SELECT {', '.join('new.' + c for c in copied)}, %s, %s, '+', %s FROM new "
        f"RETURNING {qn('id')}"
    )
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    user_id = user.pk if getattr(user, "is_authenticated", False) else None
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, stamp, reason, user_id])
        obj.pk = cursor.fetchone()[0]
    obj._state.adding, obj._state.db = False, connection.alias


# --- professionals -------------------------------------------------------------------------


@transaction.atomic
def professional_survey_record(
    *, professional: Professional, year: int, answers: Mapping[str, int | None], user=None
) -> ProfessionalSurvey:
    unknown = set(answers) - set(ProfessionalSurvey.SCALES)
    if unknown:
        raise ValidationError({f: _("Unknown survey field.") for f in sorted(unknown)})
    survey = ProfessionalSurvey.objects.alive().filter(
        professional=professional, year=year
    ).first() or ProfessionalSurvey(professional=professional, year=year)
    for field, value in answers.items():
        setattr(survey, field, value)
    _audited_save(survey, user=user, reason="professional survey recorded")
    return survey


# --- wave entry page -----------------------------------------------------------------------


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
