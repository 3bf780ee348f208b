"""Professionals of a study and their yearly surveys."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from study.models.base import SoftDeleteModel, new_pseudonym, scale_1_5, score_0_10
from study.models.study import Study


class Professional(SoftDeleteModel):
    class Approach(models.TextChoices):
        NEW = "new", _("works in the new approach")
        USUAL = "usual", _("works as usual")

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="professionals")
    code = models.CharField(_("code"), max_length=20, default=new_pseudonym)
    organisation = models.CharField(_("organisation"), max_length=150)
    approach = models.CharField(_("approach"), max_length=10, choices=Approach.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    active = models.BooleanField(_("active"), default=True)
    ended_on = models.DateField(_("stopped on"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("professional")
        verbose_name_plural = _("professionals")
        constraints = [
            models.UniqueConstraint(fields=["study", "code"], name="unique_professional")
        ]

    def __str__(self) -> str:
        return self.code


class ProfessionalSurvey(SoftDeleteModel):
    professional = models.ForeignKey(Professional, on_delete=models.PROTECT, related_name="surveys")
    year = models.PositiveSmallIntegerField(_("year"))
    job_satisfaction = score_0_10(verbose_name=_("job satisfaction (0-10)"))
    autonomy = scale_1_5(_("experienced autonomy (1-5)"))
    pride = scale_1_5(_("professional pride (1-5)"))
    competence = scale_1_5(_("competence (1-5)"))
    cooperation = scale_1_5(_("cooperation between organisations (1-5)"))
    history = HistoricalRecords()

    SCALES = ("job_satisfaction", "autonomy", "pride", "competence", "cooperation")

    class Meta:
        verbose_name = _("professional survey")
        verbose_name_plural = _("professional surveys")
        constraints = [
            models.UniqueConstraint(
                fields=["professional", "year"],
                condition=Q(is_deleted=False),
                name="unique_professional_survey_year",
            )
        ]

    def __str__(self) -> str:
        return f"{self.professional_id} {self.year}"
