"""Stored monitor results: one suppressed report per municipality and reporting year."""

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
