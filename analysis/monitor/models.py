"""Stored monitor results (one suppressed report per municipality and year) and monitor jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MonitorReport(models.Model):
    """The monitor's figures for one municipality and year, as the gemeente may see them.

    Everything stored is already suppressed (counts 1-9 as "*", secondary suppression within
    the municipality): no household-level data and no unsuppressed count is ever kept here.
    The gemeente sees a report only once it is published.
    """

    municipality = models.CharField(_("municipality"), max_length=100, db_index=True)
    year = models.PositiveSmallIntegerField(_("reporting year"))
    summary = models.JSONField(_("headline figures"), default=dict)
    tables = models.JSONField(_("tables"), default=dict)
    trend = models.JSONField(_("trend"), null=True, blank=True)
    cost = models.JSONField(_("cost per MPG"), default=dict)
    source_name = models.CharField(_("extract"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["municipality", "-year", "-created_at"]
        verbose_name = _("monitor report")
        verbose_name_plural = _("monitor reports")

    def __str__(self) -> str:
        return f"{self.municipality} {self.year}"

    @property
    def published(self) -> bool:
        return self.published_at is not None


class MonitorJob(models.Model):
    """One run of the monitor on an uploaded extract, as the API started it.

    The row, not the broker, is the record of truth: a worker claims a queued job with a
    conditional update, and the outcome (the suppressed summary, the ids of the reports it
    stored, or a readable error) is written here. The extract itself waits in
    ``MONITOR_UPLOAD_DIR`` and is deleted when the job ends.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    #: year, save, source_name (the uploaded file's name) and path (the stored extract).
    params = models.JSONField(_("parameters"), default=dict)
    #: Chunks (municipalities) counted so far and in all, while the job fans out over workers.
    chunks_done = models.PositiveIntegerField(default=0)
    chunks = models.PositiveIntegerField(default=0)
    #: The suppressed summary and, with save, "saved_reports": the ids of the stored reports.
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # host:pid of the worker process that claimed the job (empty while queued).
    claimed_by = models.CharField(max_length=200, blank=True)
    # Sign of life: set when the job is claimed and with every chunk counted.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("monitor job")
        verbose_name_plural = _("monitor jobs")

    def __str__(self) -> str:
        return f"monitor job {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
