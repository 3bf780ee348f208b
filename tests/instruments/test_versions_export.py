"""Mid-study versions: an administration under version 1 and one under version 2 export side by
side with a `version` column and a codebook that lists per variable the versions it exists in
and what changed; the wave survey's questions come along as one-item instruments."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from instruments import exporting
from instruments.definition import read_definition_file
from instruments.services import administration_record, instrument_version_add
from study.roles import Role
from study.services.surveys import wave_survey_record
from tests.factories import make_family, make_member, make_study

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"


@pytest.fixture
def two_versions():
    study = make_study()
    researcher = make_member(study, Role.RESEARCHER)
    v1, _ = instrument_version_add(
        definition=read_definition_file(DATA / "zrm_fixture.v1.yaml"), study=study
    )
    v2, _ = instrument_version_add(
        definition=read_definition_file(DATA / "zrm_fixture.v2.yaml"), study=study
    )
    first, second = make_family(study, user=researcher), make_family(study, user=researcher)
    administration_record(
        wave=first.waves.get(index=0),
        instrument_version=v1,
        answers={f"domain_{i:02d}": 2 for i in range(1, 12)} | {"domain_03": None},
        missing_codes={"domain_03": "refused"},
    )
    administration_record(
        wave=second.waves.get(index=0),
        instrument_version=v2,
        answers={f"domain_{i:02d}": 4 for i in range(1, 14)} | {"parenting": 1},
    )
    wave_survey_record(wave=second.waves.get(index=0), data={"satisfaction": 8}, user=researcher)
    return study, first, second


def test_versions_export_side_by_side_with_a_version_column(two_versions):
    study, first, second = two_versions
    frame, _book = exporting.export_frames(study, study.families.all())
    zrm = frame[frame["instrument"] == "zrm_fixture"].set_index("pseudonym")
    assert zrm.loc[first.pseudonym, "version"] == 1 and zrm.loc[second.pseudonym, "version"] == 2
    assert zrm.loc[first.pseudonym, "zrm_fixture_domain_01"] == 2
    assert pd.isna(zrm.loc[first.pseudonym, "zrm_fixture_domain_12"])  # not in v1
    assert zrm.loc[second.pseudonym, "zrm_fixture_domain_12"] == 4
    assert zrm.loc[first.pseudonym, "zrm_fixture_domain_03_missing"] == "refused"
    assert zrm.loc[first.pseudonym, "zrm_fixture_score_acute_share"] == 1.0
    assert zrm.loc[second.pseudonym, "zrm_fixture_score_parenting"] == 1.0
    survey = frame[frame["instrument"] == "survey_satisfaction"]
    assert list(survey["origin"]) == ["wave_survey"]
    assert list(survey["survey_satisfaction_score_satisfaction"]) == [8.0]


def test_the_codebook_lists_per_variable_the_versions_and_what_changed(two_versions):
    study, *_ = two_versions
    _frame, book = exporting.export_frames(study, study.families.all())
    rows = book.set_index("variable")
    assert rows.loc["zrm_fixture_domain_01", "versions"] == "1, 2"
    assert rows.loc["zrm_fixture_domain_12", "versions"] == "2"
    assert rows.loc["zrm_fixture_domain_12", "changes"] == "new in v2"
    assert rows.loc["zrm_fixture_parenting", "versions"] == "2"
    assert rows.loc["zrm_fixture_score_mean", "versions"] == "1, 2"
    assert rows.loc["zrm_fixture_score_mean", "comparable"] == ""  # 2017 is not comparable
    assert rows.loc["zrm_fixture_domain_01", "values"].startswith("1=Acute")


def test_spss_carries_item_value_labels_and_missing_reasons(two_versions, tmp_path):
    study, *_ = two_versions
    path = tmp_path / "x.sav"
    path.write_bytes(exporting.export_bytes(study, study.families.all(), "sav"))
    data, meta = pyreadstat.read_sav(str(path), user_missing=True)
    labels = meta.variable_value_labels["zrm_fixture_domain_03"]
    assert labels[1.0].startswith("Acute") and labels[-2.0] == "refused"
    assert -2.0 in set(data["zrm_fixture_domain_03"].dropna())
    assert "version" in data.columns
    dta = tmp_path / "x.dta"
    dta.write_bytes(exporting.export_bytes(study, study.families.all(), "dta"))
    stata, _meta = pyreadstat.read_dta(str(dta))
    assert set(stata["version"].dropna()) == {1.0, 2.0}


def test_csv_and_excel_hold_the_same_rows(two_versions):
    study, *_ = two_versions
    csv = pd.read_csv(io.BytesIO(exporting.export_bytes(study, study.families.all(), "csv")))
    book = pd.read_excel(
        io.BytesIO(exporting.export_bytes(study, study.families.all(), "xlsx")), sheet_name=None
    )
    assert len(csv) == len(book["instruments"]) == 3
    assert set(book) == {"instruments", "codebook"}
