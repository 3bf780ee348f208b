"""Storing monitor reports: cost per MPG from the cost model (or a named default), the trend,
the command's --save, and nothing stored from a broken extract."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from analysis.costs.models import PriceCatalogue
from analysis.monitor.costing import REASON_ENGINE, SOURCE_DEFAULT, SOURCE_ENGINE, cost_note
from analysis.monitor.models import MonitorReport
from analysis.monitor.pipeline import trend_years
from analysis.monitor.trend import DEFAULT_COST_PER_MPG_EUR

from .helpers_monitor import random_extract
from .helpers_monitor import reports_saved as monitor_reports_save

pytestmark = pytest.mark.django_db


def test_cost_per_mpg_comes_from_the_cost_model(almelo_csv):
    (report,) = monitor_reports_save(path=almelo_csv, year=2014)
    cost = report.cost
    assert cost["source"] == SOURCE_ENGINE
    assert cost["catalogue_version"] == 1 and cost["price_year"] == 2014
    assert cost["families"] == report.summary["mpg"] >= 10
    assert cost["cost_per_mpg_eur"] > 0
    assert cost["cost_per_mpg_eur"] != DEFAULT_COST_PER_MPG_EUR
    assert report.summary["cost_per_mpg_eur"] == cost["cost_per_mpg_eur"]
    assert report.summary["mpg_total_cost_eur"] == pytest.approx(
        report.summary["mpg"] * cost["cost_per_mpg_eur"]
    )


def test_without_a_published_price_catalogue_the_default_is_named(almelo_csv):
    PriceCatalogue.objects.update(published=False)
    (report,) = monitor_reports_save(path=almelo_csv, year=2014)
    assert report.cost["source"] == SOURCE_DEFAULT
    assert report.cost["cost_per_mpg_eur"] == DEFAULT_COST_PER_MPG_EUR
    assert "no published price catalogue" in report.cost["note"]


def test_fewer_than_ten_mpg_households_get_the_default(tmp_path):
    path = tmp_path / "small.csv"
    frame = random_extract(11, households=60)
    frame.to_csv(path, index=False)
    reports = monitor_reports_save(path=path, year=2014)
    small = [r for r in reports if isinstance(r.summary["mpg"], str) or r.summary["mpg"] < 10]
    assert small
    for report in small:
        assert report.cost["source"] == SOURCE_DEFAULT
        assert "fewer than 10 MPG households" in report.cost["note"]


def test_trend_is_stored_when_the_extract_has_several_reporting_years(tmp_path):
    path = tmp_path / "extract.csv"
    random_extract(12, households=2000).to_csv(path, index=False)  # years 2011-2014
    assert trend_years(path, 2014) == [2013, 2014]
    reports = {r.municipality: r for r in monitor_reports_save(path=path, year=2014)}
    trend = reports["Almelo"].trend
    assert [row["year"] for row in trend["per_year"]] == [2013, 2014]
    assert trend["per_year"][-1]["mpg"] == reports["Almelo"].summary["mpg"]
    assert "mpg_trend" in trend and "cost_trend" in trend
    cost = reports["Almelo"].cost["cost_per_mpg_eur"]
    assert trend["per_year"][0]["total_cost"] == pytest.approx(trend["per_year"][0]["mpg"] * cost)


def test_broken_extract_stores_nothing(tmp_path):
    frame = random_extract(13, households=200)
    frame.loc[frame.index[frame["year"] == 2014][0], "ww"] = -3
    path = tmp_path / "broken.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ValidationError, match="column 'ww'"):
        monitor_reports_save(path=path, year=2014)
    assert not MonitorReport.objects.exists()


def test_command_save_stores_one_report_per_municipality(tmp_path):
    path = tmp_path / "extract.csv"
    random_extract(14, households=500).to_csv(path, index=False)
    err = io.StringIO()
    call_command(
        "monitor",
        "--input",
        str(path),
        "--year",
        "2014",
        "--save",
        stdout=io.StringIO(),
        stderr=err,
    )
    assert MonitorReport.objects.count() == 5
    assert "Stored monitor report" in err.getvalue()
    assert not MonitorReport.objects.filter(published_at__isnull=False).exists()


def test_command_save_refuses_a_broken_extract(tmp_path):
    frame = random_extract(15, households=200)
    frame.loc[frame.index[frame["year"] == 2013][0], "low_income"] = 4
    path = tmp_path / "broken.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(CommandError, match="low_income"):
        call_command(
            "monitor", "--input", str(path), "--year", "2014", "--save", stdout=io.StringIO()
        )
    assert not MonitorReport.objects.exists()


def test_cost_reason_is_stored_and_the_note_kept_in_english(almelo_csv):
    from django.utils import translation

    with translation.override("nl"):
        (report,) = monitor_reports_save(path=almelo_csv, year=2014)
    assert report.cost["reason"] == REASON_ENGINE
    assert report.cost["note"].startswith("average cost of the municipality's MPG households")
    with translation.override("en"):
        assert cost_note(report.cost) == report.cost["note"]


def test_yearly_extracts_build_the_trend_from_stored_reports(tmp_path):
    frame = random_extract(16, households=2500)  # years 2011-2014
    first, second = tmp_path / "2013.csv", tmp_path / "2014.csv"
    frame[frame["year"] <= 2013].to_csv(first, index=False)
    frame[frame["year"] >= 2012].to_csv(second, index=False)
    assert trend_years(second, 2014) == [2014]  # this extract alone answers only 2014
    earlier = {r.municipality: r for r in monitor_reports_save(path=first, year=2013)}
    later = {r.municipality: r for r in monitor_reports_save(path=second, year=2014)}
    trend = later["Almelo"].trend
    assert trend["source"] == "extract and stored reports"
    assert [(r["year"], r["mpg"]) for r in trend["per_year"]] == [
        (2013, earlier["Almelo"].summary["mpg"]),
        (2014, later["Almelo"].summary["mpg"]),
    ]
    assert "mpg_trend" in trend and "cost_trend" in trend


def test_a_stored_year_with_a_hidden_count_hides_the_trend(tmp_path):
    MonitorReport.objects.create(
        municipality="Almelo", year=2013, summary={"mpg": "*"}, cost={"cost_per_mpg_eur": 1.0}
    )
    frame = random_extract(17, households=1500)
    path = tmp_path / "2014.csv"
    frame[frame["year"] >= 2012].to_csv(path, index=False)
    reports = {r.municipality: r for r in monitor_reports_save(path=path, year=2014)}
    assert reports["Almelo"].trend["trend"] == "*"
    assert reports["Borne"].trend is None  # nothing stored before: one year is no trend
