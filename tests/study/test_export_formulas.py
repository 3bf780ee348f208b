"""Exports are safe to open: text that a spreadsheet would run as a formula is neutralised in the
CSV panel and the import's problems CSV, and stays a string in the XLSX; numbers stay numbers."""

import io

import openpyxl
import pandas as pd
import pytest

from study import exporting
from study.exporting import csv_safe_value
from study.models import Family
from tests.factories import make_family

pytestmark = pytest.mark.django_db

EVIL = ['=cmd|"/c calc"!A1', "+HYPERLINK(1)", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("text", EVIL)
def test_formula_starts_get_an_apostrophe(text):
    assert csv_safe_value(text) == "'" + text


@pytest.mark.parametrize("value", [-3, 2.5, "-3", "+31", "-0.5", "gewoon", "", None])
def test_numbers_and_plain_text_are_untouched(value):
    assert csv_safe_value(value) == value


def test_the_csv_panel_neutralises_a_formula_wijk_and_keeps_numbers(study, researcher):
    family = make_family(study, user=researcher, wijk='=cmd|"/c calc"!A1')
    families = Family.objects.filter(pk=family.pk)
    data, _rows = exporting.export_bytes(study, families, "csv")
    text = data.decode()
    assert "'=cmd" in text
    assert "\n=cmd" not in text and ",=cmd" not in text and ',"=cmd' not in text
    frame = pd.read_csv(io.StringIO(text))
    assert frame["year"].dtype.kind == "i", "numeric columns stay numbers"


def test_the_xlsx_panel_holds_the_formula_as_text(study, researcher):
    family = make_family(study, user=researcher, wijk='=cmd|"/c calc"!A1')
    data, _rows = exporting.export_bytes(study, Family.objects.filter(pk=family.pk), "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data))["panel"]
    header = [c.value for c in sheet[1]]
    cells = [row[header.index("wijk")] for row in sheet.iter_rows(min_row=2)]
    assert cells and all(c.data_type == "s" and c.value == '=cmd|"/c calc"!A1' for c in cells)
    years = [row[header.index("year")] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "n" for c in years)
    formulas = [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []


def test_the_problems_csv_neutralises_a_formula_header(client, study, researcher):
    import csv

    from study.imports import workflow
    from tests.otp import login_verified

    family = make_family(study, user=researcher)
    content = f'pseudonym,year,bijstand,"=HYPERLINK(""http://x"")"\n{family.pseudonym},2021,1,2\n'
    batch = workflow.registry_import_upload(
        study=study, user=researcher, filename="x.csv", content=content.encode(), enqueue=False
    )
    batch = workflow.registry_import_validate(batch_id=batch.pk)
    assert batch.error_count >= 1
    login_verified(client, researcher)
    answer = client.get(f"/imports/{batch.pk}/problems.csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode())))
    cells = [cell for row in rows[1:] for cell in row]
    assert any(cell.startswith("'=HYPERLINK") for cell in cells), rows
    assert not any(cell.startswith("=") for cell in cells)
