"""The database's side of the audit trail: triggers on every audit table (the history tables
of the study and of the apps in AUDITED_HISTORY_APPS, the append-only logs of
APPEND_ONLY_MODELS, the access log and the seals).

- every inserted row is counted in `study_auditcounter`, in the inserting transaction, by the
  database (PostgreSQL: a statement-level SECURITY DEFINER trigger spread over 16 shards, so
  reads do not queue behind one counter row; SQLite: a row trigger);
- PostgreSQL refuses UPDATE and DELETE of audit rows (migration 0005's function), TRUNCATE of the
  audit tables and the counters, and lowering or deleting a counter.

`install` is idempotent: migration 0013 runs it, and so does every `migrate` (post_migrate), so
a history table added by a later migration is guarded too. The test database's flush (TRUNCATE)
is allowed only to sessions started with `-c tracker.audit_truncate=allow`
(tracker/test_settings.py); a role that may TRUNCATE and set that owns the tables anyway, which
is why the README's set-up gives the app a role that does not own them.
"""

from __future__ import annotations

COUNTER = "study_auditcounter"

PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION tracker_refuse_audit_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit log % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION tracker_count_audit_rows() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO {COUNTER} ("table", shard, value)
    SELECT TG_TABLE_NAME, pg_backend_pid() % 16, count(*) FROM new_rows HAVING count(*) > 0
    ON CONFLICT ("table", shard) DO UPDATE SET value = {COUNTER}.value + EXCLUDED.value;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION tracker_refuse_audit_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('tracker.audit_truncate', true), '') = 'allow' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit log % is append-only: TRUNCATE refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE OR REPLACE FUNCTION tracker_counter_only_grows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.value < OLD.value OR NEW."table" <> OLD."table"
            OR NEW.shard <> OLD.shard THEN
        RAISE EXCEPTION 'audit counter can only grow: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
"""


#: Apps whose history tables are audit tables beside the study's (the instruments' versions and
#: administrations); their migrations install the guards on their own tables and count the rows
#: already there (instruments/0002).
AUDITED_HISTORY_APPS = ("instruments",)
#: Append-only logs of other apps, guarded and sealed like the access log: (app label, model).
APPEND_ONLY_MODELS = (("analysis", "ReportPublicationEvent"),)


def audit_tables(app_config) -> list[str]:
    """The audit tables of the study app (history tables, access log, seals), sorted."""
    tables = [
        m._meta.db_table for m in app_config.get_models() if m.__name__.startswith("Historical")
    ]
    return sorted(tables) + ["study_accessevent", "study_auditseal"]


def history_tables(app_config) -> list[str]:
    """The history tables of one app, sorted."""
    return sorted(
        m._meta.db_table for m in app_config.get_models() if m.__name__.startswith("Historical")
    )


def all_audit_tables(registry) -> list[str]:
    """Every audit table of the installation: the study's (audit_tables), the history tables of
    AUDITED_HISTORY_APPS and the tables of APPEND_ONLY_MODELS whose apps are installed."""
    tables = audit_tables(registry.get_app_config("study"))
    for label in AUDITED_HISTORY_APPS:
        if label in registry.app_configs:
            tables += history_tables(registry.get_app_config(label))
    for label, model in APPEND_ONLY_MODELS:
        if label in registry.app_configs:
            tables.append(registry.get_model(label, model)._meta.db_table)
    return tables


def _pg_statements(tables: list[str]) -> list[str]:
    statements = [PG_FUNCTIONS]
    for table in tables:
        statements += [
            f'CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON "{table}" '
            "FOR EACH ROW EXECUTE FUNCTION tracker_refuse_audit_change()",
            f'CREATE OR REPLACE TRIGGER {table}_count AFTER INSERT ON "{table}" '
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            "EXECUTE FUNCTION tracker_count_audit_rows()",
            f'CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON "{table}" '
            "FOR EACH STATEMENT EXECUTE FUNCTION tracker_refuse_audit_truncate()",
        ]
    statements += [
        f'CREATE OR REPLACE TRIGGER {COUNTER}_grows BEFORE UPDATE OR DELETE ON "{COUNTER}" '
        "FOR EACH ROW EXECUTE FUNCTION tracker_counter_only_grows()",
        f'CREATE OR REPLACE TRIGGER {COUNTER}_no_truncate BEFORE TRUNCATE ON "{COUNTER}" '
        "FOR EACH STATEMENT EXECUTE FUNCTION tracker_refuse_audit_truncate()",
    ]
    return statements


def _sqlite_statements(tables: list[str]) -> list[str]:
    return [
        f'CREATE TRIGGER IF NOT EXISTS "{table}_count" AFTER INSERT ON "{table}" BEGIN '
        f"INSERT INTO {COUNTER} (\"table\", shard, value) VALUES ('{table}', 0, 1) "
        'ON CONFLICT ("table", shard) DO UPDATE SET value = value + 1; END'
        for table in tables
    ]


def install(connection, tables: list[str]) -> None:
    existing = set(connection.introspection.table_names())
    tables = [t for t in tables if t in existing]
    if COUNTER not in existing:
        return
    if connection.vendor == "postgresql":
        statements = _pg_statements(tables)
    elif connection.vendor == "sqlite":
        statements = _sqlite_statements(tables)
    else:
        return
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install_after_migrate(sender, using="default", **kwargs) -> None:
    from django.apps import apps
    from django.db import connections

    install(connections[using], all_audit_tables(apps))


def app_role_grants(role: str) -> list[str]:
    """The app role may read and write the study's tables, but only SELECT and INSERT the audit
    tables and only SELECT the counters (the counting trigger runs as the owner). Not being the
    owner, it cannot ALTER, DISABLE TRIGGER or DROP them either."""
    from django.apps import apps
    from django.db import connection

    if not role.replace("_", "").isalnum():
        raise ValueError("a role name of letters, digits and underscores")
    tables = all_audit_tables(apps)
    quoted = ", ".join(f'"{t}"' for t in tables if t in connection.introspection.table_names())
    return [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {quoted} FROM {role}",
        f'REVOKE INSERT, UPDATE, DELETE, TRUNCATE, TRIGGER ON "{COUNTER}" FROM {role}',
    ]


def guard_and_count(connection, tables: list[str]) -> None:
    """Install the guards on tables that join the audit trail after they were created (a later
    app's migration) and count the rows written before their counting trigger existed (shard 99,
    as migration study/0013 did for the study's tables), so the unsealed tail verifies."""
    install(connection, tables)
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for table in (t for t in tables if t in existing):
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            (rows,) = cursor.fetchone()
            cursor.execute(
                f'SELECT coalesce(sum(value), 0) FROM {COUNTER} WHERE "table" = %s', [table]
            )
            (known,) = cursor.fetchone()
            if rows <= known:
                continue
            cursor.execute(
                f'UPDATE {COUNTER} SET value = value + %s WHERE "table" = %s AND shard = 99',
                [rows - known, table],
            )
            if cursor.rowcount == 0:
                cursor.execute(
                    f'INSERT INTO {COUNTER} ("table", shard, value) VALUES (%s, 99, %s)',
                    [table, rows - known],
                )
