"""A registry import batch: the record of truth of one file's upload, dry run and apply."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from study.models.study import Study


class ImportBatch(models.Model):
    """One registry file import: upload, dry run (every problem by row and column), then an
    all-or-nothing apply. The row is the record of truth for the Celery jobs that do the work:
    the dry run and the apply are two jobs of tracker/jobs.py on this row (study/imports/job.py),
    each with a queued and a running status."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting to be checked")
        VALIDATING = "validating", _("checking")
        VALIDATED = "validated", _("checked (dry run)")
        FAILED = "failed", _("refused")
        APPLY_QUEUED = "apply_queued", _("waiting to be imported")
        APPLYING = "applying", _("importing")
        APPLIED = "applied", _("imported")

    class Layout(models.TextChoices):
        AUTO = "auto", _("detect from the header")
        LONG = "long", _("long: one row per family, year and indicator")
        WIDE = "wide", _("wide: one column per indicator")

    FINISHED = {Status.VALIDATED, Status.FAILED, Status.APPLIED}

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="imports")
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(default=0)
    # Legacy: files are no longer kept in the database (see `spool`); always empty now.
    content = models.BinaryField(editable=False, default=bytes)
    # The name of the uploaded file in IMPORT_SPOOL_DIR while it waits for its dry run and apply.
    spool = models.CharField(max_length=64, blank=True, editable=False)
    layout = models.CharField(max_length=10, choices=Layout.choices, default=Layout.AUTO)
    fmt = models.CharField(max_length=10, blank=True)
    key_kind = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    progress = models.PositiveSmallIntegerField(default=0)
    progress_note = models.CharField(max_length=200, blank=True)
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    preview = models.JSONField(default=list, blank=True)
    # Attempts of the current phase (the apply starts counting again from 0).
    attempts = models.PositiveSmallIntegerField(default=0)
    # host:pid:start-time of the worker process holding the job (empty while queued or done).
    claimed_by = models.CharField(max_length=200, blank=True)
    # Last sign of life of the job working on it, or when it was (re)queued (tracker/jobs.py).
    heartbeat_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def is_applying(self) -> bool:
        """Waiting to be imported or being imported."""
        return self.status in (self.Status.APPLY_QUEUED, self.Status.APPLYING)
