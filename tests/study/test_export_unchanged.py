"""The faster panel export (issue 21) writes the same files as before: byte for byte for CSV,
Dutch CSV, SPSS and Stata (their creation time aside), value for value for Excel. The reference
is the panel as it was built before, frozen here: a merge of families and waves, a sort of the
wide frame, and the indicator values read as the driver's tuples."""

import io

import numpy as np
import pandas as pd
import pytest
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import FloatField
from django.db.models.functions import Cast

from study import exporting, panels
from study.catalogue import indicators_for
from study.demo import seed_demo
from study.models import Family, IndicatorValue

pytestmark = pytest.mark.django_db


def reference_indicator_grid(wave_ids, families, indicator_ids):
    rows = (
        IndicatorValue.objects.alive()
        .filter(wave__family__in=families, wave__is_deleted=False)
        .values_list("wave_id", "indicator_id", Cast("value", FloatField()), "missing_code")
    )
    values = np.full((len(wave_ids), len(indicator_ids)), np.nan)
    reasons = np.full((len(wave_ids), len(indicator_ids)), "", dtype=object)
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # the code before raised here (a CSV of no family); now: no rows
        return values, reasons
    with connections[rows.db].cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    if not found:
        return values, reasons
    waves, indicators, numbers, missing = zip(*found, strict=True)
    at = pd.Index(wave_ids).get_indexer(np.asarray(waves, dtype=np.int64))
    column = pd.Index(indicator_ids).get_indexer(np.asarray(indicators, dtype=np.int64))
    keep = (at >= 0) & (column >= 0)
    at, column = at[keep], column[keep]
    values[at, column] = np.asarray(numbers, dtype=float)[keep]
    reasons[at, column] = np.asarray(missing, dtype=object)[keep]
    return values, reasons


def reference_panel_frame(study, families, indicators=None):
    indicators = list(indicators_for(study)) if indicators is None else indicators
    codes = [i.code for i in indicators]
    fam = pd.DataFrame(
        list(families.values_list("id", "pseudonym", "arm__kind", "wijk", "intake_date", "status")),
        columns=["family_id", "pseudonym", "arm", "wijk", "intake_date", "status"],
    )
    fam["intake_year"] = pd.to_datetime(fam["intake_date"]).dt.year.astype("Int64")
    fam = fam[["family_id", "pseudonym", "arm", "wijk", "intake_year", "status"]]
    waves = panels.wave_frame(families)[["wave_id", "family_id", "wave", "year"]]
    frame = fam.merge(waves, on="family_id")
    frame["years_since_intake"] = frame["year"] - frame["intake_year"]
    values, reasons = reference_indicator_grid(
        frame["wave_id"], families, [i.pk for i in indicators]
    )
    surveys = panels.survey_frame(families)
    scores = frame[["family_id", "wave"]].merge(
        surveys.drop(columns=["year", "qol_instrument"]), on=["family_id", "wave"], how="left"
    )
    columns = {name: frame[name] for name in exporting.BASE_LABELS}
    for j, code in enumerate(codes):
        columns[code] = pd.Series(values[:, j], index=frame.index)
        columns[f"{code}_missing"] = pd.Series(reasons[:, j], index=frame.index)
    for name in exporting.SURVEY_LABELS:
        columns[name] = pd.Series(scores[name].to_numpy(), index=frame.index)
    frame = pd.DataFrame(columns)
    return frame.sort_values(["pseudonym", "wave"]).reset_index(drop=True)


def without_creation_time(payload: bytes, fmt: str) -> bytes:
    """SPSS and Stata files carry the time they were written (SAV: date and time at bytes
    92-108 of the header; DTA: the <timestamp> element)."""
    if fmt == "sav":
        return payload[:92] + payload[109:]
    if fmt == "dta":
        start, end = payload.find(b"<timestamp>"), payload.find(b"</timestamp>")
        return payload[:start] + payload[end:]
    return payload


def assert_same_file(new: bytes, old: bytes, fmt: str) -> None:
    if fmt == "xlsx":
        new_sheets = pd.read_excel(io.BytesIO(new), sheet_name=None)
        old_sheets = pd.read_excel(io.BytesIO(old), sheet_name=None)
        assert list(new_sheets) == list(old_sheets)
        for name, sheet in old_sheets.items():
            pd.testing.assert_frame_equal(new_sheets[name], sheet, check_exact=True)
        return
    assert without_creation_time(new, fmt) == without_creation_time(old, fmt)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        study, _ = seed_demo(seed=7)
        yield study
        transaction.set_rollback(True)


def _both(monkeypatch, study, families, fmt):
    new, rows = exporting.export_bytes(study, families, fmt)
    with monkeypatch.context() as m:
        m.setattr(exporting, "panel_frame", reference_panel_frame)
        old, old_rows = exporting.export_bytes(study, families, fmt)
    assert rows == old_rows
    return new, old


@pytest.mark.parametrize("fmt", list(exporting.FORMATS))
def test_demo_export_is_the_same_file_as_before(demo, monkeypatch, fmt):
    families = Family.objects.filter(study=demo)
    new, old = _both(monkeypatch, demo, families, fmt)
    assert len(new) > 10_000
    assert_same_file(new, old, fmt)


def test_demo_panel_frame_is_the_same_frame_as_before(demo):
    families = Family.objects.filter(study=demo)
    new = exporting.panel_frame(demo, families)
    old = reference_panel_frame(demo, families)
    assert len(new) == 560
    pd.testing.assert_frame_equal(new, old, check_exact=True)


@pytest.mark.parametrize("fmt", list(exporting.FORMATS))
def test_part_of_the_demo_and_no_family_give_the_same_files(demo, monkeypatch, fmt):
    some = Family.objects.filter(study=demo, arm__kind="intervention", wijk__lt="M")
    none = Family.objects.filter(study=demo, pseudonym="no such family")
    for families in (some, none):
        new, old = _both(monkeypatch, demo, families, fmt)
        assert_same_file(new, old, fmt)


def test_the_streamed_page_is_the_panel_as_before(client, demo, monkeypatch):
    from django.contrib.auth import get_user_model

    from study import selectors

    user = get_user_model().objects.get(username="onderzoeker")
    client.force_login(user)
    for fmt in exporting.CSV_DIALECTS:
        response = client.get(f"/studies/{demo.pk}/export/{fmt}/")
        body = b"".join(response.streaming_content)
        families = selectors.research_family_list(user).filter(study=demo)
        with monkeypatch.context() as m:
            m.setattr(exporting, "panel_frame", reference_panel_frame)
            expected, rows = exporting.export_bytes(demo, families, fmt)
        assert rows > 500
        assert body == expected


def reference_csv(study, families, fmt: str) -> bytes:
    """The CSV as pandas writes the panel as it was built before (the CSV is now written from
    the panel's columns, without the frame that `panel_frame` stands for)."""
    dialect = exporting.CSV_DIALECTS[fmt]
    frame = exporting.frame_csv_safe(reference_panel_frame(study, families))
    text = frame.to_csv(index=False, sep=dialect.sep, decimal=dialect.decimal)
    return (exporting.BOM if dialect.bom else b"") + text.encode("utf-8")


@pytest.mark.parametrize("fmt", list(exporting.CSV_DIALECTS))
def test_csv_is_the_pandas_write_of_the_panel_as_before(demo, fmt):
    every = Family.objects.filter(study=demo)
    some = Family.objects.filter(study=demo, arm__kind="intervention", wijk__lt="M")
    none = Family.objects.filter(study=demo, pseudonym="no such family")
    for families in (every, some, none):
        new, rows = exporting.export_bytes(demo, families, fmt)
        assert new == reference_csv(demo, families, fmt)
        assert rows == len(reference_panel_frame(demo, families))
    # in pieces of a few families (each piece's own query of its families' values)
    streamed = b"".join(exporting.export_csv_stream(demo, every, chunk=7, fmt=fmt))
    assert streamed == reference_csv(demo, every, fmt)


def test_csv_of_unusual_cells_is_the_pandas_write(demo):
    """Reasons and wijken that start like a formula, and a value that is -0.0, in the direct
    CSV writer as in pandas."""
    families = Family.objects.filter(study=demo)
    family = families.order_by("pk").first()
    Family.objects.filter(pk=family.pk).update(wijk="=1+2")
    value = IndicatorValue.objects.filter(wave__family=family, value__isnull=False).first()
    IndicatorValue.objects.filter(pk=value.pk).update(value=-0.0)
    try:
        for fmt in exporting.CSV_DIALECTS:
            new, _rows = exporting.export_bytes(demo, families, fmt)
            assert new == reference_csv(demo, families, fmt)
            assert b"'=1+2" in new
    finally:
        Family.objects.filter(pk=family.pk).update(wijk=family.wijk)
        IndicatorValue.objects.filter(pk=value.pk).update(value=value.value)
