"""The one door from the database to pandas: querysets become DataFrames here, in a fixed
number of queries (never one per family)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import FloatField, QuerySet
from django.db.models.functions import Cast

from study.models import (
    CareInvolvement,
    Contact,
    Family,
    IndicatorValue,
    Member,
    ProfessionalSurvey,
    Study,
    Wave,
    WaveSurvey,
)

FAMILY_COLUMNS = [
    "family_id",
    "pseudonym",
    "arm",
    "wijk",
    "intake_date",
    "intake_year",
    "status",
    "status_date",
    "allocation",
]


def family_frame(families: QuerySet[Family]) -> pd.DataFrame:
    rows = list(
        families.values(
            "id",
            "pseudonym",
            "arm__kind",
            "wijk",
            "intake_date",
            "status",
            "status_date",
            "allocation",
        )
    )
    df = pd.DataFrame(
        rows,
        columns=[
            "id",
            "pseudonym",
            "arm__kind",
            "wijk",
            "intake_date",
            "status",
            "status_date",
            "allocation",
        ],
    )
    df = df.rename(columns={"id": "family_id", "arm__kind": "arm"})
    df["intake_year"] = pd.to_datetime(df["intake_date"]).dt.year.astype("Int64")
    members = pd.DataFrame(
        list(
            Member.objects.alive()
            .filter(family__in=families)
            .values("family_id", "role", "birth_year")
        ),
        columns=["family_id", "role", "birth_year"],
    )
    counts = members.pivot_table(
        index="family_id", columns="role", values="birth_year", aggfunc="size", fill_value=0
    )
    for role in ("adult", "child"):
        df[f"n_{role}"] = (
            df["family_id"].map(counts[role] if role in counts else {}).fillna(0).astype(int)
        )
    return df[FAMILY_COLUMNS + ["n_adult", "n_child"]]


def wave_frame(families: QuerySet[Family]) -> pd.DataFrame:
    rows = (
        Wave.objects.alive()
        .filter(family__in=families)
        .values(
            "id", "family_id", "index", "year", "status", "due_date", "completed_date", "locked"
        )
    )
    return pd.DataFrame(
        list(rows),
        columns=[
            "id",
            "family_id",
            "index",
            "year",
            "status",
            "due_date",
            "completed_date",
            "locked",
        ],
    ).rename(columns={"id": "wave_id", "index": "wave"})


def indicator_long_frame(families: QuerySet[Family]) -> pd.DataFrame:
    """One row per family, wave and indicator: value (float, NaN when missing) and the code."""
    rows = (
        IndicatorValue.objects.alive()
        .filter(wave__family__in=families, wave__is_deleted=False)
        .values(
            "wave__family_id",
            "wave__index",
            "wave__year",
            "indicator__code",
            "value",
            "missing_code",
            "source",
        )
    )
    df = pd.DataFrame(
        list(rows),
        columns=[
            "wave__family_id",
            "wave__index",
            "wave__year",
            "indicator__code",
            "value",
            "missing_code",
            "source",
        ],
    ).rename(
        columns={
            "wave__family_id": "family_id",
            "wave__index": "wave",
            "wave__year": "year",
            "indicator__code": "indicator",
        }
    )
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)
    return df


def _fetch_columns(rows: QuerySet) -> tuple[Sequence, ...] | None:
    """The rows of a values_list queryset as one list per column (None when there are none).
    On PostgreSQL one row comes back, each column as one array in binary (the driver decodes
    an array of 20,000 numbers in C instead of 20,000 text values); elsewhere the driver's
    tuples, transposed."""
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # e.g. no family at all (`pk__in=[]`): no rows, no query
        return None
    connection = connections[rows.db]
    if connection.vendor == "postgresql":
        import psycopg

        width = len(rows.query.values_select) + len(rows.query.annotation_select)
        aggregated = ", ".join(f"array_agg(x.c{i})" for i in range(width))
        names = ", ".join(f"c{i}" for i in range(width))
        connection.ensure_connection()
        # Binary results, through Django's cursor wrapper so the query is logged and counted
        # like any other (Django's own cursors bind on the client, which cannot ask for them).
        raw = psycopg.Cursor(connection.connection)
        raw.format = psycopg.pq.Format.BINARY
        wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
        with wrap(raw) as cursor:
            cursor.execute(f"SELECT {aggregated} FROM ({sql}) AS x ({names})", params)
            found = cursor.fetchone()
        return None if found is None or found[0] is None else tuple(found)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        tuples = cursor.fetchall()
    return tuple(zip(*tuples, strict=True)) if tuples else None


def indicator_grid(
    wave_ids: Sequence[int], families: QuerySet[Family], indicator_ids: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """The live indicator values of the families' live waves laid out on the rows of
    `wave_ids` (those waves, read just before): a float matrix, one column per indicator (NaN =
    missing or not recorded), and a text matrix of the missing-data reasons ("" = none). One
    query; the layout is vectorised (no pivot of a long frame, no Python loop per value).

    On PostgreSQL the query asks by the wave ids themselves (no join of waves and families, no
    access subquery again) and returns wave, indicator and value as one run of big-endian
    8-byte fields that numpy reads whole (no Python number per value), the missing-data
    reasons only where there is one (a value is NULL exactly when it has a reason, a check
    constraint). Elsewhere the values of the families' live waves as the driver's tuples."""
    values = np.full((len(wave_ids), len(indicator_ids)), np.nan)
    reasons = np.full((len(wave_ids), len(indicator_ids)), "", dtype=object)
    rows_of, columns_of = pd.Index(wave_ids), pd.Index(indicator_ids)

    def place(waves, indicators) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        at = rows_of.get_indexer(np.asarray(waves, dtype=np.int64))
        column = columns_of.get_indexer(np.asarray(indicators, dtype=np.int64))
        keep = (at >= 0) & (column >= 0)
        return at[keep], column[keep], keep

    connection = connections[IndicatorValue.objects.db]
    if connection.vendor == "postgresql":
        if not len(wave_ids):
            return values, reasons
        found = _values_by_waves(connection, list(wave_ids))
        if found is None or found[0] is None:
            return values, reasons
        cells = np.frombuffer(bytes(found[0]), dtype=[("w", ">i8"), ("i", ">i8"), ("v", ">f8")])
        at, column, keep = place(cells["w"], cells["i"])
        values[at, column] = cells["v"].astype(float)[keep]
        if found[1] is not None:
            at, column, keep = place(found[1], found[2])
            reasons[at, column] = np.asarray(found[3], dtype=object)[keep]
        return values, reasons
    rows = (
        IndicatorValue.objects.alive()
        .filter(wave__family__in=families, wave__is_deleted=False)
        .values_list("wave_id", "indicator_id", Cast("value", FloatField()), "missing_code")
    )
    columns = _fetch_columns(rows)
    if columns is None:
        return values, reasons
    waves, indicators, numbers, missing = columns
    at, column, keep = place(waves, indicators)
    values[at, column] = np.asarray(numbers, dtype=float)[keep]
    reasons[at, column] = np.asarray(missing, dtype=object)[keep]
    return values, reasons


def _values_by_waves(connection, wave_ids: list[int]) -> tuple | None:
    """PostgreSQL: the live values of the waves as (wave, indicator, value as float8 with NaN
    for none) bytes, and the waves, indicators and reasons of those with a reason as arrays."""
    import psycopg

    table = IndicatorValue._meta.db_table
    sql = (
        "SELECT string_agg(int8send(wave_id) || int8send(indicator_id) "
        "|| float8send(coalesce(value::float8, 'NaN')), ''::bytea), "
        "array_agg(wave_id) FILTER (WHERE missing_code <> ''), "
        "array_agg(indicator_id) FILTER (WHERE missing_code <> ''), "
        "array_agg(missing_code) FILTER (WHERE missing_code <> '') "
        f'FROM "{table}" WHERE NOT is_deleted AND wave_id = ANY(%s)'
    )
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    raw.format = psycopg.pq.Format.BINARY
    # through Django's cursor wrapper, so the query is logged and counted like any other
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    with wrap(raw) as cursor:
        cursor.execute(sql, [wave_ids])
        return cursor.fetchone()


def indicator_wide_frame(families: QuerySet[Family]) -> pd.DataFrame:
    """One row per family and wave, one column per indicator (NaN = missing or not recorded)."""
    long = indicator_long_frame(families)
    if long.empty:
        return pd.DataFrame(columns=["family_id", "wave", "year"])
    # pivot, not pivot_table(dropna=False): the latter builds every family x wave x year combination
    wide = long.pivot(index=["family_id", "wave", "year"], columns="indicator", values="value")  # noqa: PD010
    wide.columns.name = None
    return wide.reset_index()


def survey_frame(families: QuerySet[Family]) -> pd.DataFrame:
    fields = [
        "wave__family_id",
        "wave__index",
        "wave__year",
        *WaveSurvey.SCORE_FIELDS,
        "qol_instrument",
    ]
    rows = WaveSurvey.objects.alive().filter(wave__family__in=families).values(*fields)
    df = pd.DataFrame(list(rows), columns=fields).rename(
        columns={"wave__family_id": "family_id", "wave__index": "wave", "wave__year": "year"}
    )
    for col in WaveSurvey.SCORE_FIELDS:
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return df


def survey_scores(families: QuerySet[Family]) -> pd.DataFrame:
    """The live surveys' scores by family and wave index (`survey_frame` without the year and
    the instrument, read as tuples: what the panel export merges)."""
    fields = ["wave__family_id", "wave__index", *WaveSurvey.SCORE_FIELDS]
    rows = WaveSurvey.objects.alive().filter(wave__family__in=families).values_list(*fields)
    df = pd.DataFrame(list(rows), columns=["family_id", "wave", *WaveSurvey.SCORE_FIELDS])
    for col in WaveSurvey.SCORE_FIELDS:
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return df


def involvement_frame(families: QuerySet[Family]) -> pd.DataFrame:
    fields = [
        "family_id",
        "organisation",
        "discipline",
        "organisation_entry_id",
        "discipline_entry_id",
        "start_date",
        "end_date",
    ]
    rows = CareInvolvement.objects.alive().filter(family__in=families).values(*fields)
    return pd.DataFrame(list(rows), columns=fields)


def contact_frame(families: QuerySet[Family]) -> pd.DataFrame:
    fields = [
        "family_id",
        "coach_id",
        "occurred_at",
        "kind",
        "duration_minutes",
        "initiated_by",
        "requested_at",
    ]
    rows = Contact.objects.alive().filter(family__in=families).values(*fields)
    return pd.DataFrame(list(rows), columns=fields)


def professional_survey_frame(study: Study) -> pd.DataFrame:
    fields = [
        "professional_id",
        "professional__approach",
        "professional__organisation",
        "year",
        *ProfessionalSurvey.SCALES,
    ]
    rows = (
        ProfessionalSurvey.objects.alive()
        .filter(professional__study=study, professional__is_deleted=False)
        .values(*fields)
    )
    return pd.DataFrame(list(rows), columns=fields).rename(
        columns={"professional__approach": "approach", "professional__organisation": "organisation"}
    )
