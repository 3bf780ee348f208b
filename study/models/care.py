"""Care around a family: the care workers involved (hulpverleners) and the wijkcoach's contacts."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from study.models.base import SoftDeleteModel
from study.models.family import Family


class CareInvolvement(SoftDeleteModel):
    """A care worker (hulpverlener) involved with a family, from start to end."""

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="care_involvements")
    organisation = models.CharField(_("organisation"), max_length=150)
    discipline = models.CharField(_("role / discipline"), max_length=100)
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
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
        ordering = ["-occurred_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"

    @property
    def response_hours(self) -> float | None:
        if self.requested_at is None:
            return None
        return (self.occurred_at - self.requested_at).total_seconds() / 3600
