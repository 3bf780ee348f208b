"""Data-quality rules (as data, per study) and the queries they open on a field of a wave."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from study.models.indicator import Indicator
from study.models.study import Study
from study.models.wave import Wave


class QualityRule(models.Model):
    """One check on a study's values. `kind` says which check; `params` its numbers:
    range {"min", "max"}; jump {"k": SDs, "min_pairs": n}; child_without_child {}."""

    class Kind(models.TextChoices):
        RANGE = "range", _("value outside the study's plausible range")
        JUMP = "jump", _("jump between waves of more than k standard deviations")
        CHILD_WITHOUT_CHILD = (
            "child_without_child",
            _("child indicator on a family without a child"),
        )

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="quality_rules")
    kind = models.CharField(_("check"), max_length=30, choices=Kind.choices)
    indicator = models.ForeignKey(
        Indicator,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: every indicator the check applies to."),
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("data-quality rule")
        verbose_name_plural = _("data-quality rules")
        ordering = ["study", "kind", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}{f' ({self.indicator.code})' if self.indicator else ''}"


class DataQuery(models.Model):
    """A question about one field of one wave, opened by a rule (or a person)."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        ANSWERED = "answered", _("answered")
        CLOSED = "closed", _("closed")

    rule = models.ForeignKey(
        QualityRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="queries"
    )
    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="queries")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    message = models.CharField(_("question"), max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    close_reason = models.CharField(max_length=300, blank=True)
    # A person reopened it (the reason is in the thread): the rule no longer closes it by itself.
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("data-quality query")
        verbose_name_plural = _("data-quality queries")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "wave", "indicator"],
                condition=~Q(status="closed"),
                name="one_unclosed_query_per_rule_and_field",
            )
        ]

    def __str__(self) -> str:
        return f"{self.wave} {self.indicator.code}: {self.message}"


class QueryMessage(models.Model):
    """A message in a query's thread."""

    query = models.ForeignKey(DataQuery, on_delete=models.CASCADE, related_name="thread")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    text = models.TextField(_("message"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("query message")
        verbose_name_plural = _("query messages")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return self.text[:40]
