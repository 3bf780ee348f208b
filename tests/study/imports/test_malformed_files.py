"""Bad input (issue 8): every malformed extract gets a clear message naming row and column, and
the database is unchanged — row counts of the data and audit tables compared before and after."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from study.imports import workflow
from study.models import ImportBatch
from tests.factories import make_family, make_study

pytestmark = pytest.mark.django_db

WATCHED = [
    "study.IndicatorValue",
    "study.HistoricalIndicatorValue",
    "study.Wave",
    "study.HistoricalWave",
    "study.Family",
    "study.HistoricalFamily",
    "study.Member",
    "study.AccessEvent",
]


def counts() -> dict[str, int]:
    return {label: apps.get_model(label).objects.count() for label in WATCHED}


def xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def fam(study, researcher):
    return make_family(study, user=researcher)


def cases(fam, stranger):
    p = fam.pseudonym
    good_xlsx = xlsx([["pseudonym", "year", "bijstand"], [p, 2020, 1]])
    return {
        "wrong encoding": (
            f"pseudonym;year;bijstand\n{p};2020;1 é\n".encode("latin-1"),
            "x.csv",
            2,
            "",
        ),
        "wrong delimiter": (f"pseudonym|year|bijstand\n{p}|2020|1\n".encode(), "x.csv", 1, ""),
        "truncated csv": (
            f'pseudonym,year,bijstand\n{p},2020,1\n{p},2021,"1'.encode(),
            "x.csv",
            3,
            "",
        ),
        "truncated row": (
            f"pseudonym,year,bijstand,ww\n{p},2020,1,0\n{p},2021\n".encode(),
            "x.csv",
            3,
            "",
        ),
        "truncated xlsx": (good_xlsx[: len(good_xlsx) // 2], "x.xlsx", None, ""),
        "duplicate rows": (
            f"pseudonym,year,bijstand\n{p},2020,1\n{p},2020,1\n".encode(),
            "x.csv",
            3,
            "bijstand",
        ),
        "out of range": (
            f"pseudonym,year,child_foster_care_days\n{p},2020,367\n".encode(),
            "x.csv",
            2,
            "child_foster_care_days",
        ),
        "formula cell": (
            xlsx([["pseudonym", "year", "bijstand"], [p, 2020, "=A1*0"]]),
            "x.xlsx",
            2,
            "bijstand",
        ),
        "date cell": (
            xlsx([["pseudonym", "year", "bijstand"], [p, 2020, date(2020, 1, 1)]]),
            "x.xlsx",
            2,
            "bijstand",
        ),
        "file of another study": (
            f"pseudonym,year,bijstand\n{stranger.pseudonym},2020,1\n".encode(),
            "x.csv",
            2,
            "bijstand",
        ),
        "unknown column": (
            f"pseudonym,year,bijstand,shoe_size\n{p},2020,1,44\n".encode(),
            "x.csv",
            1,
            "shoe_size",
        ),
        "binary junk": (b"\x00\x01\x02garbage\xff", "x.csv", None, ""),
    }


@pytest.mark.parametrize(
    "case",
    [
        "wrong encoding",
        "wrong delimiter",
        "truncated csv",
        "truncated row",
        "truncated xlsx",
        "duplicate rows",
        "out of range",
        "formula cell",
        "date cell",
        "file of another study",
        "unknown column",
        "binary junk",
    ],
)
def test_malformed_extract_is_refused_clearly_and_changes_nothing(fam, researcher, case):
    stranger = make_family(make_study(), user=researcher)
    content, filename, row, column = cases(fam, stranger)[case]
    before = counts()
    batch = workflow.registry_import_upload(
        study=fam.study, user=researcher, filename=filename, content=content, enqueue=False
    )
    batch = workflow.registry_import_validate(batch_id=batch.pk)
    assert batch.status == ImportBatch.Status.FAILED, case
    messages = [e["message"] for e in batch.errors]
    assert all(len(m) > 20 for m in messages), messages  # sentences, not codes
    if row is not None:
        assert any(e.get("row") == row for e in batch.errors), batch.errors
    if column:
        assert any(e.get("column") == column for e in batch.errors), batch.errors
    with pytest.raises(ValidationError):
        workflow.registry_import_apply_request(batch=batch, user=researcher, enqueue=False)
    assert counts() == before, case


def test_enormous_file_is_refused_and_changes_nothing(fam, researcher, settings):
    settings.IMPORT_MAX_BYTES = 10_000
    before = counts()
    content = ("pseudonym,year,bijstand\n" + f"{fam.pseudonym},2020,1\n" * 2000).encode()
    batch = workflow.registry_import_upload(
        study=fam.study, user=researcher, filename="big.csv", content=content, enqueue=False
    )
    assert batch.status == ImportBatch.Status.FAILED and "limit" in batch.errors[0]["message"]
    assert counts() == before
