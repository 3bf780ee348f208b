"""The monitor's code lists and thresholds come from the catalogue's group column, as the study's
catalogue reader sees it."""

import csv

from analysis.monitor.catalogue import CATALOGUE_PATH, load_catalogue
from analysis.monitor.report_columns import REPORT_COLUMNS, column_codes, indicator_columns
from study.catalogue import codes_in_group


def test_police_columns_are_the_catalogues_police_group():
    catalogue = load_catalogue()
    adult = column_codes(catalogue, "adult_police_suspect")
    assert adult == codes_in_group("police", level="adult")
    assert len(adult) == 10 and adult[0] == "adult_police_murder"
    assert column_codes(catalogue, "child_police_suspect") == codes_in_group(
        "police", level="child"
    )


def test_every_report_column_counts_codes_of_the_catalogue():
    catalogue = load_catalogue()
    for name in REPORT_COLUMNS:
        assert column_codes(catalogue, name), name


def extended_catalogue(tmp_path, *rows):
    with CATALOGUE_PATH.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields, existing = reader.fieldnames, list(reader)
    template = next(r for r in existing if r["code"] == "adult_police_other")
    path = tmp_path / "indicators.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(existing)
        writer.writerows({**template, **row} for row in rows)
    return load_catalogue(path)


def test_an_indicator_added_to_the_police_group_joins_the_police_column(tmp_path):
    catalogue = extended_catalogue(tmp_path, {"code": "adult_police_cybercrime"})
    columns = indicator_columns(catalogue)
    assert "adult_police_cybercrime" in columns["adult_police_suspect"][1]
    assert "adult_police_cybercrime" not in columns  # no column of its own


def test_an_indicator_of_its_own_group_gets_its_own_column(tmp_path):
    catalogue = extended_catalogue(tmp_path, {"code": "adult_gambling_care", "group": "gambling"})
    assert indicator_columns(catalogue)["adult_gambling_care"] == (2, ["adult_gambling_care"])


def test_the_problem_threshold_follows_the_group(tmp_path):
    catalogue = extended_catalogue(
        tmp_path, {"code": "moves_abroad", "level": "household", "group": "mobility"}
    )
    assert catalogue.get("moves").problem_threshold == 2
    assert catalogue.get("moves_abroad").problem_threshold == 2
    assert catalogue.get("bijstand").problem_threshold == 1
