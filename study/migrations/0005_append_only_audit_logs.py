"""On PostgreSQL, make the audit history and the access log append-only with a trigger."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION tracker_refuse_audit_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit log % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
"""


def audit_tables(apps):
    config = apps.get_app_config("study")
    tables = [m._meta.db_table for m in config.get_models() if m.__name__.startswith("Historical")]
    return sorted(tables) + ["study_accessevent", "study_auditseal"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
    for table in audit_tables(apps):
        schema_editor.execute(
            f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON "{table}" '
            "FOR EACH ROW EXECUTE FUNCTION tracker_refuse_audit_change()",
            params=None,
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in audit_tables(apps):
        schema_editor.execute(f'DROP TRIGGER IF EXISTS {table}_append_only ON "{table}"', params=None)


class Migration(migrations.Migration):
    dependencies = [("study", "0004_audit_chain")]
    operations = [migrations.RunPython(forwards, backwards)]
