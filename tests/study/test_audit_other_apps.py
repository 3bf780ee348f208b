"""The audit chain covers the instruments' history tables and the report publication events
(issue 17's follow-up): sealed, counted and, on PostgreSQL, append-only like the study's own
history; altering or removing one of their rows is found by `verify_audit`; an erasure blanks a
withdrawn family's instrument answers and re-seals them so the chain still verifies."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from analysis.models import AnalysisRun, Report, ReportPublicationEvent
from instruments.models import Administration, InstrumentVersion
from instruments.services import administration_record, instruments_ensure_shipped
from study import audit
from study.audit import audit_seal, verify_all, verify_history
from study.audit_guards import all_audit_tables
from study.models import AuditSeal, StudyDataPolicy
from study.services.erasure import family_erasure_execute, family_erasure_request
from study.services.families import family_set_status

pytestmark = pytest.mark.django_db

ADMIN_HISTORY = Administration.history.model._meta.db_table
VERSION_HISTORY = InstrumentVersion.history.model._meta.db_table
EVENTS = ReportPublicationEvent._meta.db_table


def _tamper(sql: str, params: list | None = None) -> None:
    """Change rows behind the application's back (on PostgreSQL with the triggers off, as a
    superuser could)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params or [])


def _wheres(problems) -> str:
    return " | ".join(str(p) for p in problems)


def _mansa(family, researcher, value: int = 5) -> Administration:
    instruments_ensure_shipped()
    version = InstrumentVersion.objects.get(code="mansa12", version=1, study__isnull=True)
    return administration_record(
        wave=family.waves.get(index=0),
        instrument_version=version,
        answers=dict.fromkeys(version.parsed.item_codes, value),
        missing_codes={},
        user=researcher,
    )


def _event(study, user) -> ReportPublicationEvent:
    run = AnalysisRun.objects.create(study=study, status="succeeded", results={"questions": []})
    report = Report.objects.create(run=run, study=study, version=1, html="<p>r</p>")
    return ReportPublicationEvent.objects.create(
        report=report, action=ReportPublicationEvent.Action.PUBLISHED, at=timezone.now(), by=user
    )


def test_the_chain_names_the_instruments_history_and_the_publication_events():
    names = {t.name for t in audit.audit_tables()}
    assert {ADMIN_HISTORY, VERSION_HISTORY, EVENTS} <= names
    from django.apps import apps

    assert {ADMIN_HISTORY, VERSION_HISTORY, EVENTS} <= set(all_audit_tables(apps))


def test_their_rows_are_counted_sealed_and_verify(family, researcher, study):
    before = audit.counted(ADMIN_HISTORY), audit.counted(EVENTS)
    _mansa(family, researcher)
    _event(study, researcher)
    assert audit.counted(ADMIN_HISTORY) == before[0] + 1
    assert audit.counted(EVENTS) == before[1] + 1
    assert verify_all() == []
    audit_seal(delay_seconds=0)
    sealed = set(AuditSeal.objects.values_list("table", flat=True))
    assert {ADMIN_HISTORY, VERSION_HISTORY, EVENTS} <= sealed
    assert verify_all() == []


def test_an_altered_sealed_administration_history_row_is_found(family, researcher):
    admin = _mansa(family, researcher)
    audit_seal(delay_seconds=0)
    row = Administration.history.get(id=admin.pk)
    _tamper(
        f'UPDATE "{ADMIN_HISTORY}" SET scores = %s WHERE history_id = %s',
        ['{"mean": 1.0}', row.history_id],
    )
    problems = _wheres(verify_history())
    assert f"{ADMIN_HISTORY} seal 1" in problems and "a sealed row was altered" in problems
    with pytest.raises(CommandError, match="audit verification failed"):
        call_command("verify_audit")


def test_an_altered_sealed_publication_event_is_found(study, researcher):
    event = _event(study, researcher)
    audit_seal(delay_seconds=0)
    _tamper(f'UPDATE "{EVENTS}" SET reason = %s WHERE id = %s', ["rewritten", event.pk])
    problems = _wheres(verify_history())
    assert f"{EVENTS} seal 1" in problems and "a sealed row was altered" in problems


def test_a_removed_unsealed_publication_event_is_found(study, researcher):
    event = _event(study, researcher)
    _tamper(f'DELETE FROM "{EVENTS}" WHERE id = %s', [event.pk])
    assert f"{EVENTS}: 1 rows were written, 0 are accounted for" in _wheres(verify_history())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the guards are PostgreSQL's")
def test_postgresql_refuses_rewriting_them(family, researcher, study):
    _mansa(family, researcher)
    _event(study, researcher)
    for sql in (
        f"UPDATE \"{ADMIN_HISTORY}\" SET scores = '{{}}'",
        f'DELETE FROM "{VERSION_HISTORY}"',
        f"UPDATE \"{EVENTS}\" SET reason = 'x'",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    with pytest.raises(DatabaseError, match="TRUNCATE refused"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET LOCAL tracker.audit_truncate = ''")
            cursor.execute(f'TRUNCATE "{EVENTS}" CASCADE')
    assert verify_all() == []


def test_an_erasure_blanks_the_instrument_answers_and_the_chain_still_verifies(
    study, family, other_family, researcher, data_manager
):
    StudyDataPolicy.objects.create(study=study, withdrawal=StudyDataPolicy.Withdrawal.REMOVE)
    _mansa(family, researcher, 5)
    kept = _mansa(other_family, researcher, 3)
    audit_seal(delay_seconds=0)
    family_set_status(
        family=family, status="withdrawn", on=date(2024, 1, 1), user=researcher, reason="consent"
    )
    erasure = family_erasure_request(
        family=family,
        reason="withdrew consent",
        typed_pseudonym=family.pseudonym,
        confirmed=True,
        user=data_manager,
        second_factor=True,
    )
    done = family_erasure_execute(erasure=erasure, user=data_manager)
    assert done.erased["Administration"] == {"rows": 1, "history_rows": 1}
    assert done.resealed[ADMIN_HISTORY] >= 1
    erased = Administration._base_manager.get(wave__family=family)
    assert erased.answers == {} and erased.scores == {} and erased.is_deleted
    assert not Administration.history.filter(wave__family=family).exclude(answers={}).exists()
    kept.refresh_from_db()
    assert kept.scores == {"mean": 3.0}
    assert verify_all() == []
    audit_seal(delay_seconds=0)
    assert verify_all() == []
