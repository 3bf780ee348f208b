"""Tamper evidence for the audit trail and the access log (NEN 7513), checked by `verify_audit`.

Every digest here is an HMAC-SHA256 with `settings.AUDIT_KEY`, a key from the environment that is
never in the database: whoever can write the database but does not hold the key cannot make an
altered row, a forged event or a replaced seal verify.

- Each access event carries `mac`, the keyed HMAC of its content, written with it (no lock, no
  chain on the read path: reads run side by side).
- The audit tables (every history table of the study and of the apps in
  audit_guards.AUDITED_HISTORY_APPS, the append-only logs of audit_guards.APPEND_ONLY_MODELS
  such as the report publication events, and the access log) are sealed in batches by
  `audit_seal` (Celery beat, every 5 minutes): an AuditSeal holds a keyed HMAC chain over every
  row of an id range, starting from the previous seal's digest, and its own `mac` over its fields
  and the previous seal's `mac`, so seals cannot be removed, reordered or replaced unnoticed.
- The rows not yet sealed (the tail) are checked against `AuditCounter`, counted by a database
  trigger in each inserting transaction (study/audit_guards.py): rows removed from the tail, or
  whole tables emptied, leave the counter higher than the rows found; a seal records the count
  up to its last row, so the counter cannot be lowered below it either.
- On PostgreSQL the audit tables are append-only (triggers refuse UPDATE, DELETE and TRUNCATE)
  and, with the README's role split, the app's role may only SELECT and INSERT there.

What remains possible for the database's owner role (which can drop triggers) is to remove or
forge rows of the unsealed tail and lower the counter to match: at most the rows of the last
AUDIT_SEAL_DELAY_SECONDS plus one sealing interval, and never an access event (their `mac`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from study import bulk_sql
from study.audit_guards import APPEND_ONLY_MODELS, AUDITED_HISTORY_APPS
from study.models import AccessEvent, AuditCounter, AuditSeal

GENESIS = "0" * 64
ADVISORY_LOCK_ID = 7513
ACCESS_TABLE = AccessEvent._meta.db_table
SEAL_TABLE = AuditSeal._meta.db_table


def _canonical(values: dict) -> str:
    return json.dumps(values, sort_keys=True, default=str, separators=(",", ":"))


def keyed_digest(previous: str, values: dict) -> str:
    key = settings.AUDIT_KEY.encode()
    return hmac.new(key, (previous + _canonical(values)).encode(), hashlib.sha256).hexdigest()


def _lock() -> None:
    """Serialise the sealer (PostgreSQL: transaction-scoped advisory lock); reads never take it."""
    bulk_sql.advisory_xact_lock(ADVISORY_LOCK_ID)


# --- access events ---------------------------------------------------------------------------

ACCESS_FIELDS = (
    "at",
    "actor_id",
    "role",
    "action",
    "study_id",
    "pseudonym",
    "row_count",
    "detail",
    "client_ip",
    "credential",
    "family_ids",
    "scope",
)


def access_event_values(event) -> dict:
    return {f: getattr(event, f) for f in ACCESS_FIELDS} | {"at": event.at.isoformat()}


def access_event_mac(event) -> str:
    return keyed_digest(ACCESS_TABLE, access_event_values(event))


def access_event_append(**fields) -> AccessEvent:
    """Write one access event with its keyed mac: one INSERT, no lock (the counting trigger adds
    one UPDATE of one of 16 counter rows)."""
    event = AccessEvent(**fields)
    at = event.at or timezone.now()
    # Milliseconds, as Django's JSON serializer writes them: a restored backup verifies.
    event.at = at.replace(microsecond=at.microsecond // 1000 * 1000)
    event.mac = access_event_mac(event)
    event.save()
    return event


# --- the sealed tables -----------------------------------------------------------------------


@dataclass(frozen=True)
class AuditTable:
    model: Any  # a model class (history models are made at run time)
    id_field: str

    @property
    def name(self) -> str:
        return self.model._meta.db_table

    @property
    def time_field(self) -> str:
        return "history_date" if self.id_field == "history_id" else "at"


def history_models() -> list:
    """The historical (audit) models of the study app and of the apps in
    AUDITED_HISTORY_APPS, in a stable order."""
    labels = ["study", *(a for a in AUDITED_HISTORY_APPS if a in apps.app_configs)]
    return sorted(
        (
            m
            for label in labels
            for m in apps.get_app_config(label).get_models()
            if m.__name__.startswith("Historical")
        ),
        key=lambda m: m._meta.db_table,
    )


def append_only_models() -> list:
    """The append-only logs of other apps sealed like the access log (id and `at` columns)."""
    return [
        apps.get_model(label, name)
        for label, name in APPEND_ONLY_MODELS
        if label in apps.app_configs
    ]


def audit_tables() -> list[AuditTable]:
    return (
        [AuditTable(m, "history_id") for m in history_models()]
        + [AuditTable(AccessEvent, "id")]
        + [AuditTable(m, "id") for m in append_only_models()]
    )


def _rows(table: AuditTable, first_id: int, last_id: int):
    fields = [f.attname for f in table.model._meta.concrete_fields]
    lookup = {f"{table.id_field}__gte": first_id, f"{table.id_field}__lte": last_id}
    return table.model.objects.filter(**lookup).order_by(table.id_field).values(*fields)


def _range_digest(table: AuditTable, previous: str, first_id: int, last_id: int) -> tuple:
    digest, count = previous, 0
    for row in _rows(table, first_id, last_id).iterator(chunk_size=2000):
        digest = keyed_digest(digest, row)
        count += 1
    return digest, count


SEAL_FIELDS = (
    "table",
    "seq",
    "first_history_id",
    "last_history_id",
    "row_count",
    "rows_total",
    "prev_digest",
    "digest",
    "prev_mac",
)


def seal_mac(seal: AuditSeal) -> str:
    return keyed_digest(SEAL_TABLE, {f: getattr(seal, f) for f in SEAL_FIELDS})


def counted(table: str) -> int:
    return AuditCounter.objects.filter(table=table).aggregate(n=Sum("value"))["n"] or 0


def _last_seal(table: str) -> AuditSeal | None:
    return AuditSeal.objects.filter(table=table).order_by("-seq", "-id").first()


@transaction.atomic
def audit_seal(*, delay_seconds: int | None = None) -> int:
    """Seal every row written since the table's last seal and older than the seal delay (rows
    of transactions still open then are sealed by the next run); returns how many rows."""
    _lock()
    delay = settings.AUDIT_SEAL_DELAY_SECONDS if delay_seconds is None else delay_seconds
    before = timezone.now() - timedelta(seconds=delay)
    sealed = 0
    for table in audit_tables():
        last = _last_seal(table.name)
        start = (last.last_history_id + 1) if last else 1
        top = (
            table.model.objects.filter(
                **{f"{table.id_field}__gte": start, f"{table.time_field}__lte": before}
            )
            .order_by(f"-{table.id_field}")
            .values_list(table.id_field, flat=True)
            .first()
        )
        if top is None:
            continue
        previous = last.digest if last else GENESIS
        digest, count = _range_digest(table, previous, start, top)
        seal = AuditSeal(
            table=table.name,
            seq=(last.seq + 1) if last else 1,
            first_history_id=start,
            last_history_id=top,
            row_count=count,
            rows_total=(last.rows_total if last else 0) + count,
            prev_digest=previous,
            digest=digest,
            prev_mac=last.mac if last else GENESIS,
        )
        seal.mac = seal_mac(seal)
        seal.save()
        sealed += count
    return sealed


# --- verification ----------------------------------------------------------------------------


@dataclass
class AuditProblem:
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.detail}"


def verify_access_log() -> list[AuditProblem]:
    """Every access event's keyed mac matches its content."""
    problems = []
    for event in AccessEvent.objects.order_by("id").iterator(chunk_size=2000):
        if not hmac.compare_digest(event.mac or "", access_event_mac(event)):
            problems.append(
                AuditProblem(f"access event #{event.pk}", "content altered or event forged")
            )
    return problems


def _verify_table(table: AuditTable) -> list[AuditProblem]:
    problems: list[AuditProblem] = []
    seals = list(AuditSeal.objects.filter(table=table.name).order_by("seq", "id"))
    prev_mac, prev_digest, prev_last, prev_total = GENESIS, GENESIS, 0, 0
    for number, seal in enumerate(seals, start=1):
        where = (
            f"{table.name} seal {seal.seq} (rows {seal.first_history_id}-{seal.last_history_id})"
        )
        if not hmac.compare_digest(seal.mac or "", seal_mac(seal)):
            problems.append(AuditProblem(where, "the seal was altered or forged (its mac fails)"))
        if (
            seal.seq != number
            or seal.prev_mac != prev_mac
            or seal.prev_digest != prev_digest
            or seal.first_history_id <= prev_last
            or seal.rows_total != prev_total + seal.row_count
        ):
            problems.append(
                AuditProblem(
                    where, "does not follow the previous seal (seals removed or reordered)"
                )
            )
        digest, count = _range_digest(
            table, seal.prev_digest, seal.first_history_id, seal.last_history_id
        )
        if count != seal.row_count:
            problems.append(
                AuditProblem(
                    where, f"{seal.row_count} rows sealed, {count} found (rows deleted or added)"
                )
            )
        elif not hmac.compare_digest(digest, seal.digest):
            problems.append(AuditProblem(where, "a sealed row was altered"))
        prev_mac, prev_digest = seal.mac, seal.digest
        prev_last, prev_total = seal.last_history_id, seal.rows_total
    tail = table.model.objects.filter(**{f"{table.id_field}__gt": prev_last}).count()
    expected = counted(table.name)
    if prev_total + tail != expected:
        problems.append(
            AuditProblem(
                table.name,
                f"{expected} rows were written, {prev_total + tail} are accounted for "
                "(rows removed, the table emptied, or the counter changed)",
            )
        )
    return problems


def verify_table(table: AuditTable) -> list[AuditProblem]:
    """One table's seals and rows (the erasure checks the tables it rewrites first)."""
    return _verify_table(table)


def reseal_from(table: AuditTable, first_changed_id: int) -> int:
    """Make the table's seals again from the first one that covers `first_changed_id` (rows of
    it were erased): each digest over the rows as they are now, chained as before, each mac
    again. Only for the erasure, inside its transaction, after `verify_table` found the table
    intact, with the sealer's lock held and the append-only guard lifted. Returns how many."""
    seals = list(AuditSeal.objects.filter(table=table.name).order_by("seq", "id"))
    prev_digest, prev_mac, remade = GENESIS, GENESIS, 0
    for seal in seals:
        if remade or seal.last_history_id >= first_changed_id:
            digest, _count = _range_digest(
                table, prev_digest, seal.first_history_id, seal.last_history_id
            )
            seal.prev_digest, seal.digest, seal.prev_mac = prev_digest, digest, prev_mac
            seal.mac = seal_mac(seal)
            AuditSeal.objects.filter(pk=seal.pk).update(
                prev_digest=seal.prev_digest,
                digest=seal.digest,
                prev_mac=seal.prev_mac,
                mac=seal.mac,
            )
            remade += 1
        prev_digest, prev_mac = seal.digest, seal.mac
    return remade


def lock_sealer() -> None:
    """Hold the sealer's lock until the transaction ends (the erasure rewrites seals)."""
    _lock()


def verify_history() -> list[AuditProblem]:
    """Every table's seals chain and match their rows; every table's rows match its counter;
    the seals themselves match the seal table's counter (a removed newest seal)."""
    problems = []
    for table in audit_tables():
        problems += _verify_table(table)
    known = {t.name for t in audit_tables()}
    for name in AuditSeal.objects.exclude(table__in=known).values_list("table", flat=True):
        problems.append(AuditProblem(f"seal of {name}", "unknown table"))
    seals = AuditSeal.objects.count()
    if seals != counted(SEAL_TABLE):
        problems.append(
            AuditProblem(
                SEAL_TABLE, f"{counted(SEAL_TABLE)} seals were written, {seals} are present"
            )
        )
    return problems


def verify_all() -> list[AuditProblem]:
    return verify_access_log() + verify_history()
