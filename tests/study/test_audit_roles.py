"""PostgreSQL: with the README's role split the app's role cannot rewrite the audit trail."""

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from study.access_log import access_event_record
from study.audit import verify_all

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="database roles and grants exist on PostgreSQL only"
)
ROLE = "tracker_app_test"


@pytest.fixture
def app_role(db):
    if not _exists():  # roles belong to the cluster, not the (rolled-back) test database
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE ROLE {ROLE} NOLOGIN")
    call_command("audit_grants", app_role=ROLE, execute=True)
    return ROLE


def _exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [ROLE])
        return cursor.fetchone() is not None


def _as_app(sql: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {ROLE}")
        cursor.execute(sql)


def test_the_app_role_reads_and_appends_but_cannot_rewrite_the_audit_tables(
    app_role, family, researcher
):
    access_event_record(user=researcher, action="family.view", family=family)
    # What the app does: read, and append (the counting trigger runs as the owner).
    _as_app("SELECT count(*) FROM study_accessevent")
    _as_app(
        "INSERT INTO study_accessevent (at, role, action, pseudonym, row_count, detail, "
        "credential, family_ids, scope, mac) VALUES (now(), '', 'x', '', 0, '', '', '[]', '', '')"
    )
    _as_app("UPDATE study_family SET wijk = wijk")  # ordinary tables stay writable
    attacks = [
        "UPDATE study_accessevent SET action = 'nothing'",
        "DELETE FROM study_accessevent",
        "TRUNCATE study_accessevent",
        "TRUNCATE study_historicalindicatorvalue",
        "DELETE FROM study_auditseal",
        "UPDATE study_auditcounter SET value = 0",
        "INSERT INTO study_auditcounter (\"table\", shard, value) VALUES ('x', 1, 1)",
        "ALTER TABLE study_accessevent DISABLE TRIGGER ALL",
        "ALTER TABLE study_historicalfamily DISABLE TRIGGER study_historicalfamily_append_only",
        "DROP TRIGGER study_accessevent_count ON study_accessevent",
        "SET session_replication_role = replica",
    ]
    for sql in attacks:
        with pytest.raises(DatabaseError, match="permission denied|must be owner"):
            _as_app(sql)
    problems = verify_all()
    assert len(problems) == 1, problems  # the event inserted above has no valid mac
    assert problems[0].detail == "content altered or event forged"
