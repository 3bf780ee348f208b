"""The registry indicators a study records (the catalogue rows)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from study.models.base import AuditedQuerySet
from study.models.study import Study


class Indicator(models.Model):
    """One registry indicator of the catalogue (study/data/indicators.csv seeds the global rows;
    a study may add its own)."""

    class Level(models.TextChoices):
        HOUSEHOLD = "household", _("household")
        ADULT = "adult", _("adult members")
        CHILD = "child", _("children")

    study = models.ForeignKey(
        Study, null=True, blank=True, on_delete=models.PROTECT, related_name="extra_indicators"
    )
    code = models.SlugField(max_length=60)
    level = models.CharField(max_length=20, choices=Level.choices)
    kind = models.CharField(max_length=30)
    min_value = models.DecimalField(max_digits=12, decimal_places=2)
    max_value = models.DecimalField(max_digits=12, decimal_places=2)
    mpg_domain = models.PositiveSmallIntegerField(null=True, blank=True)
    chronic_support = models.BooleanField(default=False)
    cost_items = models.CharField(max_length=200, blank=True)
    research_questions = models.CharField(max_length=100, blank=True)
    label_en = models.CharField(max_length=200)
    label_nl = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(default=0)
    history = HistoricalRecords()
    objects = AuditedQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["study", "code"], name="unique_indicator_code"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(study__isnull=True), name="unique_global_indicator"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_integer(self) -> bool:
        return self.kind != "euros"

    def label(self, language: str = "nl") -> str:
        return self.label_nl if language.startswith("nl") else self.label_en
