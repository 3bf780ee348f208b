"""The readable audit trail: the history tables of a family's (or a study's) data as rows a
person reads: who (a name), when, what (a label, not an id), old → new values as shown on the
pages, why; filterable by person, wave, field and date, paged, and as CSV.

Read only: the history rows are written by the services and sealed by `study.audit`; nothing
here changes them.
"""

from __future__ import annotations

import csv
import heapq
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import islice

from django.contrib.auth import get_user_model
from django.db import connections, models
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from study.models import (
    Arm,
    CareCatalogueEntry,
    CareInvolvement,
    Contact,
    Family,
    FamilyErasure,
    Indicator,
    IndicatorValue,
    Member,
    Wave,
    WaveSurvey,
)

#: Columns never shown: bookkeeping, and what must not be read here (a linkage key, a note).
HIDDEN = {"id", "updated_at", "created_at", "deleted_at", "linkage_key", "history_id"}
MASKED = {"note"}  # a contact note may be private: the trail says it changed, not what it says
TYPES = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass(frozen=True)
class TrailFilter:
    person: str = ""  # a username
    wave: int | None = None  # a wave index (T…)
    field: str = ""  # an indicator code or a field name
    since: date | None = None
    until: date | None = None


def _sources(families: QuerySet[Family] | list[int], wave: int | None) -> list[QuerySet]:
    # Ids read beforehand are a plain IN list: each history table's query is then cheap to
    # build and to plan (not the access rule's subquery once per table).
    ids = (
        families
        if isinstance(families, list)
        else families.model._base_manager.filter(pk__in=families.values("pk")).values("pk")
    )
    by_wave = {} if wave is None else {"wave__index": wave}
    sources: list[QuerySet] = [
        IndicatorValue.history.filter(wave__family_id__in=ids, **by_wave),
        WaveSurvey.history.filter(wave__family_id__in=ids, **by_wave),
        Wave.history.filter(family_id__in=ids, **({} if wave is None else {"index": wave})),
    ]
    if wave is None:
        sources += [
            Family.history.filter(id__in=ids),
            Member.history.filter(family_id__in=ids),
            CareInvolvement.history.filter(family_id__in=ids),
            Contact.history.filter(family_id__in=ids),
            FamilyErasure.history.filter(family_id__in=ids),
        ]
    return sources


_HISTORY_MODELS: list = []


def _source_models(wave: int | None) -> list:
    """The history models of `_sources`, in its order (the table numbers of the merge); read
    once per process (each `Model.history` access builds a manager class)."""
    if not _HISTORY_MODELS:
        _HISTORY_MODELS.extend(
            model.history.model  # type: ignore[attr-defined]
            for model in (
                IndicatorValue,
                WaveSurvey,
                Wave,
                Family,
                Member,
                CareInvolvement,
                Contact,
                FamilyErasure,
            )
        )
    return _HISTORY_MODELS[:3] if wave is not None else list(_HISTORY_MODELS)


def _filtered(qs: QuerySet, spec: TrailFilter) -> QuerySet:
    if spec.person:
        qs = qs.filter(history_user__username=spec.person)
    tz = timezone.get_current_timezone()
    if spec.since:
        qs = qs.filter(history_date__gte=datetime.combine(spec.since, time.min, tz))
    if spec.until:
        qs = qs.filter(
            history_date__lt=datetime.combine(spec.until + timedelta(days=1), time.min, tz)
        )
    if spec.field and qs.model.instance_type is IndicatorValue:
        qs = qs.filter(indicator__code=spec.field)
    return qs.order_by("-history_date", "-history_id")


class _Names:
    """Names for the ids a history row holds (users, arms, indicators, waves), looked up once."""

    def __init__(self) -> None:
        self.users: dict[int, str] = {}
        self._dutch = (get_language() or "nl").startswith("nl")
        self._indicators: dict[int, str] | None = None
        self._arms: dict[int, str] | None = None
        self.waves: dict[int, str] = {}
        self.families: dict[int, str] = {}
        self.care_names: dict[int, str] = {}
        # The words every row repeats, translated once per trail (not once per row).
        self.words = {
            "system": _("system"),
            "survey": _("survey"),
            "contact": _("contact"),
            "erasure": _("erasure"),
            "created": _("created"),
            "changed": _("changed"),
            "deleted": _("removed"),
        }
        self.verbose: dict = {}  # a field or model -> its verbose name as text

    @property
    def indicators(self) -> dict[int, str]:
        """Each indicator's label in the page's language (plain columns, not instances); read
        when a row first needs one (a page of contacts does not)."""
        if self._indicators is None:
            dutch = self._dutch
            self._indicators = {
                pk: (nl if dutch else en)
                for pk, nl, en in Indicator.objects.values_list("pk", "label_nl", "label_en")
            }
        return self._indicators

    @property
    def arms(self) -> dict[int, str]:
        if self._arms is None:
            self._arms = {a.pk: a.get_kind_display() for a in Arm.objects.all()}
        return self._arms

    def choice_words(self, field: models.Field) -> dict:
        """A field's choices as words (text), once per trail."""
        key = ("choices", field)
        if key not in self.verbose:
            self.verbose[key] = {k: str(v) for k, v in field.flatchoices}
        return self.verbose[key]

    def verbose_name(self, of) -> str:
        """A field's (or a model's options') verbose name as text, once per trail."""
        if of not in self.verbose:
            self.verbose[of] = str(of.verbose_name)
        return self.verbose[of]

    def columns(self, model) -> list[tuple[models.Field, str, str, bool]]:
        """The history model's tracked fields as `_row` reads them, once per trail: the field,
        its attname, its verbose name as text, and whether a created row leaves it out."""
        key = ("columns", model)
        if key not in self.verbose:
            self.verbose[key] = [
                (f, f.attname, self.verbose_name(f), f.name in _NOT_ON_CREATE)
                for f in _fields(model)
            ]
        return self.verbose[key]

    def preload(self, records: list) -> None:
        """Names for a batch of history rows: what the history query brought along (the user,
        the wave's and family's labels), the rest in one query per kind of target (users,
        waves, families, care catalogue entries) instead of one query per id."""
        for record in records:
            self._carried(record)
        wanted = self._wanted(records)
        users = get_user_model().objects.values_list("pk", "username")
        self._fill(self.users, wanted["user"], lambda ids: dict(users.filter(pk__in=ids)))
        self._fill(self.waves, wanted["wave"], _wave_labels, missing="?")
        families = Family._base_manager.order_by().values_list("pk", "pseudonym")
        self._fill(
            self.families, wanted["family"], lambda ids: dict(families.filter(pk__in=ids)), "?"
        )
        care = CareCatalogueEntry.objects.values_list("pk", "name")
        self._fill(self.care_names, wanted["care"], lambda ids: dict(care.filter(pk__in=ids)), "?")

    def _carried(self, record) -> None:
        if record.history_user_id is not None:
            username = record._username  # None: the user is gone
            self.users.setdefault(
                record.history_user_id, username if username is not None else _("removed user")
            )
        index = getattr(record, "_wave_index", _UNSET)
        if index is not _UNSET:
            pseudonym = record._wave_pseudonym
            self.waves.setdefault(
                record.wave_id,
                "?" if index is None or pseudonym is None else f"{pseudonym} T{index}",
            )
        pseudonym = getattr(record, "_family_pseudonym", _UNSET)
        if pseudonym is not _UNSET:
            self.families.setdefault(record.family_id, pseudonym or "?")

    def _wanted(self, records: list) -> dict[str, set]:
        """The foreign-key values (new and previous) of the batch whose name is not known yet."""
        caches = {
            "user": self.users,
            "wave": self.waves,
            "family": self.families,
            "care": self.care_names,
        }
        wanted: dict[str, set] = {kind: set() for kind in caches}
        for record in records:
            previous = record._previous
            for field, kind in _name_fields(type(record)):
                for value in (
                    getattr(record, field.attname),
                    getattr(previous, field.attname, None),
                ):
                    if value is not None and value not in caches[kind]:
                        wanted[kind].add(value)
        return wanted

    @staticmethod
    def _fill(cache: dict, wanted: set, lookup, missing: str | None = None) -> None:
        """Look the wanted ids up in one query (`lookup`: ids -> {pk: name})."""
        if not wanted:
            return
        found = lookup(wanted)
        for pk in wanted:
            cache[pk] = found.get(pk) or (missing if missing is not None else _("removed user"))

    def user(self, pk: int | None) -> str:
        if pk is None:
            return "—"
        if pk not in self.users:
            found = get_user_model().objects.filter(pk=pk).values_list("username", flat=True)
            self.users[pk] = found.first() or _("removed user")
        return self.users[pk]

    def wave(self, pk: int) -> str:
        if pk not in self.waves:
            row = Wave.objects.filter(pk=pk).values_list("index", "family__pseudonym").first()
            self.waves[pk] = f"{row[1]} T{row[0]}" if row else "?"
        return self.waves[pk]

    def care_name(self, pk: int) -> str:
        if pk not in self.care_names:
            found = CareCatalogueEntry.objects.filter(pk=pk).values_list("name", flat=True)
            self.care_names[pk] = found.first() or "?"
        return self.care_names[pk]

    def family(self, pk: int) -> str:
        if pk not in self.families:
            found = Family._base_manager.filter(pk=pk).values_list("pseudonym", flat=True)
            self.families[pk] = found.first() or "?"
        return self.families[pk]


_UNSET = object()


def _wave_labels(ids) -> dict[int, str]:
    rows = Wave.objects.filter(pk__in=ids).values_list("pk", "index", "family__pseudonym")
    return {pk: f"{pseudonym} T{index}" for pk, index, pseudonym in rows}


def _target_kind(field: models.Field) -> str | None:
    """Which name cache a foreign key's value is looked up in (None: not a name lookup)."""
    if not isinstance(field, models.ForeignKey):
        return None
    target = field.related_model
    if target is get_user_model():
        return "user"
    if target is Wave:
        return "wave"
    if target is Family:
        return "family"
    if target is CareCatalogueEntry:
        return "care"
    return None


def _related(field: models.ForeignKey, value, names: _Names) -> str:
    target = field.related_model
    if target is get_user_model():
        return names.user(value)
    if target is Arm:
        return names.arms.get(value, "?")
    if target is Indicator:
        return names.indicators.get(value, "?")
    if target is Wave:
        return names.wave(value)
    if target is Family:
        return names.family(value)
    if target is CareCatalogueEntry:
        return names.care_name(value)
    return str(value)


def _shown(field: models.Field, value: object, names: _Names) -> str:
    """A stored value as the pages show it."""
    if value is None or value == "":
        return "—"
    if field.name in MASKED:
        return _("(text)")
    if isinstance(field, models.ForeignKey):
        return _related(field, value, names)
    if field.choices:
        words = names.choice_words(field)
        return words[value] if value in words else str(value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(value)


_FIELDS: dict[type, list[models.Field]] = {}
_NAME_FIELDS: dict[type, list[tuple[models.Field, str]]] = {}


def _name_fields(model) -> list[tuple[models.Field, str]]:
    """The tracked fields whose values are named through a lookup, with the kind of lookup
    (`_target_kind`); once per history model and process."""
    if model not in _NAME_FIELDS:
        _NAME_FIELDS[model] = [
            (f, kind) for f in _fields(model) if (kind := _target_kind(f)) is not None
        ]
    return _NAME_FIELDS[model]


def _local_day(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d}"


def _fields(model) -> list[models.Field]:
    """The tracked model's fields as the history row holds them (its own model's fields);
    built once per history model and process (the models do not change at run time)."""
    if model not in _FIELDS:
        _FIELDS[model] = [
            f
            for f in model.instance_type._meta.concrete_fields
            if f.name not in HIDDEN and f.attname not in HIDDEN
        ]
    return _FIELDS[model]


class _Previous:
    """The previous version of a changed row (the fields `_row` compares), read for a batch
    of rows at once, so no row needs simple-history's `prev_record` query."""

    def __init__(self, values: dict) -> None:
        self.__dict__.update(values)


def _with_context(qs: QuerySet) -> QuerySet:
    """The history rows with, in the same query, the user name of who made each change and the
    labels of the wave or family each row belongs to. Plain scalar subqueries (SQL that PostgreSQL and SQLite both run): cheap to
    build, evaluated for the rows fetched. The previous versions are read per batch of rows
    (`_attach_previous`, `_newest`)."""
    model = qs.model
    q = connections[qs.db].ops.quote_name
    table = q(model._meta.db_table)
    annotations = {}
    attnames = {f.attname for f in _fields(model)}
    waves, families = q(Wave._meta.db_table), q(Family._meta.db_table)
    users = q(get_user_model()._meta.db_table)
    # The name only, not a user instance per row (a join and a model built for each).
    annotations["_username"] = RawSQL(
        f"SELECT u.{q('username')} FROM {users} u WHERE u.{q('id')} = {table}.{q('history_user_id')}",
        (),
        output_field=models.CharField(),
    )
    if "wave_id" in attnames:
        annotations["_wave_index"] = RawSQL(
            f"SELECT w.{q('index')} FROM {waves} w WHERE w.{q('id')} = {table}.{q('wave_id')}",
            (),
            output_field=models.IntegerField(),
        )
        annotations["_wave_pseudonym"] = RawSQL(
            f"SELECT f.{q('pseudonym')} FROM {waves} w INNER JOIN {families} f"
            f" ON f.{q('id')} = w.{q('family_id')} WHERE w.{q('id')} = {table}.{q('wave_id')}",
            (),
            output_field=models.CharField(),
        )
    if "family_id" in attnames:
        annotations["_family_pseudonym"] = RawSQL(
            f"SELECT f.{q('pseudonym')} FROM {families} f"
            f" WHERE f.{q('id')} = {table}.{q('family_id')}",
            (),
            output_field=models.CharField(),
        )
    return qs.annotate(**annotations)


def _key(model) -> str:
    """The history model's field holding the tracked object's primary key."""
    return model.instance_type._meta.pk.name


def _previous_ids_sql(model, history_ids: Iterable[int], db: str) -> str:
    """SQL (PostgreSQL and SQLite) giving, for the changed rows among `history_ids`, the
    history_id of their previous version: simple-history's `prev_record`, the latest version of
    the same object with an older date (by date, then history_id). One scalar subquery per
    changed row along the object's key (indexed; the value history's date is not)."""
    q = connections[db].ops.quote_name
    table = q(model._meta.db_table)
    key = q(model._meta.get_field(_key(model)).column)
    date, hid = q("history_date"), q("history_id")
    return (
        f"SELECT (SELECT p.{hid} FROM {table} p WHERE p.{key} = t.{key} AND p.{date} < t.{date}"
        f" ORDER BY p.{date} DESC, p.{hid} DESC LIMIT 1) FROM {table} t"
        f" WHERE t.{hid} {_among(history_ids, connections[db])} AND t.{q('history_type')} = '~'"
    )


def _history_id_in(model, sql: str, db: str) -> RawSQL:
    """A condition: the row's history_id is among the ids `sql` selects. On PostgreSQL as
    `= ANY(ARRAY(...))`: the ids are read once and the rows by the primary key (an IN subquery
    may be planned as a hash semi join over the whole table); SQLite looks IN ids up by rowid."""
    q = connections[db].ops.quote_name
    column = f"{q(model._meta.db_table)}.{q('history_id')}"
    if connections[db].vendor == "postgresql":
        return RawSQL(f"{column} = ANY(ARRAY({sql}))", (), output_field=models.BooleanField())
    return RawSQL(f"{column} IN ({sql})", (), output_field=models.BooleanField())


def _link_previous(records: list, candidates: Iterable[dict]) -> None:
    """Set `record._previous` of each record (of one history model) from `candidates`: rows of
    the same table (dicts of the key, history_date, history_id and the tracked fields) that
    hold at least the previous version of every changed record. The previous version of a
    record is then the newest candidate of the same object with an older date: any such
    candidate is at most the previous version, which is among them."""
    if not records:
        return
    key = _key(type(records[0]))
    by_key: dict = {}
    for row in candidates:
        by_key.setdefault(row[key], []).append(row)
    for record in records:
        record._previous = None
        if record.history_type != "~":
            continue
        when = record.history_date
        older = [r for r in by_key.get(getattr(record, key), ()) if r["history_date"] < when]
        if older:
            record._previous = _Previous(
                max(older, key=lambda r: (r["history_date"], r["history_id"]))
            )


_VALUE_NAMES: dict[type, list[str]] = {}


def _value_names(model) -> list[str]:
    """The fields `_link_previous` reads of a history row: the object's key, the row's date and
    id, the tracked fields; once per history model and process."""
    if model not in _VALUE_NAMES:
        fields = (f.attname for f in _fields(model))
        _VALUE_NAMES[model] = [_key(model), "history_date", "history_id", *fields]
    return _VALUE_NAMES[model]


def _attach_previous(batch: list) -> None:
    """The previous versions of a batch's changed rows: one query per history model that has
    changed rows in the batch (not a subquery per field and row)."""
    changed: dict = {}
    for record in batch:
        record._previous = None
        if record.history_type == "~":
            changed.setdefault(type(record), []).append(record)
    for model, records in changed.items():
        db = model._default_manager.db
        sql = _previous_ids_sql(model, (r.history_id for r in records), db)
        rows = (
            model._default_manager.using(db)
            .filter(_history_id_in(model, sql, db))
            .order_by()
            .values(*_value_names(model))
        )
        _link_previous(records, rows)


def _object(record, names: _Names) -> str:
    model = type(record).instance_type
    if model is IndicatorValue:
        label = names.indicators.get(record.indicator_id, "?")
        return f"{names.wave(record.wave_id)} · {label}"
    if model is WaveSurvey:
        return f"{names.wave(record.wave_id)} · {names.words['survey']}"
    if model is Wave:
        return f"{names.family(record.family_id)} T{record.index}"
    if model is Family:
        return record.pseudonym
    family = names.family(record.family_id)
    if model is Contact:
        return f"{family} · {names.words['contact']} {_local_day(record.occurred_at)}"
    if model is CareInvolvement:
        return f"{family} · {record.organisation} ({record.discipline})"
    if model is FamilyErasure:
        return f"{family} · {names.words['erasure']}"
    if model is Member:
        return f"{family} · {record.get_role_display()} {record.birth_year}"
    return str(record.history_object)


#: Fields a created row does not list (what it belongs to, its deletion flag).
_NOT_ON_CREATE = {"family", "wave", "indicator", "is_deleted"}


def _row(record, names: _Names) -> dict:
    previous = record._previous
    changes = []
    if previous is not None:
        for field, attname, label, _skip in names.columns(type(record)):
            new, old = getattr(record, attname), getattr(previous, attname)
            if old != new:
                changes.append(
                    {
                        "field": label,
                        "old": _shown(field, old, names),
                        "new": _shown(field, new, names),
                    }
                )
    elif record.history_type == "+":
        for field, attname, label, skip in names.columns(type(record)):
            new = getattr(record, attname)
            if new not in (None, "", False) and not skip:
                changes.append({"field": label, "old": "—", "new": _shown(field, new, names)})
    model = type(record).instance_type
    kind = TYPES[record.history_type]
    if previous is not None and getattr(record, "is_deleted", False):
        if not getattr(previous, "is_deleted", False):
            kind = "deleted"  # a soft delete is a change of is_deleted
    return {
        "when": record.history_date,
        "who": names.user(record.history_user_id)
        if record.history_user_id
        else names.words["system"],
        "model": names.verbose_name(model._meta),
        "object": _object(record, names),
        "type": kind,
        "type_label": names.words[kind],
        "reason": record.history_change_reason or "",
        "changes": changes,
    }


def _field_matches(row: dict, spec: TrailFilter, model) -> bool:
    if not spec.field or model.instance_type is IndicatorValue:
        return True
    wanted = spec.field.lower()
    return any(wanted in c["field"].lower() for c in row["changes"])


def _keyed(records, i: int) -> Iterator[tuple]:
    """Each record with its merge key: newest first, the table's number breaks ties."""
    for r in records:
        yield (r.history_date, r.history_id, i, r)


def trail(
    families: QuerySet[Family] | list[int],
    spec: TrailFilter = TrailFilter(),
    *,
    limit: int | None = None,
) -> Iterator[dict]:
    """Every change to the families' data (a queryset, or the families' ids), newest first, as readable rows (a generator: page it
    with `trail_page`, or stream it to CSV). `limit`: at most that many rows are wanted (a page).
    A fixed number of queries: for a page, one for the newest `limit` rows of all history tables
    together and one per table that has rows among them; otherwise one per table; and per batch
    of rows one per kind of name shown."""
    names = _Names()
    # A field filter on other tables than the values is applied to the readable rows, so it
    # cannot be limited in SQL: that case reads the tables in full, as the CSV does.
    paged = limit is not None and not spec.field
    if paged:
        ids = (
            families
            if isinstance(families, list)
            else list(families.order_by().values_list("pk", flat=True))
        )
        records: Iterator = iter(_newest(_source_models(spec.wave), ids, spec, limit))
    else:
        sources = _sources(families, spec.wave)
        streams = [
            _keyed(_with_context(_filtered(qs, spec)).iterator(chunk_size=500), i)
            for i, qs in enumerate(sources)
        ]
        records = (record for _when, _id, _i, record in heapq.merge(*streams, reverse=True))
    while batch := list(islice(records, limit or 500)):
        if not paged:  # `_newest` brought the previous versions along
            _attach_previous(batch)
        names.preload(batch)
        for record in batch:
            row = _row(record, names)
            if _field_matches(row, spec, type(record)):
                yield row


def _newest(models: list, family_ids: list[int], spec: TrailFilter, limit: int) -> list:
    """The newest `limit` history rows of all tables: their keys in one UNION ALL query, then
    the rows themselves (with their context) from only the tables that have some."""
    # The families' newest rows read backwards from each table's newest row when they are at
    # least half of all families (the other families' rows are then at most about as many as
    # theirs; one study alone, the usual case, reads a handful); otherwise found by their own
    # index and sorted (see `_keys_sql`).
    backward = 2 * len(family_ids) >= Family.objects.count()
    sql, params = _keys_sql(models, family_ids, spec, limit, backward=backward)
    with connections[models[0]._default_manager.db].cursor() as cursor:
        cursor.execute(sql, params)
        newest = cursor.fetchall()
    wanted: dict[int, list[int]] = {}
    for _when, history_id, i in newest:
        wanted.setdefault(i, []).append(history_id)
    found = {}
    for i, ids in wanted.items():
        model = models[i]
        db = model._default_manager.db
        table, hid = (
            connections[db].ops.quote_name(n) for n in (model._meta.db_table, "history_id")
        )
        # The rows and, in the same query, the previous versions of the changed ones.
        both = (
            f"SELECT {hid} FROM {table} WHERE {hid} {_among(ids, connections[db])}"
            f" UNION ALL {_previous_ids_sql(model, ids, db)}"
        )
        rows = list(
            _with_context(
                model._default_manager.filter(
                    _history_id_in(model, both, db)
                ).order_by()  # put in the keys' order below: no sort of wide rows here
            )
        )
        page = set(ids)
        records = [r for r in rows if r.history_id in page]
        names = _value_names(model)
        _link_previous(records, [{name: getattr(r, name) for name in names} for r in rows])
        found.update({(i, r.history_id): r for r in records})
    return [found[(i, history_id)] for _when, history_id, i in newest]


def _keys_sql(
    models: list, family_ids: list[int], spec: TrailFilter, limit: int, *, backward: bool = False
) -> tuple[str, list]:
    """The keys query of `_newest` as plain SQL (PostgreSQL and SQLite): (date, id, table
    number) of each table's newest `limit` rows of the families, newest first over all tables.

    Built by hand, not by the ORM: the families' ids (integers read from the database) are
    written into the SQL once per table instead of being prepared as hundreds of parameters.
    The value history has no index on its date (dropped in migration 0023 for the imports):
    its newest rows are the last written ones, its greatest history_id (a history row is
    stamped when it is written); the other tables are ordered by date. `backward`: each table
    is read backwards along its primary key or date index from its newest row until the
    families' newest rows turn up (cheap when the families own most rows); otherwise each
    table's rows of the families are found by the families' (or waves') index and the newest
    taken from those (see `order` below). The merge over all tables is by date, as the full
    trail's."""
    connection = connections[models[0]._default_manager.db]
    q, date = connection.ops.quote_name, connection.ops.quote_name("history_date")

    def unindexed(column: str) -> str:
        """The date as an expression its index cannot give in order (SQLite, the embedded
        default of small databases, keeps the column)."""
        if connection.vendor == "postgresql":
            return f"({column} + interval '0 seconds')"
        return column

    branches, params = [], []
    for i, model in enumerate(models):
        table = q(model._meta.db_table)
        where, args = _family_where(model, family_ids, spec.wave, connection)
        if spec.person:
            users = q(get_user_model()._meta.db_table)
            where.append(
                f"{table}.{q('history_user_id')} IN (SELECT u.{q('id')} FROM {users} u"
                f" WHERE u.{q('username')} = %s)"
            )
            args.append(spec.person)
        tz = timezone.get_current_timezone()
        if spec.since:
            where.append(f"{table}.{q('history_date')} >= %s")
            args.append(datetime.combine(spec.since, time.min, tz))
        if spec.until:
            where.append(f"{table}.{q('history_date')} < %s")
            args.append(datetime.combine(spec.until + timedelta(days=1), time.min, tz))
        # Not `backward`: sorted by expressions, not columns. By a column, PostgreSQL reads its
        # index (the primary key, the date) backwards from the newest row of every study until
        # the families' newest rows turn up: all of the table for the oldest study (the first of
        # 10 studies' audit took 370-480 ms). By an expression the families' rows are found by
        # their own index (wave, family) and the newest taken from them: the study's rows, not
        # the table's.
        if backward:
            order = (
                f"{table}.{q('history_id')} DESC"
                if model.instance_type is IndicatorValue
                else f"{table}.{date} DESC, {table}.{q('history_id')} DESC"
            )
        else:
            order = (
                f"({table}.{q('history_id')} + 0) DESC"
                if model.instance_type is IndicatorValue
                else f"{unindexed(f'{table}.{date}')} DESC, ({table}.{q('history_id')} + 0) DESC"
            )
        branches.append(
            f"SELECT * FROM (SELECT {table}.{q('history_date')} AS {q('history_date')},"
            f" {table}.{q('history_id')} AS {q('history_id')}, {i} AS {q('_source')}"
            f" FROM {table} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT {int(limit)})"
            f" {q(f'k{i}')}"
        )
        params += args
    sql = (
        " UNION ALL ".join(branches)
        + f" ORDER BY {q('history_date')} DESC, {q('history_id')} DESC, {q('_source')} DESC"
        + f" LIMIT {int(limit)}"
    )
    return sql, params


def _among(ids: Iterable[int], connection) -> str:
    """SQL: "is one of these ids" (integers read from the database, written into the SQL). On
    PostgreSQL one array literal (`= ANY('{...}')`), not an IN list of constants: the same rows,
    planned in about half the time (an IN list is built constant by constant; with 80 families
    the keys query's planning took 3.7 ms, now 2.2). SQLite: an IN list."""
    listed = ", ".join(str(int(pk)) for pk in ids)
    if connection.vendor == "postgresql":
        return f"= ANY('{{{listed}}}'::bigint[])"
    return f"IN ({listed or 'NULL'})"


def _family_where(
    model, family_ids: list[int], wave: int | None, connection
) -> tuple[list[str], list]:
    """The condition of `_sources` (these families, this wave) on one history table."""
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    among = _among(family_ids, connection)
    if model.instance_type in (IndicatorValue, WaveSurvey):
        waves = q(Wave._meta.db_table)
        by_wave = "" if wave is None else f" AND w.{q('index')} = %s"
        return (
            [
                f"{table}.{q('wave_id')} IN (SELECT w.{q('id')} FROM {waves} w"
                f" WHERE w.{q('family_id')} {among}{by_wave})"
            ],
            [] if wave is None else [wave],
        )
    column = "id" if model.instance_type is Family else "family_id"
    where = [f"{table}.{q(column)} {among}"]
    if model.instance_type is Wave and wave is not None:
        return [*where, f"{table}.{q('index')} = %s"], [wave]
    return where, []


@dataclass
class TrailPage:
    rows: list[dict]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


PER_PAGE = 50


def trail_page(rows: Iterable[dict], *, page: int, per_page: int = PER_PAGE) -> TrailPage:
    page = max(page, 1)
    chunk = list(islice(rows, (page - 1) * per_page, page * per_page + 1))
    return TrailPage(rows=chunk[:per_page], number=page, has_next=len(chunk) > per_page)


CSV_COLUMNS = ("when", "who", "what", "object", "change", "field", "old", "new", "reason")


def trail_csv(rows: Iterable[dict]) -> Iterator[str]:
    """The trail as CSV lines: one line per changed field (a change without fields: one line)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for row in rows:
        when = timezone.localtime(row["when"]).strftime("%Y-%m-%d %H:%M:%S")
        head = [when, row["who"], row["model"], row["object"], row["type"]]
        for change in row["changes"] or [{"field": "", "old": "", "new": ""}]:
            writer.writerow([*head, change["field"], change["old"], change["new"], row["reason"]])
        yield flush()
