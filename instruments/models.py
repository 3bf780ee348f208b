"""Instrument versions as stored (the definition file's content, never edited in place) and
administrations: an instrument version answered at a family's wave, its item answers with a
missing-data code per item, and the scores computed from them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from instruments.definition import Definition, parse_definition
from study.models import SoftDeleteModel, Source, Study, Wave


class InstrumentVersion(models.Model):
    """One version of an instrument. `study` empty: shipped with the project (every study may use
    it); set: loaded from the study's own (licensed) file, for that study only."""

    code = models.CharField(_("instrument"), max_length=60)
    version = models.PositiveSmallIntegerField(_("version"))
    study = models.ForeignKey(
        Study, null=True, blank=True, on_delete=models.PROTECT, related_name="instrument_versions"
    )
    name = models.CharField(_("name"), max_length=200)
    definition = models.JSONField(_("definition"))
    checksum = models.CharField(max_length=64)
    comparable_with = models.JSONField(default=list, blank=True)
    source_file = models.CharField(_("loaded from"), max_length=200, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("instrument version")
        verbose_name_plural = _("instrument versions")
        ordering = ["code", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "version"],
                condition=Q(study__isnull=True),
                name="unique_shipped_instrument_version",
            ),
            models.UniqueConstraint(
                fields=["study", "code", "version"], name="unique_study_instrument_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    @property
    def parsed(self) -> Definition:
        cached = getattr(self, "_parsed", None)
        if cached is None:
            cached = self._parsed = parse_definition(self.definition)
        return cached


class Administration(SoftDeleteModel):
    """An instrument version answered at a wave (T0 or later): one live one per wave and
    instrument, which keeps the version it was entered with."""

    class Mode(models.TextChoices):
        RESEARCHER = "researcher", _("researcher")
        COACH = "coach", _("wijkcoach")
        RESPONDENT = "respondent", _("the family (respondent mode)")

    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="administrations")
    instrument_version = models.ForeignKey(
        InstrumentVersion, on_delete=models.PROTECT, related_name="administrations"
    )
    instrument_code = models.CharField(max_length=60)  # = instrument_version.code (constraint)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    missing_codes = models.JSONField(_("missing-data codes"), default=dict, blank=True)
    scores = models.JSONField(_("scores"), default=dict, blank=True)
    mode = models.CharField(_("entered by"), max_length=12, choices=Mode.choices)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("instrument administration")
        verbose_name_plural = _("instrument administrations")
        ordering = ["wave", "instrument_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["wave", "instrument_code"],
                condition=Q(is_deleted=False),
                name="unique_live_administration_per_wave_instrument",
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument_code} v{self.instrument_version.version} @ {self.wave_id}"
