"""Care around a family: the care workers involved (hulpverleners) and the wijkcoach's contacts."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from study.models.base import AuditedQuerySet, SoftDeleteModel
from study.models.family import Family
from study.models.study import Study


class CareCatalogueEntry(models.Model):
    """One organisation or discipline of a study's coded list of care workers. A duplicate is
    merged into another entry (`merged_into`): it leaves the list, its involvements move to the
    other entry, and its name still finds that entry when typed."""

    class Kind(models.TextChoices):
        ORGANISATION = "organisation", _("organisation")
        DISCIPLINE = "discipline", _("discipline")

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="care_catalogue")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=150)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )
    objects = AuditedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("care list entry")
        verbose_name_plural = _("care list entries")
        ordering = ["study", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "study",
                "kind",
                condition=Q(merged_into__isnull=True),
                name="one_listed_care_name_per_study_and_kind",
            )
        ]

    def __str__(self) -> str:
        return self.name


class CareInvolvement(SoftDeleteModel):
    """A care worker (hulpverlener) involved with a family, from start to end. Organisation and
    discipline come from the study's coded list (`*_entry`, the name copied beside it) or, only
    as "anders" (other), typed in (`*_entry` empty)."""

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="care_involvements")
    organisation = models.CharField(_("organisation"), max_length=150)
    discipline = models.CharField(_("role / discipline"), max_length=100)
    organisation_entry = models.ForeignKey(
        CareCatalogueEntry,
        verbose_name=_("organisation (study's list)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": "organisation"},
    )
    discipline_entry = models.ForeignKey(
        CareCatalogueEntry,
        verbose_name=_("discipline (study's list)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": "discipline"},
    )
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("care worker involvement")
        verbose_name_plural = _("care worker involvements")
        ordering = ["family", "start_date"]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.discipline})"


class Contact(SoftDeleteModel):
    class Kind(models.TextChoices):
        HOME_VISIT = "home_visit", _("home visit")
        PHONE = "phone", _("phone")
        VIDEO = "video", _("video call")
        MDO = "mdo", _("multidisciplinary meeting (MDO)")
        OTHER = "other", _("other")

    class Initiator(models.TextChoices):
        FAMILY = "family", _("the family")
        COACH = "coach", _("the wijkcoach")
        PROFESSIONAL = "professional", _("another professional")

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="contacts")
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contacts"
    )
    occurred_at = models.DateTimeField(_("date and time"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    initiated_by = models.CharField(_("initiated by"), max_length=20, choices=Initiator.choices)
    requested_at = models.DateTimeField(
        _("when the family asked"),
        null=True,
        blank=True,
        help_text=_("Only when the family asked for this contact: gives the response time."),
    )
    note = models.TextField(_("note"), blank=True)
    note_private = models.BooleanField(_("note is private to the coach"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-occurred_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"

    @property
    def response_hours(self) -> float | None:
        if self.requested_at is None:
            return None
        return (self.occurred_at - self.requested_at).total_seconds() / 3600
