"""The price_index and price_catalogue management commands."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from analysis.costs import selectors, services
from analysis.costs.pricing import CATALOGUE_2014_CSV

pytestmark = pytest.mark.django_db


def run(*args, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def test_price_index_prints_the_reports_factor_and_an_indexed_amount():
    output = run("price_index", "--from-year", "2011", "--to-year", "2014", "--amount", "14525")
    assert "factor 2011->2014: 1.061" in output  # 1.025 (2012) x 1.025 (2013) x 1.010 (2014)
    assert "(rounded 1.061)" in output
    assert "amount 14525 (2011) = 15412.93 (2014)" in output  # 14,525 x 1.06113125


def test_price_index_backwards():
    assert "(rounded 0.994)" in run("price_index", "--from-year", "2015", "--to-year", "2014")


def test_price_index_missing_cpi_year_is_a_one_line_error():
    with pytest.raises(CommandError, match="no annual change for 2026") as caught:
        run("price_index", "--from-year", "2014", "--to-year", "2026")
    assert "\n" not in str(caught.value)


def test_price_catalogue_csv_lists_every_item_with_its_2014_price():
    rows = list(
        csv.DictReader(io.StringIO(run("price_catalogue", "--price-year", "2014", "--csv")))
    )
    with open(CATALOGUE_2014_CSV, newline="", encoding="utf-8") as handle:
        expected = {row["code"]: row["price_2014_eur"] for row in csv.DictReader(handle)}
    assert {row["code"]: row["price"] for row in rows} == expected
    assert {row["catalogue_version"] for row in rows} == {"1"}


def test_price_catalogue_indexes_to_a_later_year_and_picks_a_version(data_manager):
    services.price_catalogue_revise(
        catalogue=selectors.catalogue_current(),
        changes={"ww_admin": {"price_at_reference_year": 3000}},
        user=data_manager,
    )
    rows = {
        row["code"]: row
        for row in csv.DictReader(
            io.StringIO(run("price_catalogue", "--price-year", "2015", "--version", "1", "--csv"))
        )
    }
    assert rows["ww_admin"]["price"] == "2269.54"  # 2,256.00 x 1.006 = 2,269.536
    assert rows["ww_admin"]["catalogue_version"] == "1"
    table = run("price_catalogue", "--price-year", "2014")
    assert "(v2) in 2014 prices" in table and "3000.00" in table


def test_price_catalogue_missing_cpi_year_is_a_command_error():
    with pytest.raises(CommandError, match="2026"):
        run("price_catalogue", "--price-year", "2030", "--csv")
