"""The access log (NEN 7513) and the seals over the history tables (see study/audit.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from study.models.study import Study


class AccessEvent(models.Model):
    """A read of personal data (NEN 7513): who (actor, role, client address, session or token),
    when, and what (the ids of the families read, the scope: filters, export format, ...). One
    event per request, however many families it read. `mac` is a keyed HMAC of the row written
    with it (study/audit.py), so an edited event is found before it is sealed."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    role = models.CharField(max_length=40, blank=True)
    action = models.CharField(max_length=40)
    study = models.ForeignKey(
        Study, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pseudonym = models.CharField(max_length=20, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    detail = models.CharField(max_length=300, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    # "session:<sha256 prefix of the session key>", "token:<id>" or "api-key:<prefix>"; never the
    # credential itself.
    credential = models.CharField(max_length=80, blank=True)
    family_ids = models.JSONField(default=list, blank=True)
    scope = models.CharField(max_length=300, blank=True)
    mac = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("access event")
        verbose_name_plural = _("access events")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class AuditSeal(models.Model):
    """A keyed HMAC chain over a range of rows of one audit table (history rows, access events),
    itself chained to the table's previous seal (see study/audit.py)."""

    at = models.DateTimeField(default=timezone.now)
    table = models.CharField(max_length=100)
    seq = models.PositiveIntegerField(default=0)  # 1, 2, ... per table
    first_history_id = models.BigIntegerField()
    last_history_id = models.BigIntegerField()
    row_count = models.PositiveIntegerField()
    rows_total = models.BigIntegerField(default=0)  # rows of the table up to last_history_id
    prev_digest = models.CharField(max_length=64)
    digest = models.CharField(max_length=64)
    prev_mac = models.CharField(max_length=64, blank=True)
    mac = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("audit seal")
        verbose_name_plural = _("audit seals")
        ordering = ["table", "first_history_id"]

    def __str__(self) -> str:
        return f"{self.table} {self.first_history_id}-{self.last_history_id}"


class AuditCounter(models.Model):
    """How many rows were ever inserted into an audit table, counted by a database trigger in the
    inserting transaction (migration 0013; never by the app). Spread over shards (the inserting
    connection's process id modulo 16 on PostgreSQL) so that reads, which each insert an access
    event, do not queue behind one counter row. Rows of audit tables are never deleted, so the
    shards' sum equals the table's row count; fewer rows means rows were removed."""

    table = models.CharField(max_length=100)
    shard = models.PositiveSmallIntegerField(default=0)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("audit counter")
        verbose_name_plural = _("audit counters")
        constraints = [
            models.UniqueConstraint(fields=["table", "shard"], name="audit_counter_table_shard")
        ]

    def __str__(self) -> str:
        return f"{self.table}[{self.shard}] = {self.value}"


class FamilyErasure(models.Model):
    """The audited erasure of a withdrawn family's values (study.services.erasure): who asked,
    why, when it was carried out and how many rows of each table were erased. The rows stay (the
    family's pseudonym, arm, status and wave dates keep counting in the attrition table); their
    values are blanked in the live tables and in the history, and the history's seals are made
    again over the erased rows."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")
        DONE = "done", _("erased")

    family = models.ForeignKey("study.Family", on_delete=models.PROTECT, related_name="erasures")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(_("reason"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    done_at = models.DateTimeField(null=True, blank=True)
    erased = models.JSONField(default=dict, blank=True)  # table -> rows erased
    resealed = models.JSONField(default=dict, blank=True)  # table -> seals made again
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("family erasure")
        verbose_name_plural = _("family erasures")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"erasure {self.pk} ({self.status})"
