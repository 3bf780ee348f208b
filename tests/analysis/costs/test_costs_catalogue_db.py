"""The seeded catalogue and CPI series, versioned revisions and the selectors."""

import csv
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from django.core.exceptions import ValidationError

from analysis.costs import engine, scenarios, selectors, services
from analysis.costs.models import CatalogueFrozenError, CpiYear, PriceCatalogue, PriceItem
from analysis.costs.pricing import CATALOGUE_2014_CSV, CPI_CSV, MissingCpiYearError

pytestmark = pytest.mark.django_db

INDICATORS_CSV = Path(__file__).resolve().parents[3] / "study" / "data" / "indicators.csv"


def csv_rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_seeded_2014_catalogue_reproduces_every_2014_price_of_the_csv_to_the_cent():
    catalogue = PriceCatalogue.objects.get(version=1)
    assert catalogue.published and catalogue.base_year == 2014
    stored = {item.code: item for item in catalogue.items.all()}
    frame = selectors.catalogue_frame(1, 2014).set_index("code")
    rows = csv_rows(CATALOGUE_2014_CSV)
    assert set(stored) == {row["code"] for row in rows}
    for row in rows:
        expected = Decimal(row["price_2014_eur"]) if row["price_2014_eur"] else None
        assert stored[row["code"]].price_base_year == expected, row["code"]
        if expected is None:
            assert pd.isna(frame.loc[row["code"], "price"])
        else:
            assert Decimal(f"{frame.loc[row['code'], 'price']:.2f}") == expected, row["code"]


def test_seeded_cpi_series_is_the_csv():
    assert selectors.cpi_series() == {
        int(row["year"]): float(row["cpi_annual_change_pct"]) for row in csv_rows(CPI_CSV)
    }


def test_seeded_scenarios_are_the_reports():
    assert selectors.scenario_list() == list(scenarios.REPORT_SCENARIOS)


def test_published_catalogue_items_cannot_be_saved_or_deleted():
    item = PriceItem.objects.get(catalogue__version=1, code="ww_benefit")
    item.price_at_reference_year = Decimal("1.00")
    with pytest.raises(CatalogueFrozenError):
        item.save()
    with pytest.raises(CatalogueFrozenError):
        item.delete()
    item.refresh_from_db()
    assert item.price_at_reference_year == Decimal("24850.00")


def test_changing_a_price_creates_a_new_version_and_leaves_the_old_one(data_manager):
    old = selectors.catalogue_current()
    new = services.price_catalogue_revise(
        catalogue=old,
        changes={"ww_benefit": {"price_at_reference_year": "25000.00"}},
        user=data_manager,
        note="WW 2015 amount corrected",
    )
    assert (new.version, new.parent, new.created_by, new.published) == (2, old, data_manager, True)
    assert selectors.catalogue_current() == new
    revised = new.items.get(code="ww_benefit")
    assert revised.price_base_year == Decimal("24850.00")  # 25,000 x 0.994
    assert revised.index_factor_to_base == Decimal("0.994")
    assert old.items.get(code="ww_benefit").price_base_year == Decimal("24700.90")
    assert new.items.count() == old.items.count() == 32


def test_an_old_result_keeps_its_catalogue_version(data_manager):
    indicators = pd.read_csv(INDICATORS_CSV, keep_default_na=False)
    volumes = pd.DataFrame(
        {
            "family": ["F1", "F1"],
            "period": [2014, 2014],
            "indicator": ["ww", "bijstand"],
            "value": [1.0, 1.0],
        }
    )
    cpi = selectors.cpi_series()

    def total(version):
        costs = engine.family_costs(
            volumes,
            selectors.catalogue_frame(version, 2014),
            indicators,
            price_year=2014,
            cpi=cpi,
            required_indicators=[],
        )
        return engine.family_totals(costs).iloc[0]

    before = total(1)
    services.price_catalogue_revise(
        catalogue=PriceCatalogue.objects.get(version=1),
        changes={"ww_admin": {"price_at_reference_year": 3000}},
        user=data_manager,
        note="",
    )
    after_v1, v2 = total(1), total(2)
    assert (before["catalogue_version"], before["total_eur"]) == (1, 45_926.79)
    assert (after_v1["catalogue_version"], after_v1["total_eur"]) == (1, 45_926.79)
    # 45,926.79 - 2,256.00 + 3,000.00
    assert (v2["catalogue_version"], v2["total_eur"]) == (2, 46_670.79)


def test_new_reference_year_without_factor_is_indexed_with_cpi(data_manager):
    new = services.price_catalogue_revise(
        catalogue=selectors.catalogue_current(),
        changes={"ww_admin": {"reference_year": 2012, "price_at_reference_year": "1000"}},
        user=data_manager,
    )
    item = new.items.get(code="ww_admin")
    assert item.index_factor_to_base is None
    assert item.price_base_year == Decimal("1035.25")  # 1000 x 1.025 x 1.010


def test_revision_can_add_and_remove_items(data_manager):
    new = services.price_catalogue_revise(
        catalogue=selectors.catalogue_current(),
        changes={
            "guardianship": None,
            "debt_help": {
                "domain": "socio_economic",
                "description": "Debt help",
                "unit": "per_household_year",
                "reference_year": 2014,
                "price_at_reference_year": "1500",
            },
        },
        user=data_manager,
    )
    codes = set(new.items.values_list("code", flat=True))
    assert "debt_help" in codes and "guardianship" not in codes
    assert new.items.get(code="debt_help").price_base_year == Decimal("1500.00")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({}, "No changes"),
        ({"ww_benefit": {"price_base_year": 1}}, "price_base_year"),
        (
            {"ww_benefit": {"price_at_reference_year": "abc"}},
            "ww_benefit, field price_at_reference_year",
        ),
        ({"ww_benefit": {"unit": "per_week"}}, "unknown unit per_week"),
        ({"ww_benefit": {"price_at_reference_year": "24850.00"}}, "as it was"),
        ({"new_item": {"domain": "child"}}, "missing field"),
        ({"ww_benefit": {"reference_year": 2030}}, "2026"),
    ],
)
def test_bad_revisions_are_refused_with_a_clear_message(data_manager, changes, message):
    with pytest.raises(ValidationError, match=message):
        services.price_catalogue_revise(
            catalogue=selectors.catalogue_current(), changes=changes, user=data_manager
        )
    assert PriceCatalogue.objects.count() == 1


def test_missing_cpi_year_is_an_error_for_a_later_price_year():
    with pytest.raises(MissingCpiYearError, match="2026"):
        selectors.catalogue_frame(1, 2026)


def test_new_cpi_year_extends_the_price_years():
    services.cpi_year_set(year=2026, annual_change_pct="3.3")
    frame = selectors.catalogue_frame(None, 2026).set_index("code")
    # 2024 price 32,358.49 x 1.033 (2025) x 1.033 (2026) after the factor chain:
    # 24,700.90 x 1.3100125 x 1.033 x 1.033
    assert frame.loc["ww_benefit", "price"] == 34_529.39
    assert CpiYear.objects.get(year=2026).annual_change_pct == Decimal("3.30")


def test_unknown_catalogue_version_is_reported():
    with pytest.raises(selectors.CatalogueNotFound, match="version 9"):
        selectors.catalogue_get(version=9)


def test_published_catalogue_itself_cannot_change():
    catalogue = PriceCatalogue.objects.get(version=1)
    catalogue.base_year = 2015
    with pytest.raises(CatalogueFrozenError):
        catalogue.save()
    catalogue.refresh_from_db()
    assert catalogue.base_year == 2014


def test_costs_for_stored_catalogue_and_scenarios():
    indicators = pd.read_csv(INDICATORS_CSV, keep_default_na=False)
    volumes = pd.DataFrame(
        {
            "family": ["F1"],
            "period": ["T0"],
            "indicator": ["child_youth_care_ambulant"],
            "value": [2.0],
        }
    )
    costs = selectors.family_costs_for(volumes, indicators, price_year=2014, required_indicators=[])
    assert costs["euros"].tolist() == [5_736.80]  # 2 x 2,868.40
    frame = selectors.cost_range_for(volumes, indicators, price_year=2014, required_indicators=[])
    row = frame.iloc[0]
    # 2 / 1.3 x 2,868.40 = 4,412.92
    assert (row["point"], row["low"], row["high"]) == (5_736.80, 4_412.92, 5_736.80)
    assert row["catalogue_version"] == 1
