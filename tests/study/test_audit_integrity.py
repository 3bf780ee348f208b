"""Tamper evidence under attack: keyed macs and seals, chained seals, counted rows, append-only
tables on PostgreSQL. Each test plays one attack (as a hostile DBA with the app's database role
or more, but without AUDIT_KEY) and expects `verify_audit` to report it."""

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from study import audit
from study.access_log import access_event_record
from study.audit import audit_seal, keyed_digest, verify_access_log, verify_all, verify_history
from study.models import AccessEvent, AuditCounter, AuditSeal, IndicatorValue
from study.services.values import indicator_values_record

pg_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the append-only and TRUNCATE triggers exist on PostgreSQL only",
)


def _tamper(sql: str, params: list | None = None) -> None:
    """Change rows behind the application's back. On PostgreSQL as a superuser who switches the
    triggers off for the transaction (the strongest attacker short of holding the key)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params or [])


def _seal():
    return audit_seal(delay_seconds=0)


def _history(family, researcher, n=3):
    for index in range(n):
        indicator_values_record(
            wave=family.waves.get(index=index % 2), values={"ww": index}, user=researcher
        )


def _reads(family, researcher, n=3):
    for _ in range(n):
        access_event_record(user=researcher, action="family.view", family=family)


def _wheres(problems) -> str:
    return " | ".join(str(p) for p in problems)


def test_an_intact_trail_verifies_before_and_after_sealing(family, researcher, capsys):
    _history(family, researcher)
    _reads(family, researcher)
    assert verify_all() == []
    assert _seal() > 0
    assert verify_all() == []
    _history(family, researcher, 1)
    _reads(family, researcher, 1)
    assert verify_all() == [], "the unsealed tail matches the counters"
    call_command("verify_audit", seal_after=True)
    assert "audit verified" in capsys.readouterr().out
    assert verify_all() == []


def test_rows_inserted_are_counted_by_the_database(family, researcher):
    before = audit.counted("study_accessevent")
    _reads(family, researcher, 4)
    assert audit.counted("study_accessevent") == before + 4
    assert AuditCounter.objects.filter(table="study_accessevent").exists()


def test_an_edited_access_event_is_found_sealed_or_not(family, researcher):
    _reads(family, researcher)
    event = AccessEvent.objects.filter(action="family.view").order_by("id")[1]
    _tamper("UPDATE study_accessevent SET action = %s WHERE id = %s", ["nothing", event.pk])
    assert [p.where for p in verify_access_log()] == [f"access event #{event.pk}"]
    _tamper("UPDATE study_accessevent SET action = %s WHERE id = %s", ["family.view", event.pk])
    _seal()
    _tamper("UPDATE study_accessevent SET family_ids = %s WHERE id = %s", ["[]", event.pk])
    problems = verify_all()
    assert f"access event #{event.pk}" in _wheres(problems)
    assert "altered" in _wheres(verify_history())


def test_recomputing_an_unkeyed_digest_after_editing_a_history_row_does_not_help(
    family, researcher
):
    _history(family, researcher)
    _seal()
    record = IndicatorValue.history.order_by("history_id").first()
    _tamper(
        "UPDATE study_historicalindicatorvalue SET value = %s WHERE history_id = %s",
        [7, record.history_id],
    )
    # The attacker recomputes the seal as the old unkeyed SHA-256 chain would have been made.
    import hashlib
    import json

    seal = AuditSeal.objects.get(table="study_historicalindicatorvalue")
    digest = seal.prev_digest
    fields = [f.attname for f in IndicatorValue.history.model._meta.concrete_fields]
    for row in IndicatorValue.history.order_by("history_id").values(*fields):
        canonical = json.dumps(row, sort_keys=True, default=str, separators=(",", ":"))
        digest = hashlib.sha256((digest + canonical).encode()).hexdigest()
    _tamper("UPDATE study_auditseal SET digest = %s WHERE id = %s", [digest, seal.pk])
    problems = _wheres(verify_history())
    assert "study_historicalindicatorvalue seal 1" in problems
    assert "mac fails" in problems and "altered" in problems
    with pytest.raises(CommandError, match="audit verification failed"):
        call_command("verify_audit")


def test_a_seal_forged_with_another_key_is_found(family, researcher, settings):
    _history(family, researcher)
    settings.AUDIT_KEY = "the attacker's own key"
    _seal()  # every digest and mac right, under the wrong key
    settings.AUDIT_KEY = "test-audit-key"
    assert "mac fails" in _wheres(verify_history())


def test_a_deleted_sealed_history_row_is_found(family, researcher):
    _history(family, researcher)
    _seal()
    record = IndicatorValue.history.order_by("history_id").first()
    _tamper("DELETE FROM study_historicalindicatorvalue WHERE history_id = %s", [record.history_id])
    problems = _wheres(verify_history())
    assert "rows deleted or added" in problems


def test_deleting_the_newest_unsealed_access_events_is_found(family, researcher):
    _reads(family, researcher, 2)
    _seal()
    _reads(family, researcher, 3)
    written = AccessEvent.objects.count()
    newest = AccessEvent.objects.order_by("-id").values_list("id", flat=True)[:2]
    _tamper("DELETE FROM study_accessevent WHERE id IN (%s, %s)", list(newest))
    problems = _wheres(verify_history())
    assert (
        f"study_accessevent: {written} rows were written, {written - 2} are accounted" in problems
    )


def test_deleting_unsealed_history_rows_is_found(family, researcher):
    _history(family, researcher)
    newest = IndicatorValue.history.order_by("-history_id").first()
    _tamper("DELETE FROM study_historicalindicatorvalue WHERE history_id = %s", [newest.history_id])
    assert "study_historicalindicatorvalue" in _wheres(verify_history())


def test_emptying_the_log_and_the_seals_is_found(family, researcher):
    _reads(family, researcher)
    _history(family, researcher)
    _seal()
    _reads(family, researcher)
    written = AccessEvent.objects.count()
    _tamper("DELETE FROM study_accessevent")
    _tamper("DELETE FROM study_auditseal")
    problems = _wheres(verify_history())
    assert f"study_accessevent: {written} rows were written, 0 are accounted for" in problems
    assert "study_auditseal: 9 seals were written, 0 are present" in problems


def test_lowering_the_counter_below_a_seal_is_found(family, researcher):
    _reads(family, researcher, 4)
    _seal()
    _tamper("DELETE FROM study_accessevent")
    _tamper("DELETE FROM study_auditcounter WHERE \"table\" = 'study_accessevent'")
    assert "rows deleted or added" in _wheres(verify_history())


def test_a_removed_newest_seal_is_found(family, researcher):
    _history(family, researcher, 1)
    _seal()
    _history(family, researcher, 1)
    _seal()
    newest = AuditSeal.objects.order_by("-id").first()
    _tamper("DELETE FROM study_auditseal WHERE id = %s", [newest.pk])
    problems = _wheres(verify_history())
    assert "seals were written" in problems


def test_a_removed_middle_seal_breaks_the_chain(family, researcher):
    for _ in range(3):
        _reads(family, researcher, 1)
        _seal()
    middle = AuditSeal.objects.filter(table="study_accessevent").order_by("seq")[1]
    _tamper("DELETE FROM study_auditseal WHERE id = %s", [middle.pk])
    assert "does not follow the previous seal" in _wheres(verify_history())


def test_reordered_seals_break_the_chain(family, researcher):
    for _ in range(2):
        _reads(family, researcher, 1)
        _seal()
    first, second = AuditSeal.objects.filter(table="study_accessevent").order_by("seq")
    _tamper("UPDATE study_auditseal SET seq = 99 WHERE id = %s", [first.pk])
    _tamper("UPDATE study_auditseal SET seq = 1 WHERE id = %s", [second.pk])
    _tamper("UPDATE study_auditseal SET seq = 2 WHERE id = %s", [first.pk])
    problems = _wheres(verify_history())
    assert "does not follow the previous seal" in problems


def test_a_replaced_seal_with_a_matching_row_count_is_found(family, researcher):
    _reads(family, researcher, 2)
    _seal()
    seal = AuditSeal.objects.get(table="study_accessevent")
    fake = keyed_digest(seal.prev_digest, {"guess": "without the key"})
    _tamper("UPDATE study_auditseal SET digest = %s, mac = %s WHERE id = %s", [fake, fake, seal.pk])
    assert "mac fails" in _wheres(verify_history())


def test_verify_audit_never_seals_a_forged_tail_row(family, researcher):
    _reads(family, researcher, 2)
    event = AccessEvent.objects.order_by("-id").first()
    _tamper("UPDATE study_accessevent SET actor_id = NULL WHERE id = %s", [event.pk])
    with pytest.raises(CommandError):
        call_command("verify_audit", seal_after=True)
    assert AuditSeal.objects.count() == 0, "nothing sealed when verification failed"


def test_the_sealer_leaves_rows_of_possibly_open_transactions_for_the_next_run(family, researcher):
    _reads(family, researcher, 2)
    assert audit_seal(delay_seconds=3600) == 0
    assert verify_all() == []
    assert _seal() >= 2


@pg_only
def test_postgresql_refuses_update_delete_and_truncate_of_audit_rows(family, researcher):
    _reads(family, researcher, 1)
    _seal()
    for sql in (
        "UPDATE study_accessevent SET action = 'x'",
        "DELETE FROM study_historicalfamily",
        "UPDATE study_auditseal SET digest = 'x'",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    for table in ("study_accessevent", "study_auditseal", "study_historicalindicatorvalue"):
        with pytest.raises(DatabaseError, match="TRUNCATE refused"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks
                cursor.execute("SET LOCAL tracker.audit_truncate = ''")
                cursor.execute(f"TRUNCATE {table} CASCADE")
    for sql in (
        "UPDATE study_auditcounter SET value = 0",
        "DELETE FROM study_auditcounter",
    ):
        with pytest.raises(DatabaseError, match="can only grow"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    assert verify_all() == []
