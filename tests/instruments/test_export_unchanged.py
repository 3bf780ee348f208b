"""The faster instrument export (issue 21) writes the same files as before: CSV (data and
codebook), SPSS and Stata byte for byte (their creation time aside), Excel value for value. The
reference is the table as it was built before, frozen here: one dict per administration, one
column insert per variable, a merge and sort of the wide table, every survey answer scored."""

from collections.abc import Iterable, Mapping

import pandas as pd
import pytest
from django.db import transaction

from instruments import exporting, selectors
from instruments.exporting import item_column, score_column
from instruments.legacy import SURVEY_ITEMS, AdministrationRow
from instruments.library import shipped_definition
from instruments.scoring import score_all
from study import access, panels
from study.demo import seed_demo
from study.models import Family
from tests.study.test_export_unchanged import assert_same_file

pytestmark = pytest.mark.django_db


def reference_survey_rows(surveys: Iterable[Mapping[str, object]]) -> list[AdministrationRow]:
    rows = []
    for survey in surveys:
        codes = survey.get("missing_codes") or {}
        for fld, (code, version, item) in SURVEY_ITEMS.items():
            value, missing = survey.get(fld), codes.get(fld, "")  # type: ignore[attr-defined]
            if value is None and not missing:
                continue
            answers = {} if value is None else {item: int(value)}  # type: ignore[call-overload]
            definition = shipped_definition(code, version)
            rows.append(
                AdministrationRow(
                    wave_id=int(survey["wave_id"]),  # type: ignore[call-overload]
                    instrument=code,
                    version=version,
                    answers=answers,
                    missing_codes={item: missing} if missing else {},
                    scores=score_all(definition, answers),
                    origin="wave_survey",
                )
            )
    return rows


def reference_instrument_frame(
    rows: list[AdministrationRow], waves: pd.DataFrame, versions: Iterable
) -> pd.DataFrame:
    variables = exporting._variables(v.parsed for v in versions)
    records = []
    for row in rows:
        record: dict[str, object] = {
            "wave_id": row.wave_id,
            "instrument": row.instrument,
            "version": row.version,
            "origin": row.origin,
        }
        for item, value in row.answers.items():
            record[item_column(row.instrument, item)] = value
        for item, code in row.missing_codes.items():
            record[f"{item_column(row.instrument, item)}_missing"] = code
        for score, value in row.scores.items():
            record[score_column(row.instrument, score)] = value
        records.append(record)
    data = pd.DataFrame(records, columns=["wave_id", "instrument", "version", "origin"])
    if records:
        data = pd.DataFrame(records)
    columns = list(exporting.BASE)
    for name, var in variables.items():
        if name not in data:
            data[name] = float("nan")
        data[name] = pd.to_numeric(data[name], errors="coerce").astype(float)
        columns.append(name)
        if var["kind"] == "item":
            reason = f"{name}_missing"
            data[reason] = data.get(reason, pd.Series("", index=data.index)).fillna("")
            columns.append(reason)
    frame = waves.merge(data, on="wave_id", how="inner")
    return frame.sort_values(["pseudonym", "wave", "instrument"])[columns].reset_index(drop=True)


def reference_wave_frame(families):
    fam = pd.DataFrame(
        list(families.values_list("id", "pseudonym", "arm__kind")),
        columns=["family_id", "pseudonym", "arm"],
    )
    waves = panels.wave_frame(families)[["wave_id", "family_id", "wave", "year"]]
    return fam.merge(waves, on="family_id")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        study, _ = seed_demo(seed=7)
        yield study
        transaction.set_rollback(True)


def _reference(m):
    m.setattr(exporting, "instrument_frame", reference_instrument_frame)
    m.setattr(exporting, "wave_frame", reference_wave_frame)
    m.setattr(selectors, "survey_rows", reference_survey_rows)


@pytest.mark.parametrize("fmt", list(exporting.FORMATS))
def test_demo_instrument_export_is_the_same_file_as_before(demo, monkeypatch, fmt):
    some = Family.objects.filter(study=demo, arm__kind="comparison", wijk__gt="K")
    none = Family.objects.filter(study=demo, pseudonym="no such family")
    for families in (Family.objects.filter(study=demo), some, none):
        new = exporting.export_bytes(demo, families, fmt)
        with monkeypatch.context() as m:
            _reference(m)
            old = exporting.export_bytes(demo, families, fmt)
        assert_same_file(new, old, "dta" if fmt == "dta" else fmt)
    assert len(new) > 100


def test_demo_instrument_frame_is_the_same_frame_as_before(demo, monkeypatch):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="onderzoeker")
    families = access.research_families(user).filter(study=demo)
    new, _ = exporting.export_frames(demo, families)
    with monkeypatch.context() as m:
        _reference(m)
        old, _ = exporting.export_frames(demo, families)
    assert len(new) > 1000
    pd.testing.assert_frame_equal(new, old, check_exact=True)


def test_demo_instrument_csv_is_the_pandas_write_of_the_table_as_before(demo, monkeypatch):
    """The CSV is written from the cells without the wide table (`instrument_frame`): the same
    bytes as pandas writes of the table built the way it was before."""
    some = Family.objects.filter(study=demo, arm__kind="comparison", wijk__gt="K")
    none = Family.objects.filter(study=demo, pseudonym="no such family")
    for families in (Family.objects.filter(study=demo), some, none):
        new = exporting.export_bytes(demo, families, "csv")
        with monkeypatch.context() as m:
            _reference(m)
            frame, _book = exporting.export_frames(demo, families)
        old = exporting.frame_csv_safe(frame).to_csv(index=False).encode("utf-8")
        assert new == old


def test_instrument_csv_of_unusual_cells_is_the_table_written(demo):
    """Answers that are None, a bool or text, and a reason that starts like a formula or is
    None: the CSV written from the cells is the one written from the table."""
    from study.exporting import CSV_DIALECTS, frame_to_csv_bytes

    families = Family.objects.filter(study=demo)
    versions = list(selectors.instrument_version_list(study=demo))
    rows = selectors.administration_rows(families)
    waves = exporting.wave_frame(families)
    stored = next(r for r in rows if r.answers)
    item = next(iter(stored.answers))
    odd = [
        AdministrationRow(
            wave_id=stored.wave_id,
            instrument=stored.instrument,
            version=stored.version,
            answers={item: answer},
            missing_codes={item: code},
            scores=dict(stored.scores),
        )
        for answer, code in ((None, "=cmd"), (True, None), ("3", "refused"))
    ]
    for extra in ([], odd[:1], odd[:2], odd):
        table = rows + extra
        for dialect in CSV_DIALECTS.values():
            new = exporting.instrument_csv(table, waves, versions, dialect)
            old = frame_to_csv_bytes(exporting.instrument_frame(table, waves, versions), dialect)
            assert new == old
