"""No BSN, ever (issue 17): every upload the review found stored is refused with a message that
names where (never the number), the spooled file is deleted, and afterwards no byte of the file
and no BSN is anywhere in the database (every table dumped and searched)."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from openpyxl import Workbook

from study.imports import workflow
from study.imports.problems import mask_bsn
from study.imports.screening import has_bsn, identifier_header
from study.models import ImportBatch
from tests.factories import make_family

pytestmark = pytest.mark.django_db

BSN = "123456782"  # passes the 11-proof
MARKER = "QXZMARKERQXZ"  # a byte string of the file that must not be stored


def xlsx(*sheets) -> bytes:
    book = Workbook()
    for index, rows in enumerate(sheets):
        sheet = book.active if index == 0 else book.create_sheet(f"s{index}")
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def database_text() -> str:
    """Every cell of every table, as text (binary cells decoded byte for byte)."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                for cell in row:
                    if isinstance(cell, memoryview | bytes):
                        parts.append(bytes(cell).decode("latin-1"))
                    elif cell is not None:
                        parts.append(str(cell))
    return "\n".join(parts)


@pytest.fixture
def fam(study, researcher):
    return make_family(study, user=researcher)


def cases(p: str) -> dict[str, tuple[bytes, str]]:
    many = "".join(f"{p},{2000 + i % 20},999999\n" for i in range(1200))
    return {
        "BSN-nummer column": (
            f"BSN-nummer,pseudonym,year,bijstand\n1,{p},2020,{MARKER}\n",
            "x.csv",
        ),
        "bsn_moeder and client_naam": (
            f"pseudonym,year,bijstand,bsn_moeder,client_naam\n{p},2020,1,1,{MARKER}\n",
            "x.csv",
        ),
        "burgerservicenummer": (
            f"pseudonym,year,Burgerservicenummer\n{p},2020,{MARKER}\n",
            "x.csv",
        ),
        "sofinummer": (f"pseudonym;year;sofinummer\n{p};2020;{MARKER}\n", "x.csv"),
        "a BSN as a value": (
            f"pseudonym,year,bijstand\n{p},2020,{BSN}\n{MARKER},2021,1\n",
            "x.csv",
        ),
        "a BSN with dots": (
            f"pseudonym,year,bijstand\n{p},2020,1234.56.782\n{MARKER},1,1\n",
            "x.csv",
        ),
        "a key BSN123456782": (
            f"pseudonym,year,bijstand\nBSN{BSN},2020,1\n{MARKER},1,1\n",
            "x.csv",
        ),
        "a BSN after 1,200 other problems": (
            f"pseudonym,year,bijstand\n{many}{p},2020,{BSN}\n{MARKER},1,1\n",
            "x.csv",
        ),
        "a BSN in an Excel cell": (
            [["pseudonym", "year", "bijstand"], [p, 2020, int(BSN)], [MARKER, 2021, 1]],
            "x.xlsx",
        ),
        "a BSN on another sheet": (
            ([["pseudonym", "year", "bijstand"], [p, 2020, 1], [MARKER, 2021, 1]], [["x", BSN]]),
            "x.xlsx",
        ),
        "a BSN in the header": (f"pseudonym,year,{BSN}\n{p},2020,{MARKER}\n", "x.csv"),
    }


def _content(raw) -> bytes:
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, str):
        return raw.encode()
    if isinstance(raw, tuple):
        return xlsx(*raw)
    return xlsx(raw)


@pytest.mark.parametrize(
    "case",
    [
        "BSN-nummer column",
        "bsn_moeder and client_naam",
        "burgerservicenummer",
        "sofinummer",
        "a BSN as a value",
        "a BSN with dots",
        "a key BSN123456782",
        "a BSN after 1,200 other problems",
        "a BSN in an Excel cell",
        "a BSN on another sheet",
        "a BSN in the header",
    ],
)
def test_a_file_with_a_bsn_is_refused_deleted_and_nothing_of_it_stored(
    fam, researcher, case, django_capture_on_commit_callbacks
):
    raw, filename = cases(fam.pseudonym)[case]
    with django_capture_on_commit_callbacks(execute=True):
        batch = workflow.registry_import_upload(
            study=fam.study, user=researcher, filename=filename, content=_content(raw)
        )
    spooled = workflow.spool_path(batch)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED, (case, batch.errors)
    (error,) = batch.errors
    assert "BSN" in error["message"] or "identifiers" in error["message"], error
    assert BSN not in str(batch.errors) and "1234.56.782" not in str(batch.errors)
    assert spooled is not None and not spooled.exists(), "the refused file is deleted"
    stored = database_text()
    assert BSN not in stored and "1234.56.782" not in stored
    assert MARKER not in stored, "no byte of the refused file is in the database"
    assert bytes(batch.content) == b"" and batch.preview == [] and batch.sha256 == ""


def test_a_bsn_in_the_file_name_is_refused_before_anything_is_stored(fam, researcher):
    before = ImportBatch.objects.count()
    with pytest.raises(ValidationError, match="file name") as refused:
        workflow.registry_import_upload(
            study=fam.study,
            user=researcher,
            filename=f"extract_{BSN}.csv",
            content=b"pseudonym,year,bijstand\n",
        )
    assert BSN not in str(refused.value)
    assert ImportBatch.objects.count() == before
    assert BSN not in database_text()


def test_the_upload_page_refuses_a_bsn_file_name_without_echoing_it(client, fam, researcher):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.otp import login_verified

    login_verified(client, researcher)
    upload = SimpleUploadedFile(f"{BSN}.csv", b"pseudonym,year,bijstand\n", "text/csv")
    page = client.post(f"/studies/{fam.study.pk}/imports/", {"file": upload, "layout": "auto"})
    assert page.status_code == 200 and "file name" in page.content.decode()
    assert BSN not in page.content.decode()
    assert not ImportBatch.objects.filter(study=fam.study).exists()


def test_a_clean_file_is_imported_from_the_spool_and_the_spool_emptied(
    fam, researcher, django_capture_on_commit_callbacks
):
    content = f"pseudonym,year,bijstand\n{fam.pseudonym},2021,1\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        batch = workflow.registry_import_upload(
            study=fam.study, user=researcher, filename="ok.csv", content=content
        )
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.VALIDATED, batch.errors
    assert workflow.spool_path(batch).exists(), "kept for the apply"
    assert bytes(batch.content) == b""
    with django_capture_on_commit_callbacks(execute=True):
        workflow.registry_import_apply_request(batch=batch, user=researcher)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED and batch.created == 1
    assert not workflow.spool_path(batch).exists(), "deleted after the apply (retention 0)"


def test_with_a_retention_period_the_file_is_kept_until_cleanup(
    fam, researcher, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_RETENTION_SECONDS = 3600
    content = f"pseudonym,year,bijstand\n{fam.pseudonym},2021,999999\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        batch = workflow.registry_import_upload(
            study=fam.study, user=researcher, filename="bad.csv", content=content
        )
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert workflow.spool_path(batch).exists()
    settings.IMPORT_RETENTION_SECONDS = 0
    assert workflow.spool_cleanup() >= 1
    assert not workflow.spool_path(batch).exists()


@pytest.mark.parametrize(
    "text", [BSN, f"BSN{BSN}", "123 456 782", "1234.56.782", "12345678-2", "12345672"]
)
def test_numbers_that_pass_the_eleven_proof_are_found(text):
    digits = "".join(c for c in text if c.isdigit())
    assert has_bsn(text) is (len(digits) == 9 or text == "12345672")


@pytest.mark.parametrize("text", ["123456789", "2021-03-15", "06-12345678", "20210315", "1000"])
def test_other_numbers_are_not_taken_for_a_bsn(text):
    assert not has_bsn(text)


@pytest.mark.parametrize(
    "name",
    ["BSN", "BSN-nummer", "bsn_moeder", "BsnKind", "burgerservicenummer", "Sofi-nummer",
     "client_naam", "Achternaam", "geboortedatum", "postcode", "E-mail"],
)  # fmt: skip
def test_identifier_headers_are_recognised(name):
    assert identifier_header(name)


@pytest.mark.parametrize("name", ["pseudonym", "year", "bijstand", "ww", "schulden", "jaar"])
def test_ordinary_headers_pass(name):
    assert not identifier_header(name)


def test_problems_never_echo_an_eleven_proof_number():
    assert mask_bsn(f"bijstand: {BSN} valt buiten het bereik") == (
        "bijstand: ********* valt buiten het bereik"
    )
    assert mask_bsn("bijstand: 123456789 valt buiten het bereik").count("123456789") == 1
