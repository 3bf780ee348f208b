"""The access log (NEN 7513) and the seals over the history tables (see study/audit.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from study.models.study import Study


class AccessEvent(models.Model):
    """A read of personal data (NEN 7513): who looked at which family or exported what."""

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
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class AuditSeal(models.Model):
    """A chained SHA-256 over a range of history rows of one table (see study/audit.py)."""

    at = models.DateTimeField(default=timezone.now)
    table = models.CharField(max_length=100)
    first_history_id = models.BigIntegerField()
    last_history_id = models.BigIntegerField()
    row_count = models.PositiveIntegerField()
    prev_digest = models.CharField(max_length=64)
    digest = models.CharField(max_length=64)

    class Meta:
        ordering = ["table", "first_history_id"]

    def __str__(self) -> str:
        return f"{self.table} {self.first_history_id}-{self.last_history_id}"
