"""CPI chaining and catalogue indexing reproduce the baseline report's numbers."""

import csv
import subprocess
import sys
from decimal import Decimal

import pandas as pd
import pytest

from analysis.costs import pricing
from analysis.costs.pricing import (
    CATALOGUE_2014_CSV,
    MissingCpiYearError,
    base_year_price,
    index_factor,
    indexed_catalogue,
    load_catalogue_csv,
    load_cpi_csv,
    round_cents,
)


@pytest.fixture(scope="module")
def cpi():
    return load_cpi_csv()


@pytest.mark.parametrize(
    ("from_year", "expected"),
    [(2005, 1.172), (2009, 1.100), (2010, 1.086), (2011, 1.061), (2013, 1.010), (2015, 0.994)],
)
def test_chained_cpi_reproduces_the_reports_factor_to_2014(cpi, from_year, expected):
    assert round(index_factor(cpi, from_year, 2014), 3) == expected


def test_one_year_forward_uses_the_target_years_change(cpi):
    # 2013 -> 2014 takes the 2014 change (1.0 %), not the 2013 change (2.5 %).
    assert index_factor(cpi, 2013, 2014) == pytest.approx(1.010)


def test_backward_indexation_divides_by_the_forward_factor(cpi):
    assert index_factor(cpi, 2015, 2014) == pytest.approx(1 / 1.006)
    assert index_factor(cpi, 2020, 2010) * index_factor(cpi, 2010, 2020) == pytest.approx(1.0)


def test_same_year_factor_is_one(cpi):
    assert index_factor(cpi, 2014, 2014) == 1.0


def test_missing_cpi_year_raises_an_error_naming_the_year():
    series = {2012: 2.5, 2014: 1.0}
    with pytest.raises(MissingCpiYearError, match="2013") as caught:
        index_factor(series, 2011, 2014)
    assert caught.value.year == 2013
    with pytest.raises(MissingCpiYearError, match="2026"):
        index_factor(load_cpi_csv(), 2014, 2026)


def test_missing_cpi_year_is_the_first_year_absent():
    with pytest.raises(MissingCpiYearError) as caught:
        index_factor({2013: 2.5, 2014: 1.0}, 2014, 2016)
    assert caught.value.year == 2015


def test_rounding_to_cents_is_half_up():
    assert round_cents(2.345) == Decimal("2.35")
    assert round_cents(255.1557) == Decimal("255.16")
    assert round_cents(Decimal("0.125")) == Decimal("0.13")


def test_csv_prices_times_the_reports_factor_give_every_2014_price_to_the_cent():
    with open(CATALOGUE_2014_CSV, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 32
    for row in rows:
        computed = base_year_price(
            price_at_reference_year=float(row["price_at_reference_year_eur"] or "nan"),
            reference_year=int(row["reference_year"]),
            base_year=2014,
            index_factor_to_base=float(row["index_factor_to_2014"]),
        )
        expected = Decimal(row["price_2014_eur"]) if row["price_2014_eur"] else None
        assert computed == expected, row["code"]


def test_indexed_catalogue_in_its_base_year_gives_the_csv_prices(cpi):
    items = load_catalogue_csv().drop(columns=["price_base_year"])
    frame = indexed_catalogue(items, base_year=2014, price_year=2014, cpi=cpi, version=1)
    expected = load_catalogue_csv()["price_base_year"]
    priced = expected.notna()
    assert (frame.loc[priced, "price"] == expected[priced]).all()
    assert frame.loc[~priced, "code"].tolist() == ["ggz_basic", "ggz_specialised"]
    assert frame.loc[~priced, "price"].isna().all()
    assert set(frame["catalogue_version"]) == {1}


def test_indexed_catalogue_in_another_year_chains_cpi_from_the_base_year_price(cpi):
    frame = indexed_catalogue(load_catalogue_csv(), base_year=2014, price_year=2024, cpi=cpi)
    ww = frame.set_index("code").loc["ww_benefit"]
    # 24,700.90 x 1.006 x 1.003 x 1.014 x 1.017 x 1.026 x 1.013 x 1.027 x 1.100 x 1.038 x 1.033
    assert ww["price"] == 32358.49
    assert ww["price_base_year"] == 24700.90


def test_item_without_an_explicit_factor_is_indexed_with_cpi(cpi):
    price = base_year_price(
        price_at_reference_year=1000.0,
        reference_year=2012,
        base_year=2014,
        index_factor_to_base=None,
        cpi=cpi,
    )
    assert price == Decimal("1035.25")  # 1000 x 1.025 (2013) x 1.010 (2014)


def test_catalogue_with_an_unknown_unit_is_refused(tmp_path):
    path = tmp_path / "bad.csv"
    text = CATALOGUE_2014_CSV.read_text(encoding="utf-8").replace("per offence", "per crime", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="line 11: column unit"):
        load_catalogue_csv(path)


def test_pure_core_does_not_import_django():
    code = (
        "import sys, analysis.costs.engine, analysis.costs.pricing, analysis.costs.scenarios; "
        "print('django' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_indexed_catalogue_refuses_frames_without_the_needed_columns(cpi):
    with pytest.raises(ValueError, match="unit"):
        indexed_catalogue(pd.DataFrame({"code": ["x"]}), base_year=2014, price_year=2014, cpi=cpi)
    assert pricing.UNITS[pricing.UNIT_FAMILY_DAY] == "per family per day"
