"""Bounded uploads (issue 17): spreadsheet and CSV bombs, generated here, are refused after reading
at most the configured rows (counted), before anything of them is stored, with the upload
handling's peak memory far below 300 MB; the declared XLSX dimension is ignored, and the job's
heartbeat goes on while a long file is read."""

from __future__ import annotations

import io
import re
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from study.imports import screening, workflow
from study.imports.problems import ImportFileError
from study.models import ImportBatch
from tests.factories import make_family

pytestmark = pytest.mark.django_db


def _xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _patched(content: bytes, edit) -> bytes:
    """The workbook with its first sheet's XML changed by `edit` (as a hostile file would be)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = edit(data.decode()).encode()
            target.writestr(item, data)
    return out.getvalue()


@pytest.fixture
def fam(study, researcher):
    return make_family(study, user=researcher)


@pytest.fixture
def rows_read(monkeypatch):
    """How many rows the screening read (counted at the reader, not timed)."""
    counted = {"rows": 0}
    original = screening._Walk.row

    def counting(self, number, values):
        counted["rows"] += 1
        return original(self, number, values)

    monkeypatch.setattr(screening._Walk, "row", counting)
    return counted


def _dry_run(fam, researcher, filename, content):
    batch = workflow.registry_import_upload(
        study=fam.study, user=researcher, filename=filename, content=content, enqueue=False
    )
    return workflow.registry_import_validate(batch_id=batch.pk) or batch


def test_a_declared_dimension_of_a_million_rows_is_ignored(fam, researcher, rows_read):
    good = _xlsx([["pseudonym", "year", "bijstand"], [fam.pseudonym, 2021, 1]])
    bomb = _patched(
        good, lambda xml: re.sub(r'<dimension ref="[^"]+"', '<dimension ref="A1:XFD1048576"', xml)
    )
    assert len(bomb) < 10_000
    batch = _dry_run(fam, researcher, "dim.xlsx", bomb)
    assert batch.status == ImportBatch.Status.VALIDATED, batch.errors
    assert rows_read["rows"] == 2, "two rows read, not the declared million"


def test_a_row_far_down_is_refused_at_the_row_limit(fam, researcher, settings, rows_read):
    settings.IMPORT_MAX_ROWS = 5_000
    good = _xlsx([["pseudonym", "year", "bijstand"], [fam.pseudonym, 2021, 1]])
    far = '<row r="1048576"><c r="A1048576" t="n"><v>1</v></c></row></sheetData>'
    bomb = _patched(good, lambda xml: xml.replace("</sheetData>", far))
    batch = _dry_run(fam, researcher, "far.xlsx", bomb)
    assert batch.status == ImportBatch.Status.FAILED
    assert "rows" in batch.errors[0]["message"] and "5.000" in batch.errors[0]["message"]
    assert rows_read["rows"] <= 5_001
    assert not workflow.spool_path(batch).exists()


def test_a_cell_in_the_last_column_is_refused_at_the_column_limit(fam, researcher, rows_read):
    good = _xlsx([["pseudonym", "year", "bijstand"], [fam.pseudonym, 2021, 1]])
    wide = '<row r="3"><c r="XFD3" t="n"><v>1</v></c></row></sheetData>'
    batch = _dry_run(
        fam, researcher, "wide.xlsx", _patched(good, lambda x: x.replace("</sheetData>", wide))
    )
    assert batch.status == ImportBatch.Status.FAILED
    assert "columns" in batch.errors[0]["message"]
    assert rows_read["rows"] == 3


def test_a_zip_bomb_is_refused_before_it_is_unpacked(fam, researcher, monkeypatch):
    good = _xlsx([["pseudonym", "year", "bijstand"], [fam.pseudonym, 2021, 1]])
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(good)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for item in source.infolist():
            bomb.writestr(item, source.read(item.filename))
        bomb.writestr("xl/media/padding.bin", b"\0" * 30_000_000)
    content = out.getvalue()
    assert len(content) < 100_000

    def never(*args, **kwargs):
        raise AssertionError("the workbook was opened")

    monkeypatch.setattr("openpyxl.load_workbook", never)
    batch = _dry_run(fam, researcher, "bomb.xlsx", content)
    assert batch.status == ImportBatch.Status.FAILED
    assert "zip bomb" in batch.errors[0]["message"]


def test_unpacked_size_over_the_limit_is_refused(tmp_path, settings):
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 1_000_000
    content = _xlsx(
        [["pseudonym", "year", "bijstand"], *[[f"G-{i}", 2021, i] for i in range(30_000)]]
    )
    path = tmp_path / "big"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match="unpacked"):
        screening.screen_file(path, "big.xlsx", limits=workflow._limits())


def test_a_huge_csv_is_refused_at_the_row_limit_with_bounded_memory(fam, researcher, rows_read):
    row = f"{fam.pseudonym},2021,1\n"
    content = ("pseudonym,year,bijstand\n" + row * 1_000_000).encode()  # 19 MB, a million rows
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        batch = _dry_run(fam, researcher, "huge.csv", content)
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    assert batch.status == ImportBatch.Status.FAILED
    assert "rows" in batch.errors[0]["message"]
    assert rows_read["rows"] == 250_001, "stopped one row past the limit"
    assert peak < 300 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB above the baseline"


def test_the_heartbeat_goes_on_while_a_long_file_is_read(tmp_path, monkeypatch):
    path = Path(tmp_path / "long")
    # Quoted: the row-by-row walk (an unquoted CSV is screened in pieces; see below).
    path.write_bytes(("pseudonym,year,bijstand\n" + '"G-AAAAAA",2021,1\n' * 50).encode())
    ticks = iter(range(0, 10_000, 3))
    monkeypatch.setattr(screening.time, "monotonic", lambda: next(ticks))
    beats: list[int] = []
    screening.screen_file(path, "long.csv", limits=workflow._limits(), heartbeat=beats.append)
    assert len(beats) >= 40 and beats == sorted(beats)


def test_the_heartbeat_goes_on_while_an_unquoted_csv_is_screened(tmp_path, monkeypatch):
    path = Path(tmp_path / "long")
    lines = 3 * (1 << 20) // len("G-AAAAAA,2021,1\n")  # three pieces of the screen
    path.write_bytes(("pseudonym,year,bijstand\n" + "G-AAAAAA,2021,1\n" * lines).encode())
    ticks = iter(range(0, 10_000, 3))
    monkeypatch.setattr(screening.time, "monotonic", lambda: next(ticks))
    beats: list[int] = []
    screened = screening.screen_file(
        path, "long.csv", limits=workflow._limits(), heartbeat=beats.append
    )
    assert screened.rows == lines + 1 and screened.columns == 3
    assert len(beats) >= 3 and beats == sorted(beats)
