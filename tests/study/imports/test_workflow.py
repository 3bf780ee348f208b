"""Registry import: dry run with every problem by row and column, then all-or-nothing apply."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone
from openpyxl import Workbook

from study.imports import workflow
from study.models import ImportBatch, IndicatorValue, Member, Wave
from study.roles import Role
from study.services.waves import wave_lock
from tests.factories import make_family, make_member, make_study, make_user
from tracker.job_kinds import jobs_reconcile_all

pytestmark = pytest.mark.django_db

KEY_A = "a" * 64
KEY_B = "b" * 64


@pytest.fixture
def fams(study, researcher):
    a = make_family(study, user=researcher, linkage_key=KEY_A)
    b = make_family(study, "comparison", user=researcher, linkage_key=KEY_B)
    # b's only child has left the household (soft-deleted): child indicators must then be 0.
    Member.objects.filter(family=b, role="child").update(is_deleted=True)
    return a, b


@pytest.fixture
def dead_claimant():
    """The identity of a worker process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}:1"


def upload(study, user, text: str | bytes, filename="extract.csv", layout="auto"):
    content = text.encode() if isinstance(text, str) else text
    batch = workflow.registry_import_upload(
        study=study, user=user, filename=filename, content=content, layout=layout, enqueue=False
    )
    return workflow.registry_import_validate(batch_id=batch.pk) or batch


def apply(batch, user):
    workflow.registry_import_apply_request(batch=batch, user=user, enqueue=False)
    return workflow.registry_import_apply(batch_id=batch.pk)


def values_of(family):
    return {
        (v.wave.year, v.indicator.code): (v.value, v.missing_code)
        for v in IndicatorValue.objects.alive()
        .filter(wave__family=family)
        .select_related("wave", "indicator")
    }


def test_long_file_dry_run_then_apply_then_idempotent(fams, researcher):
    a, b = fams
    text = (
        "linkage_key,year,indicator,value\n"
        f"{KEY_A},2020,bijstand,1\n"
        f"{KEY_A},2021,bijstand,2\n"
        f"{KEY_B},2020,low_income,not_delivered\n"
    )
    batch = upload(a.study, researcher, text)
    assert batch.status == ImportBatch.Status.VALIDATED, batch.errors
    assert batch.summary["new"] == 3 and batch.summary["families"] == 2
    assert not values_of(a)  # the dry run saved nothing
    assert {row["indicator"] for row in batch.preview} == {"bijstand", "low_income"}

    batch = apply(batch, researcher)
    assert batch.status == ImportBatch.Status.APPLIED
    assert (batch.created, batch.updated, batch.unchanged) == (3, 0, 0)
    assert values_of(a) == {
        (2020, "bijstand"): (Decimal("1.00"), ""),
        (2021, "bijstand"): (Decimal("2.00"), ""),
    }
    assert values_of(b) == {(2020, "low_income"): (None, "not_delivered")}
    value = IndicatorValue.objects.get(wave__family=a, wave__year=2020)
    assert value.source == "import" and value.import_batch_id == batch.pk
    assert value.history.first().history_change_reason.startswith("registry import extract.csv")
    assert value.history.first().history_user == researcher

    again = upload(a.study, researcher, text)
    assert again.summary["unchanged"] == 3 and again.summary["new"] == 0
    assert again.summary["imported_before"]["batch"] == batch.pk
    again = apply(again, researcher)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert IndicatorValue.objects.filter(wave__family__in=fams).count() == 3


def test_wide_semicolon_file_with_decimal_commas_updates_values(fams, researcher):
    a, _ = fams
    first = upload(
        a.study, researcher, f"linkage_key;year;adult_ggz_basic_eur\n{KEY_A};2020;10,5\n"
    )
    apply(first, researcher)
    batch = upload(
        a.study,
        researcher,
        f"pseudonym;jaar;adult_ggz_basic_eur;bijstand\n{a.pseudonym};2020;1250,75;\n",
    )
    assert batch.status == ImportBatch.Status.VALIDATED, batch.errors
    assert batch.layout == "wide" and batch.key_kind == "pseudonym"
    assert batch.summary["changed"] == 1 and batch.summary["empty_cells"] == 1
    assert batch.preview[0]["old"] == "10.5" and batch.preview[0]["new"] == "1250.75"
    apply(batch, researcher)
    assert values_of(a)[(2020, "adult_ggz_basic_eur")] == (Decimal("1250.75"), "")
    value = IndicatorValue.objects.get(wave__family=a, indicator__code="adult_ggz_basic_eur")
    newest, oldest = value.history.all()[:2]
    assert (newest.history_type, oldest.history_type) == ("~", "+")
    assert (oldest.value, newest.value) == (Decimal("10.50"), Decimal("1250.75"))
    assert newest.history_user == researcher and "batch" in newest.history_change_reason


def problems(batch):
    return [(e.get("row"), e.get("column", ""), e["message"]) for e in batch.errors]


def test_every_problem_is_listed_with_row_and_column_and_nothing_is_saved(fams, researcher):
    a, b = fams
    wave = Wave.objects.get(family=a, year=2022)
    wave_lock(wave=wave, user=researcher)
    text = (
        "linkage_key,year,indicator,value\n"
        f"{KEY_A},2020,bijstand,1\n"  # fine
        f"{'c' * 64},2020,bijstand,1\n"  # row 3: unknown family
        f"{KEY_A},2020,no_such_code,1\n"  # row 4: unknown indicator
        f"{KEY_A},2020,bijstand,99\n"  # row 5: duplicate of row 2
        f"{KEY_A},2021,bijstand,99\n"  # row 6: out of range
        f"{KEY_A},2021,moves,1.5\n"  # row 7: not a whole number
        f"{KEY_A},1990,bijstand,1\n"  # row 8: no wave that year
        f"{KEY_A},2022,bijstand,1\n"  # row 9: locked wave
        f"{KEY_B},2021,child_ots,1\n"  # row 10: child indicator, no child
        f"{KEY_A},twenty,bijstand,1\n"  # row 11: not a year
        f"{KEY_A},2021,ww,abc\n"  # row 12: not a number
    )
    batch = upload(a.study, researcher, text)
    assert batch.status == ImportBatch.Status.FAILED
    found = {row: (column, message) for row, column, message in problems(batch)}
    assert set(found) == {3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
    assert "No family of this study" in found[3][1]
    assert "Unknown indicator 'no_such_code'" in found[4][1]
    assert "row 2" in found[5][1] and "Duplicate" in found[5][1]
    assert "out of range" in found[6][1] and found[6][0] == "value"
    assert "whole number" in found[7][1]
    assert "no wave in 1990" in found[8][1]
    assert "locked" in found[9][1]
    assert "no child" in found[10][1]
    assert found[11] == ("year", "'twenty' is not a year.")
    assert "not a number" in found[12][1]
    assert batch.error_count == 10
    # A failed dry run cannot be applied, and nothing was saved.
    with pytest.raises(ValidationError):
        workflow.registry_import_apply_request(batch=batch, user=researcher, enqueue=False)
    assert not values_of(a) and not values_of(b)


def test_a_wave_locked_after_the_dry_run_refuses_the_whole_import(fams, researcher):
    a, _ = fams
    text = f"linkage_key,year,bijstand\n{KEY_A},2020,1\n{KEY_A},2022,1\n"
    batch = upload(a.study, researcher, text)
    assert batch.status == ImportBatch.Status.VALIDATED
    wave_lock(wave=Wave.objects.get(family=a, year=2022), user=researcher)
    batch = apply(batch, researcher)
    assert batch.status == ImportBatch.Status.FAILED
    assert "locked" in batch.errors[0]["message"] and batch.errors[0]["row"] == 3
    assert not values_of(a)  # the 2020 value was rolled back too


def test_file_of_another_study_is_recognised(fams, researcher):
    a, _ = fams
    other = make_study()
    stranger = make_family(other, user=researcher, linkage_key="d" * 64)
    batch = upload(a.study, researcher, f"pseudonym,year,bijstand\n{stranger.pseudonym},2020,1\n")
    assert batch.status == ImportBatch.Status.FAILED
    assert "another study" in batch.errors[0]["message"]
    # and the row itself is named, without saying the family exists elsewhere
    assert batch.errors[1]["row"] == 2 and batch.errors[1]["message"].startswith("No family")
    assert "another" not in batch.errors[1]["message"]


def test_xlsx_with_formula_and_date_cells_is_refused_with_cell_references(fams, researcher):
    a, _ = fams
    book = Workbook()
    sheet = book.active
    sheet.append(["linkage_key", "year", "bijstand", "moves"])
    sheet.append([KEY_A, 2020, 1, 2])
    sheet.append([KEY_A, 2021, "=1+1", date(2021, 5, 1)])
    buffer = io.BytesIO()
    book.save(buffer)
    batch = upload(a.study, researcher, buffer.getvalue(), filename="extract.xlsx")
    assert batch.status == ImportBatch.Status.FAILED
    cells = {e["cell"]: e["message"] for e in batch.errors}
    assert "formula" in cells["C3"] and "date" in cells["D3"]
    assert not values_of(a)


def test_good_xlsx_imports(fams, researcher):
    a, _ = fams
    book = Workbook()
    book.active.append(["pseudonym", "year", "bijstand", "adult_ggz_basic_eur"])
    book.active.append([a.pseudonym, 2021, 1, 123.5])
    buffer = io.BytesIO()
    book.save(buffer)
    batch = apply(upload(a.study, researcher, buffer.getvalue(), "x.xlsx"), researcher)
    assert batch.status == ImportBatch.Status.APPLIED
    assert values_of(a)[(2021, "adult_ggz_basic_eur")] == (Decimal("123.50"), "")


@pytest.mark.parametrize(
    ("content", "filename", "expected"),
    [
        ("linkage_key,year,bijstand\nabc,2020,é\n".encode("cp1252"), "x.csv", "not UTF-8"),
        (b"linkage_key|year|bijstand\n", "x.csv", "No column separator"),
        (b"", "x.csv", "empty"),
        (b"PK\x03\x04broken", "x.xlsx", "damaged"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "x.xls", ".xls"),
        (b"key,year,bijstand\nx,2020,1\n", "x.csv", "key column"),
        (b"pseudonym,bijstand\nx,1\n", "x.csv", "'year'"),
        (b'pseudonym,year,bijstand\nx,2020,"1\n', "x.csv", "cut off"),
        (b"pseudonym,year,year\n", "x.csv", "appears twice"),
    ],
)
def test_unreadable_files_get_one_clear_message(fams, researcher, content, filename, expected):
    a, _ = fams
    batch = upload(a.study, researcher, content, filename)
    assert batch.status == ImportBatch.Status.FAILED
    assert expected in batch.errors[0]["message"], batch.errors


def test_truncated_row_names_its_row(fams, researcher):
    a, _ = fams
    batch = upload(
        a.study, researcher, f"linkage_key,year,bijstand,ww\n{KEY_A},2020,1,0\n{KEY_A},2021"
    )
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.errors[0]["row"] == 3 and "cut off" in batch.errors[0]["message"]


def test_identifier_columns_and_bsn_keys_are_refused_and_not_stored(fams, researcher):
    a, _ = fams
    batch = upload(a.study, researcher, "bsn,pseudonym,year,bijstand\n111222333,x,2020,1\n")
    assert batch.status == ImportBatch.Status.FAILED and "identifiers" in batch.errors[0]["message"]
    assert bytes(ImportBatch.objects.get(pk=batch.pk).content) == b""
    batch = upload(a.study, researcher, "pseudonym,year,bijstand\n111222333,2020,1\n")
    assert "BSN" in batch.errors[0]["message"]
    assert bytes(ImportBatch.objects.get(pk=batch.pk).content) == b""
    assert "111222333" not in str(batch.errors)


def test_enormous_file_is_refused_before_it_is_stored(fams, researcher, settings):
    a, _ = fams
    settings.IMPORT_MAX_BYTES = 1000
    batch = upload(a.study, researcher, "pseudonym,year,bijstand\n" + "x,2020,1\n" * 200)
    assert batch.status == ImportBatch.Status.FAILED
    assert "limit" in batch.errors[0]["message"]
    assert bytes(ImportBatch.objects.get(pk=batch.pk).content) == b""


def test_only_researchers_and_data_managers_of_the_study_may_import(fams, coach, gemeente_user):
    a, _ = fams
    outsider = make_user(Role.RESEARCHER)
    other_dm = make_member(make_study(), Role.DATA_MANAGER)
    for user in (coach, gemeente_user, outsider, other_dm):
        with pytest.raises(PermissionDenied):
            upload(a.study, user, "pseudonym,year,bijstand\n")
    dm = make_member(a.study, Role.DATA_MANAGER)
    batch = upload(a.study, dm, f"pseudonym,year,bijstand\n{a.pseudonym},2020,1\n")
    assert batch.status == ImportBatch.Status.VALIDATED


def test_validate_and_apply_claim_the_batch_once(fams, researcher):
    a, _ = fams
    batch = upload(a.study, researcher, f"pseudonym,year,bijstand\n{a.pseudonym},2020,1\n")
    assert workflow.registry_import_validate(batch_id=batch.pk) is None  # already done
    apply(batch, researcher)
    assert workflow.registry_import_apply(batch_id=batch.pk) is None
    assert ImportBatch.objects.get(pk=batch.pk).attempts == 1


def test_upload_runs_the_dry_run_as_a_task_after_commit(
    fams, researcher, django_capture_on_commit_callbacks
):
    a, _ = fams
    with django_capture_on_commit_callbacks(execute=True):
        batch = workflow.registry_import_upload(
            study=a.study,
            user=researcher,
            filename="x.csv",
            content=f"pseudonym,year,bijstand\n{a.pseudonym},2020,1\n".encode(),
        )
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.VALIDATED and batch.progress == 100
    with django_capture_on_commit_callbacks(execute=True):
        workflow.registry_import_apply_request(batch=batch, user=researcher)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED


def test_management_command_dry_run_and_apply(fams, researcher, tmp_path, capsys):
    a, _ = fams
    path = tmp_path / "extract.csv"
    path.write_text(f"pseudonym,year,bijstand\n{a.pseudonym},2020,1\n{a.pseudonym},2021,x\n")
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_registry", "--study-id", a.study.pk, str(path), "--apply", "--json")
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert '"row": 3' in out and "not a number" in out
    assert not values_of(a)
    path.write_text(f"pseudonym,year,bijstand\n{a.pseudonym},2020,1\n")
    call_command("import_registry", "--study-id", a.study.pk, str(path))
    assert not values_of(a)  # a dry run by default
    call_command(
        "import_registry",
        "--study-id",
        a.study.pk,
        str(path),
        "--apply",
        "--user",
        researcher.username,
    )
    assert values_of(a) == {(2020, "bijstand"): (Decimal("1.00"), "")}


def test_a_job_that_keeps_killing_its_worker_is_failed_after_n_attempts(
    fams, researcher, settings, dead_claimant
):
    a, _ = fams
    settings.IMPORT_MAX_ATTEMPTS = 3
    batch = workflow.registry_import_upload(
        study=a.study,
        user=researcher,
        filename="x.csv",
        content=f"pseudonym,year,bijstand\n{a.pseudonym},2020,1\n".encode(),
        enqueue=False,
    )
    # Three deliveries that died mid-way (claimed, attempt counted, never finished).
    ImportBatch.objects.filter(pk=batch.pk).update(
        status="validating", attempts=3, claimed_by=dead_claimant
    )
    workflow.registry_import_validate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert "Stopped after 3 attempts" in batch.errors[0]["message"]


def test_reconciler_requeues_lost_and_dead_jobs_and_gives_up_after_n(
    fams, researcher, settings, django_capture_on_commit_callbacks
):
    a, _ = fams
    settings.IMPORT_MAX_ATTEMPTS = 3
    content = f"pseudonym,year,bijstand\n{a.pseudonym},2020,1\n".encode()
    lost = workflow.registry_import_upload(
        study=a.study, user=researcher, filename="lost.csv", content=content, enqueue=False
    )
    dead = workflow.registry_import_upload(
        study=a.study, user=researcher, filename="dead.csv", content=content, enqueue=False
    )
    poison = workflow.registry_import_upload(
        study=a.study, user=researcher, filename="poison.csv", content=content, enqueue=False
    )
    workflow.registry_import_upload(
        study=a.study, user=researcher, filename="fresh.csv", content=content, enqueue=False
    )
    old = timezone.now() - timedelta(hours=1)
    ImportBatch.objects.filter(pk=lost.pk).update(heartbeat_at=old)  # Redis lost the message
    ImportBatch.objects.filter(pk=dead.pk).update(status="validating", attempts=1, heartbeat_at=old)
    ImportBatch.objects.filter(pk=poison.pk).update(
        status="validating", attempts=3, heartbeat_at=old
    )
    with django_capture_on_commit_callbacks(execute=True):
        outcome = jobs_reconcile_all(kinds=["import-dry-run", "import-apply"])
    assert outcome["import-dry-run"].as_dict() == {
        "resumed": [dead.pk],  # its worker was gone
        "requeued": [lost.pk],  # its message was lost
        "failed": [poison.pk],
    }
    assert outcome["import-apply"].as_dict() == {"resumed": [], "requeued": [], "failed": []}
    statuses = dict(ImportBatch.objects.values_list("filename", "status"))
    assert statuses == {
        "lost.csv": "validated",
        "dead.csv": "validated",
        "poison.csv": "failed",
        "fresh.csv": "queued",  # recent: not touched
    }
    assert ImportBatch.objects.get(pk=dead.pk).attempts == 2
