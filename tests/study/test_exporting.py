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


# --- exports that open cleanly on a Dutch desktop (issue 20) -----------------------------------


@pytest.fixture
def recorded_fractions(recorded, researcher):
    """A euro amount with cents and a count, so decimal commas are exercised."""
    indicator_values_record(
        wave=recorded.waves.get(index=1),
        values={"bijstand": 2, "child_youth_care_residential_days": 31},
        user=researcher,
    )
    wave_survey_record(
        wave=recorded.waves.get(index=1), data={"qol_score": "459.14"}, user=researcher
    )
    return recorded


def _same_values(read: pd.DataFrame, panel: pd.DataFrame) -> None:
    assert list(read.columns) == list(panel.columns)
    for column in panel.columns:
        if pd.api.types.is_numeric_dtype(panel[column]):
            left = pd.to_numeric(read[column]).astype(float).to_numpy()
            right = panel[column].astype(float).to_numpy()
            assert ((left == right) | (pd.isna(left) & pd.isna(right))).all(), column
        else:
            values = read[column].astype(object)
            left = values.where(values.notna(), "").astype(str).tolist()
            assert left == panel[column].fillna("").astype(str).tolist(), column


def test_dutch_csv_reads_back_with_semicolons_and_decimal_commas(recorded_fractions):
    families = Family.objects.filter(study=recorded_fractions.study)
    payload, rows = export_bytes(recorded_fractions.study, families, "csv-nl")
    assert payload.startswith("\ufeff".encode()) and rows == 7
    text = payload.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("pseudonym;arm;wijk;")
    assert "459,14" in text and "459.14" not in text
    read = pd.read_csv(io.BytesIO(payload), sep=";", decimal=",", encoding="utf-8-sig")
    _same_values(read, panel_frame(recorded_fractions.study, families))
    # The international CSV stays as it was: commas, decimal points, no byte-order mark.
    international, _ = export_bytes(recorded_fractions.study, families, "csv")
    assert not international.startswith("\ufeff".encode()) and b"459.14" in international
    _same_values(
        pd.read_csv(io.BytesIO(international)), panel_frame(recorded_fractions.study, families)
    )


def test_dutch_csv_download_and_import_template(client, researcher, data_manager, recorded):
    client.force_login(researcher)
    response = client.get(f"/studies/{recorded.study_id}/export/csv-nl/")
    assert response.status_code == 200
    assert 'filename="panel-study' in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith("\ufeff".encode())
    client.force_login(data_manager)
    template = client.get(f"/studies/{recorded.study_id}/imports/template.csv?csv=nl")
    assert template.status_code == 200
    body = template.content.decode("utf-8")
    assert body.startswith("\ufeffpseudonym;year;bijstand;")
    plain = client.get(f"/studies/{recorded.study_id}/imports/template.csv").content.decode()
    assert plain.startswith("pseudonym,year,bijstand,")
    book = client.get(f"/studies/{recorded.study_id}/codebook/?csv=nl").content
    read = pd.read_csv(io.BytesIO(book), sep=";", encoding="utf-8-sig")
    assert "stata_name" in read.columns


def test_codebook_lists_the_stata_name_beside_each_variable(study):
    book = codebook_frame(study).set_index("variable")
    assert book.loc["bijstand", "stata_name"] == "bijstand"
    long = [v for v in book.index if len(v) > 32]
    assert long, "the catalogue has names Stata must shorten"
    for name in long:
        assert len(book.loc[name, "stata_name"]) <= 32
    assert book["stata_name"].is_unique


def test_spss_measures_formats_and_labelled_status(recorded_fractions, tmp_path):
    data, meta = _readback(recorded_fractions.study, "sav", tmp_path)
    measure = meta.variable_measure
    assert measure["arm"] == "nominal" and measure["status"] == "nominal"
    assert measure["wave"] == "ordinal" and measure["bijstand"] == "scale"
    formats = meta.original_variable_types
    assert formats["year"] == "F4.0" and formats["intake_year"] == "F4.0"
    assert formats["bijstand"] == "F2.0"  # catalogue maximum 10
    assert formats["child_youth_care_residential_days"] == "F3.0"  # maximum 366
    assert formats["qol_score"] == "F8.2"
    assert meta.variable_value_labels["status"][1.0] in {"actief", "active"}
    assert data["status"].dtype.kind == "f" and set(data["status"]) == {1.0}
    panel = panel_frame(recorded_fractions.study, Family.objects.filter(pk=recorded_fractions.pk))
    assert data.loc[data["wave"] == 1, "qol_score"].iloc[0] == pytest.approx(459.14)
    assert data["year"].tolist() == panel["year"].astype(float).tolist()


def test_stata_shares_one_value_label_set_for_the_missing_reasons(recorded, tmp_path):
    data, meta = _readback(recorded.study, "dta", tmp_path)
    reasons = [v for v, s in meta.variable_to_label.items() if s == "missing_reason"]
    assert len(reasons) >= 30  # every indicator column points at the one set
    assert set(meta.value_labels) == {"missing_reason", *meta.variable_to_label.values()}
    assert len(meta.value_labels) == 3  # arm, status and the missing reasons
    t0 = data.loc[data["wave"] == 0].iloc[0]
    assert t0["bijstand"] == 1 and pd.isna(t0["ww"])
    # An independent reader agrees (pandas' own Stata parser).
    path = tmp_path / "x.dta"
    frame = pd.read_stata(path, convert_categoricals=False)
    assert len(frame) == len(data) and list(frame.columns) == list(data.columns)
    with pd.io.stata.StataReader(path) as reader:
        reader.read()
        assert len(reader.value_labels()) == 3
