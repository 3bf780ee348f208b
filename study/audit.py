"""Tamper evidence for the audit trail and the access log (NEN 7513).

Two mechanisms, both verified by `manage.py verify_audit`:
- every AccessEvent carries a hash chain (its hash covers its content and the previous hash);
- the history tables of study data are sealed in batches: an AuditSeal stores a chained SHA-256
  over every history row in an id range, so a row altered after sealing no longer matches.
On PostgreSQL both logs are also append-only: a trigger refuses UPDATE and DELETE (migration
0005), so the application's own database role cannot rewrite them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.apps import apps
from django.db import transaction

from study import bulk_sql
from study.models import AccessEvent, AuditSeal

GENESIS = "0" * 64
ADVISORY_LOCK_ID = 7513


def _canonical(values: dict) -> str:
    return json.dumps(values, sort_keys=True, default=str, separators=(",", ":"))


def chain_hash(previous: str, values: dict) -> str:
    return hashlib.sha256((previous + _canonical(values)).encode()).hexdigest()


def _lock() -> None:
    """Serialise writers of a chain (PostgreSQL: transaction-scoped advisory lock)."""
    bulk_sql.advisory_xact_lock(ADVISORY_LOCK_ID)


ACCESS_FIELDS = ("at", "actor_id", "role", "action", "study_id", "pseudonym", "row_count", "detail")


def access_event_values(event) -> dict:
    return {f: getattr(event, f) for f in ACCESS_FIELDS} | {"at": event.at.isoformat()}


@transaction.atomic
def access_event_append(**fields):
    _lock()
    last = AccessEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    event = AccessEvent(**fields)
    event.prev_hash = last or GENESIS
    event.hash = chain_hash(event.prev_hash, access_event_values(event))
    event.save()
    return event


def history_models() -> list:
    """The historical (audit) models of the study app, in a stable order."""
    return sorted(
        (
            m
            for m in apps.get_app_config("study").get_models()
            if m.__name__.startswith("Historical")
        ),
        key=lambda m: m._meta.db_table,
    )


def _row_digest(previous: str, row: dict) -> str:
    return chain_hash(previous, row)


def _rows(model, first_id: int, last_id: int):
    fields = [f.attname for f in model._meta.concrete_fields]
    return (
        model.objects.filter(history_id__gte=first_id, history_id__lte=last_id)
        .order_by("history_id")
        .values(*fields)
    )


@transaction.atomic
def audit_seal() -> int:
    """Seal every history row written since the last seal; returns how many rows were sealed."""
    _lock()
    sealed = 0
    for model in history_models():
        table = model._meta.db_table
        last = AuditSeal.objects.filter(table=table).order_by("-last_history_id").first()
        start = (last.last_history_id + 1) if last else 1
        top = (
            model.objects.filter(history_id__gte=start)
            .order_by("-history_id")
            .values_list("history_id", flat=True)
            .first()
        )
        if top is None:
            continue
        digest, count = (last.digest if last else GENESIS), 0
        for row in _rows(model, start, top).iterator(chunk_size=2000):
            digest = _row_digest(digest, row)
            count += 1
        AuditSeal.objects.create(
            table=table,
            first_history_id=start,
            last_history_id=top,
            row_count=count,
            prev_digest=last.digest if last else GENESIS,
            digest=digest,
        )
        sealed += count
    return sealed


@dataclass
class AuditProblem:
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.detail}"


def verify_access_log() -> list[AuditProblem]:
    problems, previous = [], GENESIS
    for event in AccessEvent.objects.order_by("id").iterator(chunk_size=2000):
        expected = chain_hash(previous, access_event_values(event))
        if event.prev_hash != previous or event.hash != expected:
            problems.append(AuditProblem(f"access event #{event.pk}", "content or chain altered"))
        previous = event.hash
    return problems


def verify_history() -> list[AuditProblem]:
    problems = []
    models = {m._meta.db_table: m for m in history_models()}
    for seal in AuditSeal.objects.order_by("table", "first_history_id"):
        model = models.get(seal.table)
        if model is None:
            problems.append(AuditProblem(f"seal #{seal.pk}", f"unknown table {seal.table}"))
            continue
        digest, count = seal.prev_digest, 0
        for row in _rows(model, seal.first_history_id, seal.last_history_id).iterator(
            chunk_size=2000
        ):
            digest = _row_digest(digest, row)
            count += 1
        if count != seal.row_count:
            problems.append(
                AuditProblem(
                    f"{seal.table} rows {seal.first_history_id}-{seal.last_history_id}",
                    f"{seal.row_count} rows sealed, {count} found (rows deleted or added)",
                )
            )
        elif digest != seal.digest:
            problems.append(
                AuditProblem(
                    f"{seal.table} rows {seal.first_history_id}-{seal.last_history_id}",
                    "a sealed history row was altered",
                )
            )
    return problems
