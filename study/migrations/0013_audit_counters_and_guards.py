"""Count every row inserted into an audit table and refuse TRUNCATE of the audit tables and any
lowering of the counters (study/audit_guards.py; re-applied after every migrate)."""

from django.db import migrations

from study.audit_guards import COUNTER, audit_tables, install


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    tables = audit_tables(apps.get_app_config("study"))
    install(connection, tables)
    # Rows written before the counting trigger existed start their table's counter (shard 99).
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            (count,) = cursor.fetchone()
            if count:
                cursor.execute(
                    f'INSERT INTO {COUNTER} ("table", shard, value) VALUES (%s, 99, %s)',
                    [table, count],
                )


class Migration(migrations.Migration):
    dependencies = [("study", "0012_audit_keyed_seals")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
