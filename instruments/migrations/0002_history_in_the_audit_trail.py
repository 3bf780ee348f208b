"""The instruments' history tables join the sealed audit trail (study/audit.py): guarded and
counted like the study's history tables (study/audit_guards.py), the rows already written
counted once so that `verify_audit` accounts for them."""

from django.db import migrations


def forwards(apps, schema_editor):
    from study.audit_guards import guard_and_count, history_tables

    guard_and_count(schema_editor.connection, history_tables(apps.get_app_config("instruments")))


class Migration(migrations.Migration):
    dependencies = [
        ("instruments", "0001_initial"),
        ("study", "0013_audit_counters_and_guards"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
