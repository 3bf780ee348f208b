"""Analysis runs and effect reports: the database row of a run is the record of truth."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class AnalysisRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    study = models.ForeignKey("study.Study", on_delete=models.PROTECT, related_name="analysis_runs")
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    progress_note = models.CharField(max_length=200, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    fingerprint = models.CharField(_("data fingerprint"), max_length=64, blank=True)
    code_version = models.CharField(max_length=64, blank=True)
    results = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class Report(models.Model):
    """The effect report of a run; immutable once published."""

    run = models.OneToOneField(AnalysisRun, on_delete=models.PROTECT, related_name="report")
    study = models.ForeignKey("study.Study", on_delete=models.PROTECT, related_name="reports")
    version = models.PositiveIntegerField()
    html = models.TextField()
    pdf = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["study", "version"], name="unique_report_version")
        ]

    def __str__(self) -> str:
        return f"report v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk:
            stored = Report.objects.filter(pk=self.pk).values("published").first()
            if stored and stored["published"]:
                raise ValidationError(_("A published report cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.published:
            raise ValidationError(_("A published report cannot be deleted."))
        return super().delete(*args, **kwargs)
