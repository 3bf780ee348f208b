"""Waves (T-2 … T5) of a family and what is recorded at them: indicator values and the family
survey."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from study.models.base import MissingCode, SoftDeleteModel, Source, score_0_10
from study.models.family import Family
from study.models.indicator import Indicator


class Wave(SoftDeleteModel):
    """A measurement occasion of a family: T0 at intake, Tn yearly; negative indices are the
    pre-intake registry years (T-2, T-1), which carry registry values only."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        DUE = "due", _("due")
        OVERDUE = "overdue", _("overdue")
        COMPLETED = "completed", _("completed")
        MISSED = "missed", _("missed")
        REGISTRY = "registry", _("registry year")

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="waves")
    index = models.SmallIntegerField(_("wave"))
    year = models.PositiveSmallIntegerField(_("calendar year of registry values"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    window_start = models.DateField(null=True, blank=True)
    window_end = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    completed_date = models.DateField(_("completed on"), null=True, blank=True)
    missed_reason = models.CharField(_("reason missed"), max_length=300, blank=True)
    locked = models.BooleanField(_("locked"), default=False)
    locked_at = models.DateTimeField(null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("wave")
        verbose_name_plural = _("waves")
        ordering = ["family", "index"]
        constraints = [
            models.UniqueConstraint(fields=["family", "index"], name="unique_wave_index")
        ]

    def __str__(self) -> str:
        return f"{self.family.pseudonym} {self.label}"

    @property
    def label(self) -> str:
        return f"T{self.index}"

    LOCKED = "locked"  # a record status beside the stored ones: checked and closed

    @classmethod
    def status_words(cls) -> dict[str, str]:
        """The words of every record status, the same on every page."""
        return {**dict(cls.Status.choices), cls.LOCKED: str(_("locked"))}

    def record_status(self, day: date) -> str:
        """The record status a person sees on a day: locked, or the (derived) wave status."""
        return self.LOCKED if self.locked else self.status_on(day)

    @property
    def is_pre_intake(self) -> bool:
        return self.index < 0

    def status_on(self, day: date) -> str:
        """The status as the dashboard shows it on a given day (due/overdue are derived)."""
        return self.derived_status(self.status, self.window_start, self.window_end, day)

    @classmethod
    def derived_status(
        cls, status: str, window_start: date | None, window_end: date | None, day: date
    ) -> str:
        """`status_on` from the stored fields alone (for rows read without model instances)."""
        if status in (cls.Status.COMPLETED, cls.Status.MISSED, cls.Status.REGISTRY):
            return status
        if window_end and day > window_end:
            return cls.Status.OVERDUE
        if window_start and day >= window_start:
            return cls.Status.DUE
        return cls.Status.PLANNED


class IndicatorValue(SoftDeleteModel):
    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="values")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="values")
    value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    missing_code = models.CharField(max_length=20, choices=MissingCode.choices, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    import_batch = models.ForeignKey(
        "ImportBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="values"
    )
    updated_at = models.DateTimeField(auto_now=True)
    # The history of values is the largest table a registry import writes (one row per value):
    # it is indexed only for how it is read, by the value (``id``, the history of one value)
    # and by wave (the family's audit trail, "changed since" of an import). The indicator, the
    # batch, the date and the user are only ever filtered beside a wave, so their indexes cost
    # every import and served no query (their foreign key to the user stays).
    history = HistoricalRecords(no_db_index=["indicator", "import_batch"])

    class Meta:
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        constraints = [
            models.UniqueConstraint(
                fields=["wave", "indicator"],
                condition=Q(is_deleted=False),
                name="unique_live_value_per_wave_indicator",
            ),
            models.CheckConstraint(
                condition=(Q(value__isnull=True) & ~Q(missing_code=""))
                | (Q(value__isnull=False) & Q(missing_code="")),
                name="value_xor_missing_code",
            ),
        ]

    def __str__(self) -> str:
        shown = self.missing_code if self.value is None else self.value
        return f"{self.indicator.code}={shown}"


for _unindexed in ("history_date", "history_user"):  # see IndicatorValue.history
    IndicatorValue.history.model._meta.get_field(_unindexed).db_index = False


class WaveSurvey(SoftDeleteModel):
    """The family's survey answers at a wave (T0 and later)."""

    wave = models.OneToOneField(Wave, on_delete=models.PROTECT, related_name="survey")
    satisfaction = score_0_10(verbose_name=_("satisfaction with municipal support (0-10)"))
    qol_instrument = models.CharField(_("quality-of-life instrument"), max_length=60, blank=True)
    qol_score = models.DecimalField(
        _("quality-of-life instrument score"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    qol_rating = score_0_10(verbose_name=_("quality of life overall (0-10)"))
    participation_step = models.PositiveSmallIntegerField(
        _("participation ladder step (1-6)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(6)],
    )
    reachability = score_0_10(verbose_name=_("reachability of care workers (0-10)"))
    missing_codes = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    history = HistoricalRecords()

    SCORE_FIELDS = ("satisfaction", "qol_score", "qol_rating", "participation_step", "reachability")

    class Meta:
        verbose_name = _("wave survey")
        verbose_name_plural = _("wave surveys")

    def __str__(self) -> str:
        return f"survey {self.wave_id}"


class WaveReminder(models.Model):
    """An e-mail reminder sent about a wave (to its coach and the study's researchers): one per
    wave and event, so a run that repeats sends nothing twice."""

    class Event(models.TextChoices):
        OPENED = "opened", _("the wave opened")
        OVERDUE = "overdue", _("the wave is overdue")

    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="reminders")
    event = models.CharField(max_length=10, choices=Event.choices)
    sent_at = models.DateTimeField(auto_now_add=True)
    recipients = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("wave reminder")
        verbose_name_plural = _("wave reminders")
        constraints = [
            models.UniqueConstraint(fields=["wave", "event"], name="one_reminder_per_wave_event")
        ]

    def __str__(self) -> str:
        return f"{self.wave} {self.event}"
