"""The report publication events join the sealed audit trail (study/audit.py): append-only in
the database too (PostgreSQL), counted like the access log, the events already written counted
once so that `verify_audit` accounts for them."""

from django.db import migrations


def forwards(apps, schema_editor):
    from study.audit_guards import guard_and_count

    table = apps.get_model("analysis", "ReportPublicationEvent")._meta.db_table
    guard_and_count(schema_editor.connection, [table])


class Migration(migrations.Migration):
    dependencies = [
        ("analysis", "0006_report_pdf_error"),
        ("study", "0013_audit_counters_and_guards"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
