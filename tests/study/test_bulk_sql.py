"""The raw-SQL writers (study/bulk_sql.py) write exactly the rows django-simple-history writes:
the same columns with the same stored values, compared row by row (as the database holds them)
with a live row and a history row made through the ORM at the same frozen instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection

from study import bulk_sql
from study.models import Contact, ImportBatch, Indicator, IndicatorValue
from study.services.values import Entry, values_apply_bulk

NOW = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
DIFFERENT = {"history_id", "id", "wave_id"}  # ids differ; the two rows sit on two waves


def _stored(table: str, where: str, value) -> list[dict]:
    """The rows as the database holds them (no ORM conversion), oldest first."""
    # History rows share the object's id (column 1): order them by their own id.
    order = "history_id" if "historical" in table else "1"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM {connection.ops.quote_name(table)} "
            f"WHERE {connection.ops.quote_name(where)} = %s ORDER BY {order}",
            [value],
        )
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _history(value_id: int) -> list[dict]:
    return _stored(IndicatorValue.history.model._meta.db_table, "id", value_id)


def _live(value_id: int) -> dict:
    (row,) = _stored(IndicatorValue._meta.db_table, "id", value_id)
    return row


def _without(row: dict, names: set[str]) -> dict:
    return {k: v for k, v in row.items() if k not in names}


def _orm_save(value: IndicatorValue, *, user, reason: str) -> None:
    value._history_user = user
    value._change_reason = reason
    value.save()


@pytest.fixture
def waves(family):
    return family.waves.get(index=0), family.waves.get(index=1)


@pytest.fixture
def batch(study, researcher):
    return ImportBatch.objects.create(study=study, filename="x.csv", sha256="0" * 64)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (Entry(value=Decimal("3.00")), Entry(value=Decimal("12.50"))),
        (Entry(missing_code="refused"), Entry(value=Decimal("0.00"))),
        (Entry(value=Decimal("1.00")), Entry(missing_code="not_delivered")),
    ],
    ids=["numbers", "missing-then-number", "number-then-missing"],
)
def test_value_writer_matches_simple_history_on_create_and_update(
    waves, researcher, batch, first, second
):
    orm_wave, sql_wave = waves
    indicator = Indicator.objects.get(study__isnull=True, code="adult_ggz_basic_eur")
    with time_machine.travel(NOW, tick=False):
        made = IndicatorValue(
            wave=orm_wave,
            indicator=indicator,
            value=first.value,
            missing_code=first.missing_code,
            source="import",
            import_batch=batch,
        )
        _orm_save(made, user=researcher, reason="registry import")
        written = values_apply_bulk(
            {(sql_wave.pk, indicator.pk): first},
            user=researcher,
            source="import",
            import_batch=batch,
            reason="registry import",
        )
    assert written == (1, 0, 0)
    bulk = IndicatorValue.objects.get(wave=sql_wave, indicator=indicator)
    assert _without(_live(bulk.pk), DIFFERENT) == _without(_live(made.pk), DIFFERENT)
    (orm_row,), (sql_row,) = _history(made.pk), _history(bulk.pk)
    assert sql_row["id"] == bulk.pk and sql_row["wave_id"] == sql_wave.pk
    assert _without(sql_row, DIFFERENT) == _without(orm_row, DIFFERENT)
    assert orm_row["history_type"] == "+" and orm_row["history_user_id"] == researcher.pk

    later = NOW + timedelta(days=1)
    with time_machine.travel(later, tick=False):
        made.value, made.missing_code = second.value, second.missing_code
        _orm_save(made, user=researcher, reason="registry import")
        written = values_apply_bulk(
            {(sql_wave.pk, indicator.pk): second},
            user=researcher,
            source="import",
            import_batch=batch,
            reason="registry import",
        )
    assert written == (0, 1, 0)
    assert _without(_live(bulk.pk), DIFFERENT) == _without(_live(made.pk), DIFFERENT)
    orm_rows, sql_rows = _history(made.pk), _history(bulk.pk)
    assert len(orm_rows) == len(sql_rows) == 2
    for orm_row, sql_row in zip(orm_rows, sql_rows, strict=True):
        assert _without(sql_row, DIFFERENT) == _without(orm_row, DIFFERENT)
    assert orm_rows[1]["history_type"] == "~"


def test_value_writer_without_user_or_batch_matches_simple_history(waves):
    orm_wave, sql_wave = waves
    indicator = Indicator.objects.get(study__isnull=True, code="bijstand")
    with time_machine.travel(NOW, tick=False):
        made = IndicatorValue(wave=orm_wave, indicator=indicator, value=Decimal("1.00"))
        _orm_save(made, user=None, reason="values recorded (manual)")
        values_apply_bulk(
            {(sql_wave.pk, indicator.pk): Entry(value=Decimal("1.00"))},
            user=None,
            source="manual",
            import_batch=None,
            reason="values recorded (manual)",
        )
    bulk = IndicatorValue.objects.get(wave=sql_wave, indicator=indicator)
    (orm_row,), (sql_row,) = _history(made.pk), _history(bulk.pk)
    assert sql_row["history_user_id"] is None and sql_row["import_batch_id"] is None
    assert _without(sql_row, DIFFERENT) == _without(orm_row, DIFFERENT)


def test_unchanged_values_write_nothing(waves, researcher):
    _orm_wave, wave = waves
    indicator = Indicator.objects.get(study__isnull=True, code="bijstand")
    entries = {(wave.pk, indicator.pk): Entry(value=Decimal("1.00"))}
    args = {"user": researcher, "source": "manual", "import_batch": None, "reason": "r"}
    assert values_apply_bulk(entries, **args) == (1, 0, 0)
    before = IndicatorValue.history.model.objects.count()
    assert values_apply_bulk(entries, **args) == (0, 0, 1)
    assert IndicatorValue.history.model.objects.count() == before


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the data-modifying CTE is PostgreSQL's; elsewhere contact_log saves through the ORM",
)
def test_contact_cte_matches_simple_history(family, other_family, coach):
    def contact(target) -> Contact:
        return Contact(
            family=target,
            coach=coach,
            occurred_at=NOW - timedelta(hours=3),
            kind="home_visit",
            duration_minutes=45,
            initiated_by="family",
            requested_at=NOW - timedelta(hours=8),
            note="words",
            note_private=True,
        )

    with time_machine.travel(NOW, tick=False):
        made = contact(family)
        made._history_user = coach
        made._change_reason = "contact logged"
        made.save()
        raw = contact(other_family)
        bulk_sql.insert_with_history(raw, user=coach, reason="contact logged")
    assert raw.pk is not None and not raw._state.adding
    different = {"history_id", "id", "family_id"}
    table, history = Contact._meta.db_table, Contact.history.model._meta.db_table
    (orm_live,), (sql_live,) = _stored(table, "id", made.pk), _stored(table, "id", raw.pk)
    assert _without(sql_live, different) == _without(orm_live, different)
    (orm_row,), (sql_row,) = _stored(history, "id", made.pk), _stored(history, "id", raw.pk)
    assert sql_row["family_id"] == other_family.pk
    assert _without(sql_row, different) == _without(orm_row, different)
    assert (sql_row["history_type"], sql_row["history_user_id"]) == ("+", coach.pk)


def test_the_cte_is_refused_where_the_database_has_none(family, coach):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL runs the CTE (test above)")
    with pytest.raises(NotImplementedError):
        bulk_sql.insert_with_history(Contact(family=family, coach=coach), user=coach, reason="x")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
@pytest.mark.parametrize(
    ("first", "second"),
    [
        (Entry(value=Decimal("3.00")), Entry(value=Decimal("12.50"))),
        (Entry(missing_code="refused"), Entry(value=Decimal("0.00"))),
        (Entry(value=Decimal("1.00")), Entry(missing_code="not_delivered")),
    ],
    ids=["numbers", "missing-then-number", "number-then-missing"],
)
def test_the_copy_writer_matches_simple_history(waves, researcher, batch, first, second):
    """The registry import's COPY writer (one COPY per table) writes the ORM's rows too."""
    import numpy as np

    orm_wave, sql_wave = waves
    indicator = Indicator.objects.get(study__isnull=True, code="adult_ggz_basic_eur")

    def copy(entry: Entry, existing: int) -> None:
        bulk_sql.indicator_values_copy(
            wave_id=np.array([sql_wave.pk]),
            indicator_id=np.array([indicator.pk]),
            value=np.array(["" if entry.value is None else f"{entry.value:f}"], dtype=object),
            missing_code=np.array([entry.missing_code], dtype=object),
            existing=np.array([existing]),
            source="import",
            import_batch_id=batch.pk,
            user_id=researcher.pk,
            reason="registry import\twith a tab",
        )

    made = IndicatorValue(
        wave=orm_wave,
        indicator=indicator,
        value=first.value,
        missing_code=first.missing_code,
        source="import",
        import_batch=batch,
    )
    with time_machine.travel(NOW, tick=False):
        _orm_save(made, user=researcher, reason="registry import\twith a tab")
        copy(first, 0)
    bulk = IndicatorValue.objects.get(wave=sql_wave, indicator=indicator)
    assert _without(_live(bulk.pk), DIFFERENT) == _without(_live(made.pk), DIFFERENT)
    (orm_row,), (sql_row,) = _history(made.pk), _history(bulk.pk)
    assert _without(sql_row, DIFFERENT) == _without(orm_row, DIFFERENT)
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        made.value, made.missing_code = second.value, second.missing_code
        _orm_save(made, user=researcher, reason="registry import\twith a tab")
        copy(second, bulk.pk)
    assert _without(_live(bulk.pk), DIFFERENT) == _without(_live(made.pk), DIFFERENT)
    orm_rows, sql_rows = _history(made.pk), _history(bulk.pk)
    assert len(orm_rows) == len(sql_rows) == 2
    for orm_row, sql_row in zip(orm_rows, sql_rows, strict=True):
        assert _without(sql_row, DIFFERENT) == _without(orm_row, DIFFERENT)
    # A new value after the COPY takes the next id of the sequence (ids were drawn from it).
    later = IndicatorValue.objects.create(wave=orm_wave, indicator_id=indicator.pk + 1, value=1)
    assert later.pk > bulk.pk
