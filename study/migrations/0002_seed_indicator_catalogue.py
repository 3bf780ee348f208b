"""Seed the global indicator catalogue from study/data/indicators.csv."""

from django.db import migrations


def seed(apps, schema_editor):
    from study.catalogue import sync_global_indicators

    sync_global_indicators(apps.get_model("study", "Indicator"))


class Migration(migrations.Migration):
    dependencies = [("study", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
