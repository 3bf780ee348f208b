"""The CPI's annual change for 2025, published by CBS on 13 January 2026: consumer prices were
3.3 % higher on average than in 2024. Added where the series has no 2025 yet (a data manager's
own entry is never overwritten); a fresh database gets it from cpi_nl_annual_change.csv in 0002."""

from decimal import Decimal

from django.db import migrations

YEAR, CHANGE, SOURCE = 2025, Decimal("3.3"), "CBS (13 januari 2026)"


def add(apps, schema_editor):
    CpiYear = apps.get_model("costs", "CpiYear")
    CpiYear.objects.get_or_create(
        year=YEAR, defaults={"annual_change_pct": CHANGE, "source": SOURCE}
    )


def remove(apps, schema_editor):
    CpiYear = apps.get_model("costs", "CpiYear")
    CpiYear.objects.filter(year=YEAR, annual_change_pct=CHANGE, source=SOURCE).delete()


class Migration(migrations.Migration):
    dependencies = [("costs", "0002_seed_catalogue_2014_cpi_scenarios")]

    operations = [migrations.RunPython(add, remove)]
