"""Seed the report's 2014 price catalogue (version 1), the CPI series and its scenarios.

Self-contained on purpose (reads the CSV files with the csv module; units and scenarios
spelled out here) so later changes to the app's code cannot change what this migration did.
"""

import csv
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.db import migrations

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

UNITS = {
    "per benefit per year": "per_benefit_year",
    "per offence": "per_offence",
    "per trajectory": "per_trajectory",
    "per trajectory per year": "per_trajectory_year",
    "per day": "per_day",
    "per person per year": "per_person_year",
    "per family per day": "per_family_day",
    "per household per year": "per_household_year",
    "per household below low-income line per year": "per_household_year",
    "actual claimed euros": "euros_claimed",
}

CRIME_ITEMS = [
    "crime_murder",
    "crime_sexual",
    "crime_property",
    "crime_assault",
    "crime_threat",
    "crime_vandalism_public_order",
    "crime_traffic",
    "crime_economic",
    "crime_drugs",
    "crime_other",
]
CRIME_FACTOR = 1811180.67 / 1001975.62

SCENARIOS = [
    (
        "ww_minimum_wage",
        "WW on minimum wage",
        "WW benefit at 70% of the minimum wage: 13,624 (2015) instead of 24,850.",
        {"ww_benefit": 13624.00},
        {},
        {},
    ),
    (
        "disability_alternative",
        "Alternative disability benefit",
        "Sickness/disability benefit 14,440.80 instead of 13,295.",
        {"disability_benefit": 14440.80},
        {},
        {},
    ),
    (
        "other_benefit_alternative",
        "Alternative other provision",
        "Other social provision 11,951.12 instead of 14,900.",
        {"other_benefit": 11951.12},
        {},
        {},
    ),
    (
        "crime_with_suffering",
        "Crime including suffering",
        "Crime items scaled by 1,811,180.67 / 1,001,975.62 (production loss and suffering).",
        {},
        dict.fromkeys(CRIME_ITEMS, CRIME_FACTOR),
        {},
    ),
    (
        "youth_care_1_3_trajectories",
        "1.3 youth-care trajectories per person",
        "Ambulant and day-treatment volumes divided by 1.3.",
        {},
        {},
        {"youth_care_ambulant": 1.3, "youth_care_day_treatment": 1.3},
    ),
]


def _decimal(text):
    text = (text or "").strip()
    return Decimal(text) if text else None


def _base_price(row):
    """Price at the reference year x the report's factor, rounded half up to cents."""
    price = _decimal(row["price_at_reference_year_eur"])
    if price is None:
        return None
    factor = _decimal(row["index_factor_to_2014"]) or Decimal(1)
    return (price * factor).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def seed(apps, schema_editor):
    PriceCatalogue = apps.get_model("costs", "PriceCatalogue")
    PriceItem = apps.get_model("costs", "PriceItem")
    CpiYear = apps.get_model("costs", "CpiYear")
    SensitivityScenario = apps.get_model("costs", "SensitivityScenario")

    with open(DATA_DIR / "cpi_nl_annual_change.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            CpiYear.objects.update_or_create(
                year=int(row["year"]),
                defaults={"annual_change_pct": Decimal(row["cpi_annual_change_pct"]), "source": "CBS"},
            )

    catalogue = PriceCatalogue.objects.create(
        version=1,
        name="NJi Almelo 2014",
        base_year=2014,
        note="The baseline report's catalogue (cost_catalogue_2014.csv).",
        published=False,
    )
    with open(DATA_DIR / "cost_catalogue_2014.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            PriceItem.objects.create(
                catalogue=catalogue,
                code=row["code"].strip(),
                domain=row["domain"].strip(),
                description=row["description"].strip(),
                unit=UNITS[row["unit"].strip()],
                reference_year=int(row["reference_year"]),
                price_at_reference_year=_decimal(row["price_at_reference_year_eur"]),
                index_factor_to_base=_decimal(row["index_factor_to_2014"]),
                price_base_year=_base_price(row),
                source_note=row["source_note"].strip(),
            )
    catalogue.published = True
    catalogue.save(update_fields=["published"])

    for position, (code, name, description, overrides, factors, divisors) in enumerate(SCENARIOS):
        SensitivityScenario.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "price_overrides": overrides,
                "price_factors": factors,
                "volume_divisors": divisors,
                "position": position,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("costs", "PriceItem").objects.filter(catalogue__version=1).delete()
    apps.get_model("costs", "PriceCatalogue").objects.filter(version=1).delete()
    apps.get_model("costs", "CpiYear").objects.all().delete()
    apps.get_model("costs", "SensitivityScenario").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("costs", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
