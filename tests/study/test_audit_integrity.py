"""Tamper evidence: the access-log hash chain, history seals, append-only tables on PostgreSQL."""

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from study.access_log import access_event_record
from study.audit import audit_seal, verify_access_log, verify_history
from study.models import AccessEvent, IndicatorValue
from study.services.values import indicator_values_record


def _tamper(sql: str, params: list) -> None:
    """Alter a row behind the application's back (as a hostile DBA would)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")  # bypass triggers
        cursor.execute(sql, params)


def test_access_log_chain_verifies_and_detects_an_altered_entry(family, researcher):
    for _ in range(3):
        access_event_record(user=researcher, action="family.view", family=family)
    assert verify_access_log() == []
    event = AccessEvent.objects.order_by("id")[1]
    _tamper("UPDATE study_accessevent SET action = %s WHERE id = %s", ["nothing", event.pk])
    problems = verify_access_log()
    assert [p.where for p in problems] == [f"access event #{event.pk}"]


def test_sealed_history_detects_an_altered_row(family, researcher):
    wave = family.waves.get(index=0)
    indicator_values_record(wave=wave, values={"bijstand": 1, "ww": 0}, user=researcher)
    assert audit_seal() > 0
    assert verify_history() == []
    record = IndicatorValue.history.filter(wave=wave).order_by("history_id").first()
    _tamper(
        "UPDATE study_historicalindicatorvalue SET value = %s WHERE history_id = %s",
        [0, record.history_id],
    )
    problems = verify_history()
    assert len(problems) == 1 and "altered" in problems[0].detail
    with pytest.raises(CommandError, match="audit verification failed"):
        call_command("verify_audit")


def test_sealing_twice_seals_only_new_rows(family, researcher):
    audit_seal()
    assert audit_seal() == 0
    indicator_values_record(wave=family.waves.get(index=1), values={"ww": 1}, user=researcher)
    assert audit_seal() == 1
    assert verify_history() == []


def test_verify_audit_command_passes_on_an_intact_log(family, researcher, capsys):
    access_event_record(user=researcher, action="family.view", family=family)
    call_command("verify_audit", seal_first=True)
    assert "audit verified" in capsys.readouterr().out


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="append-only triggers exist on PostgreSQL only"
)
def test_postgresql_refuses_update_and_delete_of_audit_rows(family, researcher):
    access_event_record(user=researcher, action="family.view", family=family)
    for sql in ("UPDATE study_accessevent SET action = 'x'", "DELETE FROM study_historicalfamily"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
