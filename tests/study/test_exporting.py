"""Exports: an analysis-ready panel whose SPSS and Stata files read back with values and labels."""

import io

import pandas as pd
import pyreadstat
import pytest

from study.exporting import codebook_frame, export_bytes, panel_frame
from study.models import Family
from study.services.surveys import wave_survey_record
from study.services.values import indicator_values_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(family, researcher):
    indicator_values_record(
        wave=family.waves.get(index=0), values={"bijstand": 1, "ww": "refused"}, user=researcher
    )
    wave_survey_record(wave=family.waves.get(index=0), data={"satisfaction": 7}, user=researcher)
    return family


def _readback(study, fmt, tmp_path):
    payload, _ = export_bytes(study, Family.objects.filter(study=study), fmt)
    path = tmp_path / f"x.{fmt}"
    path.write_bytes(payload)
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    return reader(str(path))


def test_panel_keeps_numbers_numeric_with_the_missing_reason_beside(recorded):
    frame = panel_frame(recorded.study, Family.objects.filter(pk=recorded.pk))
    t0 = frame.loc[frame["wave"] == 0].iloc[0]
    assert t0["bijstand"] == 1 and pd.isna(t0["ww"]) and t0["ww_missing"] == "refused"
    assert t0["satisfaction"] == 7 and t0["years_since_intake"] == 0
    assert sorted(frame["wave"]) == [-2, -1, 0, 1, 2, 3, 4]
    assert "linkage_key" not in frame.columns


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_spss_and_stata_read_back_with_values_and_labels(recorded, fmt, tmp_path):
    data, meta = _readback(recorded.study, fmt, tmp_path)
    t0 = data.loc[data["wave"] == 0].iloc[0]
    assert t0["bijstand"] == 1 and pd.isna(t0["ww"]) and t0["ww_missing"] == "refused"
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["bijstand"] == "gezinsleden met bijstandsuitkering"
    assert meta.variable_value_labels["arm"] == {
        0.0: "vergelijkingsgroep",
        1.0: "interventiegroep",
    } or meta.variable_value_labels["arm"] == {0: "vergelijkingsgroep", 1: "interventiegroep"}


def test_codebook_comes_from_the_catalogue(study):
    book = codebook_frame(study)
    row = book.set_index("variable").loc["child_foster_care_days"]
    assert row["range"] == "0.00-366.00" and row["source"] == "registry"


def test_researcher_downloads_an_xlsx_with_a_codebook_sheet(client, researcher, recorded):
    client.force_login(researcher)
    response = client.get(f"/studies/{recorded.study_id}/export/xlsx/")
    assert response.status_code == 200
    sheets = pd.read_excel(io.BytesIO(b"".join(response.streaming_content)), sheet_name=None)
    assert set(sheets) == {"panel", "codebook"}


def test_coach_and_gemeente_cannot_export(client, coach, gemeente_user, recorded):
    for user in (coach, gemeente_user):
        client.force_login(user)
        assert client.get(f"/studies/{recorded.study_id}/export/csv/").status_code == 404


def test_export_contains_no_other_study_and_is_logged(client, researcher, recorded, other_family):
    from study.models import AccessEvent
    from tests.factories import make_family, make_study

    foreign = make_family(make_study())
    client.force_login(researcher)
    body = b"".join(
        client.get(f"/studies/{recorded.study_id}/export/csv/").streaming_content
    ).decode()
    assert (
        recorded.pseudonym in body
        and other_family.pseudonym in body
        and foreign.pseudonym not in body
    )
    assert AccessEvent.objects.filter(action="export.csv", row_count=14).exists()


def test_csv_streams_in_pieces_that_add_up_to_the_whole_panel(recorded, other_family):
    from study.exporting import export_csv_stream

    families = Family.objects.filter(study=recorded.study)
    pieces = list(export_csv_stream(recorded.study, families, chunk=1))
    assert len(pieces) == 2 and pieces[1].count(b"pseudonym") == 0  # one header
    streamed = pd.read_csv(io.BytesIO(b"".join(pieces)))
    whole = pd.read_csv(io.BytesIO(export_bytes(recorded.study, families, "csv")[0]))
    pd.testing.assert_frame_equal(streamed, whole)
    assert len(streamed) == 14


def test_export_page_streams_csv_and_logs_the_row_count(client, researcher, recorded):
    from study.models import AccessEvent

    client.force_login(researcher)
    response = client.get(f"/studies/{recorded.study_id}/export/csv/")
    assert response.status_code == 200 and response.streaming
    body = b"".join(response.streaming_content)
    assert recorded.pseudonym.encode() in body
    event = AccessEvent.objects.filter(action="export.csv").get()
    assert event.row_count == 7 and event.actor == researcher
    response = client.get(f"/studies/{recorded.study_id}/export/sav/")
    assert response.status_code == 200 and response.streaming
    assert b"".join(response.streaming_content)[:4] == b"$FL2"


def test_export_command_writes_files_and_refuses_outsiders(recorded, researcher, tmp_path):
    from django.core.management import CommandError, call_command

    from study.roles import Role
    from tests.factories import make_user

    out = tmp_path / "panel.dta"
    call_command(
        "export_panel",
        "--study-id",
        recorded.study_id,
        "--format",
        "dta",
        "--output",
        str(out),
        "--codebook",
        str(tmp_path / "cb.csv"),
        "--user",
        researcher.username,
    )
    data, _ = pyreadstat.read_dta(str(out))
    assert len(data) == 7 and "linkage_key" not in data.columns
    assert "child_foster_care_days" in (tmp_path / "cb.csv").read_text()
    outsider = make_user(Role.RESEARCHER)
    with pytest.raises(CommandError):
        call_command(
            "export_panel",
            "--study-id",
            recorded.study_id,
            "--output",
            str(out),
            "--user",
            outsider.username,
        )


def test_spss_declares_missing_codes_as_user_missing(recorded, tmp_path):
    payload, _ = export_bytes(recorded.study, Family.objects.filter(study=recorded.study), "sav")
    path = tmp_path / "x.sav"
    path.write_bytes(payload)
    data, meta = pyreadstat.read_sav(str(path))  # user-missing read as missing
    t0 = data.loc[data["wave"] == 0].iloc[0]
    assert pd.isna(t0["ww"]) and t0["bijstand"] == 1
    raw, meta = pyreadstat.read_sav(str(path), user_missing=True)
    t0 = raw.loc[raw["wave"] == 0].iloc[0]
    assert t0["ww"] == -2 and meta.variable_value_labels["ww"][-2.0] == "refused"
    assert meta.missing_ranges["ww"] == [{"lo": -4.0, "hi": -1.0}]


def test_stata_gets_the_reasons_as_extended_missing_values(recorded, tmp_path):
    payload, _ = export_bytes(recorded.study, Family.objects.filter(study=recorded.study), "dta")
    path = tmp_path / "x.dta"
    path.write_bytes(payload)
    data, _ = pyreadstat.read_dta(str(path))  # extended missing read as missing
    t0 = data.loc[data["wave"] == 0].iloc[0]
    assert pd.isna(t0["ww"]) and t0["bijstand"] == 1
    raw, meta = pyreadstat.read_dta(str(path), user_missing=True)
    t0 = raw.loc[raw["wave"] == 0].iloc[0]
    assert t0["ww"] == "b" and meta.variable_value_labels["ww"]["b"] == "refused"
