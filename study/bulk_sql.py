"""The single raw-SQL door of the study app, beside the single pandas door (`study/panels.py`).

Every statement the ORM does not write for us is here, for speed where the ORM's per-object cost
dominates: COPY / executemany writers of indicator values and their history rows (a 100,000-value
registry extract), a contact and its history row in one data-modifying CTE (the API's hot path),
the caseload EXISTS, and the audit chain's advisory lock.

The history rows written here are the rows django-simple-history writes (same columns, same
values: who, when, why, '+' or '~'); tests/study/test_bulk_sql.py compares them row by row with
history rows made through the ORM, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, models
from django.utils import timezone

from study.models import CaseloadAssignment, Family, IndicatorValue, StudyMembership, Wave
from study.roles import Role

CHUNK = 5000
WAVES_PER_QUERY = 2000

VALUE_COLUMNS = (
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
HISTORY_COLUMNS = (
    "id",
    *VALUE_COLUMNS,
    "history_date",
    "history_change_reason",
    "history_type",
    "history_user_id",
)


@dataclass(frozen=True)
class ValueRow:
    """One live indicator value to write: a number or a missing-data code."""

    wave_id: int
    indicator_id: int
    value: Decimal | None
    missing_code: str


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _column(field: models.Field) -> str:
    if field.column is None:  # only fields without a column of their own, never concrete ones
        raise ValueError(f"{field} has no column")
    return field.column


def rows_insert(table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """Many rows at once: COPY on PostgreSQL, executemany elsewhere (no per-object ORM cost)."""
    if not rows:
        return
    names = ", ".join(_qn(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {_qn(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {_qn(table)} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
        for start in range(0, len(rows), CHUNK):
            cursor.executemany(sql, rows[start : start + CHUNK])


def _values_update(table: str, updated: Sequence[tuple[int, tuple]]) -> None:
    if not updated:
        return
    sql = (
        f"UPDATE {_qn(table)} SET {_qn('value')} = %s, {_qn('missing_code')} = %s, "
        f"{_qn('source')} = %s, {_qn('import_batch_id')} = %s, {_qn('updated_at')} = %s "
        f"WHERE {_qn('id')} = %s"
    )
    params = [(r[5], r[6], r[7], r[8], r[9], pk) for pk, r in updated]
    with connection.cursor() as cursor:
        for start in range(0, len(params), CHUNK):
            cursor.executemany(sql, params[start : start + CHUNK])


def _live_value_ids(wave_ids: Sequence[int]) -> dict[tuple[int, int], int]:
    """(wave id, indicator id) -> id of the live value (one per pair: a unique constraint)."""
    found: dict[tuple[int, int], int] = {}
    for start in range(0, len(wave_ids), WAVES_PER_QUERY):
        rows = (
            IndicatorValue.objects.alive()
            .filter(wave_id__in=wave_ids[start : start + WAVES_PER_QUERY])
            .values_list("pk", "wave_id", "indicator_id")
        )
        for pk, wave_id, indicator_id in rows:
            found[(wave_id, indicator_id)] = pk
    return found


def indicator_values_write(
    *,
    created: Sequence[ValueRow],
    updated: Sequence[tuple[int, ValueRow]],
    source: str,
    import_batch_id: int | None,
    user_id: int | None,
    reason: str,
) -> None:
    """Insert the new live values, update the changed ones (by id) and write one history row per
    change ('+' for new, '~' for changed; who, when, why). The caller holds a transaction and has
    checked every value."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())

    def as_row(v: ValueRow) -> tuple:
        return (
            False,
            None,
            "",
            v.wave_id,
            v.indicator_id,
            v.value,
            v.missing_code,
            source,
            import_batch_id,
            now,
        )

    new_rows = [as_row(v) for v in created]
    changed_rows = [(pk, as_row(v)) for pk, v in updated]
    table = IndicatorValue._meta.db_table
    rows_insert(table, VALUE_COLUMNS, new_rows)
    _values_update(table, changed_rows)
    history: list[tuple] = []
    if new_rows:
        new_ids = _live_value_ids(sorted({v.wave_id for v in created}))
        history += [(new_ids[(r[3], r[4])], *r, now, reason, "+", user_id) for r in new_rows]
    history += [(pk, *r, now, reason, "~", user_id) for pk, r in changed_rows]
    rows_insert(IndicatorValue.history.model._meta.db_table, HISTORY_COLUMNS, history)


def _copy_text(value: str) -> str:
    """A text value for COPY's text format (backslash, tab and line ends escaped)."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _copy(cursor, table: str, columns: Sequence[str], lines: Sequence[str]) -> None:
    if not lines:
        return
    names = ", ".join(_qn(c) for c in columns)
    with cursor.cursor.copy(f"COPY {_qn(table)} ({names}) FROM STDIN") as copy:
        copy.write("\n".join(lines) + "\n")


def indicator_values_copy(
    *,
    wave_id,
    indicator_id,
    value,
    missing_code,
    existing,
    source: str,
    import_batch_id: int,
    user_id: int | None,
    reason: str,
) -> None:
    """PostgreSQL: the same writes as `indicator_values_write` for column arrays (numpy) of one
    import batch: changed values through a temporary table and one UPDATE, new values in one
    COPY (their ids from the table's identity), then every history row ('+' new, '~' changed;
    who, when, why) in one INSERT ... SELECT of the rows the batch wrote, so no row is read
    back into Python and no history line is built here. ``existing`` is the live value's id for
    a changed value and 0 for a new one; ``value`` is COPY text, "" for NULL. The caller holds
    a transaction and has checked every value."""
    import numpy as np
    import pandas as pd

    if connection.vendor != "postgresql":
        raise NotImplementedError("COPY needs PostgreSQL; use indicator_values_write")
    table = IndicatorValue._meta.db_table
    history = IndicatorValue.history.model._meta.db_table
    now = timezone.now().isoformat()
    new = np.asarray(existing) == 0
    changed = ~new
    values = pd.Series(value, dtype=object).replace("", "\\N")
    batch = str(int(import_batch_id))
    with connection.cursor() as cursor:
        if changed.any():
            cursor.execute(
                "CREATE TEMPORARY TABLE import_changed (id bigint, value numeric, missing_code "
                "text, source text, import_batch_id bigint, updated_at timestamptz) ON COMMIT DROP"
            )
            narrow = (
                pd.Series(np.asarray(existing, dtype=np.int64)[changed]).astype(str)
                + "\t"
                + values[changed].reset_index(drop=True)
                + "\t"
                + pd.Series(missing_code[changed], dtype=object)
                + f"\t{_copy_text(source)}\t{batch}\t{now}"
            )
            _copy(
                cursor,
                "import_changed",
                ("id", "value", "missing_code", "source", "import_batch_id", "updated_at"),
                narrow.tolist(),
            )
            cursor.execute(
                f"UPDATE {_qn(table)} v SET value = c.value, missing_code = c.missing_code, "
                "source = c.source, import_batch_id = c.import_batch_id, "
                "updated_at = c.updated_at FROM import_changed c WHERE v.id = c.id"
            )
        # The rows this call writes: the changed ids, and new ids above the largest one now.
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {_qn(table)}")
        (before,) = cursor.fetchone()
        if new.any():
            rows = (
                "f\t\\N\t\t"
                + pd.Series(wave_id[new]).astype(str)
                + "\t"
                + pd.Series(indicator_id[new]).astype(str)
                + "\t"
                + values[new]
                + "\t"
                + pd.Series(missing_code[new], dtype=object)
                + f"\t{_copy_text(source)}\t{batch}\t{now}"
            )
            _copy(cursor, table, VALUE_COLUMNS, rows.tolist())
        copied = ", ".join(f"v.{_qn(c)}" for c in ("id", *VALUE_COLUMNS))
        kind, joined, ours = "'+'", "", "v.id > %s"
        if changed.any():
            kind = "CASE WHEN c.id IS NULL THEN '+' ELSE '~' END"
            joined = "LEFT JOIN import_changed c ON c.id = v.id "
            ours = "(v.id > %s OR c.id IS NOT NULL)"
        # history_date is the rows' updated_at: one timestamp for the whole batch, as before.
        cursor.execute(
            f"INSERT INTO {_qn(history)} ({', '.join(_qn(c) for c in HISTORY_COLUMNS)}) "
            f"SELECT {copied}, v.{_qn('updated_at')}, %s, {kind}, %s FROM {_qn(table)} v "
            f"{joined}WHERE v.{_qn('import_batch_id')} = %s AND v.{_qn('updated_at')} = %s "
            f"AND {ours} ORDER BY v.id",
            [reason, user_id, int(import_batch_id), now, before],
        )


def insert_with_history(obj: models.Model, *, user: Any, reason: str) -> None:
    """PostgreSQL: write a new row and its history row ('+', who, why: the row
    django-simple-history writes) in one statement, a data-modifying CTE, and give `obj` its id.
    Contact logging is the API's hot path; one atomic statement saves the transaction's round
    trips."""
    if connection.vendor != "postgresql":
        raise NotImplementedError("a data-modifying CTE needs PostgreSQL; save through the ORM")
    model = type(obj)
    history = model.history.model  # type: ignore[attr-defined]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
    names = [_qn(_column(f)) for f in fields]
    columns = {"id", *(_column(f) for f in fields)}
    copied = [_qn(_column(f)) for f in history._meta.concrete_fields if _column(f) in columns]
    sql = (
        f"WITH new AS (INSERT INTO {_qn(model._meta.db_table)} ({', '.join(names)}) "
        f"VALUES ({', '.join(['%s'] * len(names))}) RETURNING *) "
        f"INSERT INTO {_qn(history._meta.db_table)} ({', '.join(copied)}, {_qn('history_date')}, "
        f"{_qn('history_change_reason')}, {_qn('history_type')}, {_qn('history_user_id')}) "
        f"SELECT {', '.join('new.' + c for c in copied)}, %s, %s, '+', %s FROM new "
        f"RETURNING {_qn('id')}"
    )
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    user_id = user.pk if getattr(user, "is_authenticated", False) else None
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, stamp, reason, user_id])
        obj.pk = cursor.fetchone()[0]
    obj._state.adding, obj._state.db = False, connection.alias


def caseload_exists(*, coach_id: int, family_id: int, day: date) -> bool:
    """Whether a live family is on the coach's caseload on `day`, in a study where the coach is
    an active wijkcoach member (the rule of `study.access.caseload_families`), as one EXISTS.
    Plain SQL: the ORM spends longer compiling this than the database answering it."""
    adapted = connection.ops.adapt_datefield_value(day)
    sql = (
        f"SELECT 1 FROM {_qn(CaseloadAssignment._meta.db_table)} a "
        f"JOIN {_qn(Family._meta.db_table)} f ON f.{_qn('id')} = a.{_qn('family_id')} "
        f"JOIN {_qn(StudyMembership._meta.db_table)} m ON m.{_qn('study_id')} = f.{_qn('study_id')} "
        f"AND m.{_qn('user_id')} = a.{_qn('coach_id')} AND m.{_qn('role')} = %s "
        f"AND m.{_qn('active')} "
        f"WHERE a.{_qn('coach_id')} = %s AND a.{_qn('family_id')} = %s "
        f"AND NOT f.{_qn('is_deleted')} AND a.{_qn('start_date')} <= %s "
        f"AND (a.{_qn('end_date')} IS NULL OR a.{_qn('end_date')} >= %s) LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [Role.WIJKCOACH.value, coach_id, family_id, adapted, adapted])
        return cursor.fetchone() is not None


def advisory_xact_lock(lock_id: int) -> None:
    """PostgreSQL: serialise the writers of one chain until the transaction ends (elsewhere the
    database serialises writers itself)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


class AuditRewriteRefused(Exception):
    """The database refused to lift the audit tables' append-only guard (only their owner may)."""


def audit_append_only_lifted(tables: Sequence[str]) -> None:
    """PostgreSQL: lift the append-only triggers of `tables` until the transaction ends (call
    `audit_append_only_restored` before it commits; a rollback restores them by itself). Only the
    tables' owner may (ALTER TABLE … DISABLE TRIGGER, which also locks each table exclusively
    until the end of the transaction); the app's role gets AuditRewriteRefused. Elsewhere there
    is no such guard."""
    if connection.vendor != "postgresql":
        return
    from django.db import DatabaseError

    try:
        with connection.cursor() as cursor:
            # Deferred foreign-key checks of rows written earlier in the transaction are checked
            # now: ALTER TABLE refuses a table with trigger events still pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in tables:
                cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER "{table}_append_only"')
    except DatabaseError as exc:
        raise AuditRewriteRefused(str(exc)) from exc


def audit_append_only_restored(tables: Sequence[str]) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER "{table}_append_only"')


# --- data-quality rules: wave-to-wave changes, set-based -----------------------------------------

FAMILIES_PER_QUERY = 2000


def _changes_sql(*, families: int | None, indicators: int) -> str:
    """The live values (of live waves) of a study beside the same family's value of the same
    indicator at the wave before (LAG over the family's waves), as a CTE ``v``: portable SQL
    (PostgreSQL, SQLite). Placeholders: the study id, then ``families`` family ids (or none:
    the whole study), then ``indicators`` indicator ids."""
    value, wave, family = (
        _qn(IndicatorValue._meta.db_table),
        _qn(Wave._meta.db_table),
        _qn(Family._meta.db_table),
    )
    index = _qn("index")
    window = f"OVER (PARTITION BY w.{_qn('family_id')}, v.{_qn('indicator_id')} ORDER BY w.{index})"
    where = [
        f"f.{_qn('study_id')} = %s",
        f"NOT v.{_qn('is_deleted')}",
        f"NOT w.{_qn('is_deleted')}",
        f"v.{_qn('value')} IS NOT NULL",
    ]
    if families is not None:
        where.append(f"w.{_qn('family_id')} IN ({', '.join(['%s'] * families)})")
    where.append(f"v.{_qn('indicator_id')} IN ({', '.join(['%s'] * indicators)})")
    return (
        f"WITH v AS (SELECT w.{_qn('family_id')} AS family_id, v.{_qn('wave_id')} AS wave_id, "
        f"w.{index} AS idx, v.{_qn('indicator_id')} AS indicator_id, v.{_qn('value')} AS value, "
        f"LAG(v.{_qn('value')}) {window} AS prev_value, LAG(w.{index}) {window} AS prev_idx "
        f"FROM {value} v JOIN {wave} w ON w.{_qn('id')} = v.{_qn('wave_id')} "
        f"JOIN {family} f ON f.{_qn('id')} = w.{_qn('family_id')} WHERE {' AND '.join(where)})"
    )


def change_spread(*, study_id: int, indicator_ids: Sequence[int]) -> dict[int, tuple[int, float]]:
    """indicator id -> (number of consecutive-wave pairs, population variance of their changes)
    over the whole study, in one statement (PostgreSQL's exact VAR_POP; elsewhere two passes:
    the mean, then the squared deviations from it, as `statistics.pvariance` computes it)."""
    if not indicator_ids:
        return {}
    diffs = (
        _changes_sql(families=None, indicators=len(indicator_ids))
        + ", d AS (SELECT indicator_id, value - prev_value AS diff FROM v "
        "WHERE prev_idx = idx - 1) "
    )
    if connection.vendor == "postgresql":  # exact (numeric) in one pass
        sql = diffs + "SELECT indicator_id, COUNT(*), VAR_POP(diff) FROM d GROUP BY indicator_id"
    else:
        sql = diffs + (
            ", m AS (SELECT indicator_id, COUNT(*) AS n, AVG(diff) AS mean FROM d "
            "GROUP BY indicator_id) SELECT m.indicator_id, m.n, "
            "AVG((d.diff - m.mean) * (d.diff - m.mean)) FROM d "
            "JOIN m ON m.indicator_id = d.indicator_id GROUP BY m.indicator_id, m.n"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [study_id, *indicator_ids])
        return {int(i): (int(n), float(var)) for i, n, var in cursor.fetchall()}


def jumps(
    *, study_id: int, family_ids: Sequence[int] | None, thresholds: dict[int, float]
) -> list[tuple]:
    """(wave id, indicator id, value, value at the wave before, that wave's index) of every
    change between consecutive waves larger than its indicator's threshold, of the given
    families (or the whole study): one statement per FAMILIES_PER_QUERY families."""
    if not thresholds:
        return []
    indicators = sorted(thresholds)
    case = " ".join("WHEN %s THEN %s" for _ in indicators)
    case_params = [p for i in indicators for p in (i, thresholds[i])]
    chunks: list[list[int] | None] = (
        [None]
        if family_ids is None
        else [
            list(family_ids[s : s + FAMILIES_PER_QUERY])
            for s in range(0, len(family_ids), FAMILIES_PER_QUERY)
        ]
    )
    found: list[tuple] = []
    with connection.cursor() as cursor:
        for chunk in chunks:
            sql = (
                _changes_sql(
                    families=None if chunk is None else len(chunk), indicators=len(indicators)
                )
                + " SELECT wave_id, indicator_id, value, prev_value, prev_idx FROM v "
                f"WHERE prev_idx = idx - 1 AND ABS(value - prev_value) > CASE indicator_id {case} END "
                "ORDER BY family_id, indicator_id, idx"
            )
            cursor.execute(sql, [study_id, *(chunk or []), *indicators, *case_params])
            found += cursor.fetchall()
    return found
