"""Families, their members and the wijkcoach caseloads (who may see which family: `study.access`)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from study.models.base import AuditedQuerySet, SoftDeleteModel, SoftDeleteQuerySet, new_pseudonym
from study.models.entry import StudyDataPolicy
from study.models.study import Arm, Study


class FamilyQuerySet(SoftDeleteQuerySet):
    """Families; which of them a user may see is the rule of `study.access`.

    `alive()` also leaves out the families that withdrew consent in a study whose data policy
    excludes them ("remove"): so no page, API list, caseload, export or analysis, all of which
    start from live families, includes them. Their rows and history stay in the database.
    """

    def alive(self):
        # withdrawn_removed() without a second read of the families: NOT (withdrawn AND the
        # study's policy removes them), the policy a subquery of one small table
        removing = StudyDataPolicy.objects.filter(
            withdrawal=StudyDataPolicy.Withdrawal.REMOVE
        ).values("study_id")
        return super().alive().exclude(status=Family.Status.WITHDRAWN, study__in=removing)

    def withdrawn_removed(self):
        """Families withdrawn under the "remove" policy (for attrition counts and erasure)."""
        return self.model._base_manager.filter(
            is_deleted=False, status="withdrawn", study__data_policy__withdrawal="remove"
        )


class Family(SoftDeleteModel):
    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        COMPLETED = "completed", _("completed follow-up")
        DROPPED_OUT = "dropped_out", _("dropped out")
        MOVED_AWAY = "moved_away", _("moved away")
        DECEASED = "deceased", _("deceased")
        WITHDRAWN = "withdrawn", _("withdrew consent")

    class Allocation(models.TextChoices):
        MATCHED = "matched", _("matched on baseline characteristics")
        RANDOMISED = "randomised", _("randomised")
        ASSIGNED = "assigned", _("assigned")

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="families")
    pseudonym = models.CharField(_("pseudonym"), max_length=20, unique=True, default=new_pseudonym)
    arm = models.ForeignKey(Arm, on_delete=models.PROTECT, related_name="families")
    wijk = models.CharField(_("district (wijk)"), max_length=100, blank=True)
    intake_date = models.DateField(_("intake date"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    status_date = models.DateField(_("status date"), null=True, blank=True)
    status_reason = models.CharField(_("status reason"), max_length=300, blank=True)
    allocation = models.CharField(_("allocation"), max_length=20, choices=Allocation.choices)
    allocation_date = models.DateField(_("allocation date"))
    allocated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    linkage_key = models.CharField(
        _("linkage key"), max_length=64, blank=True, help_text=_("keyed hash; never a BSN")
    )
    # Eligibility at intake: the three MPG core domains and chronicity (domain brief).
    elig_socio_economic = models.BooleanField(_("socio-economic problems"), default=False)
    elig_adult_psychosocial = models.BooleanField(
        _("psychosocial problems of an adult"), default=False
    )
    elig_child_psychosocial = models.BooleanField(
        _("psychosocial problems of a child"), default=False
    )
    elig_chronic = models.BooleanField(
        _("support in each of the two preceding years"), default=False
    )
    match_set = models.CharField(
        _("matched pair or set"),
        max_length=50,
        blank=True,
        help_text=_("Matched studies: the pair or set this family was matched in (e.g. P-07)."),
    )
    eligibility_override_reason = models.CharField(
        _("reason for enrolling despite the recorded indicators"),
        max_length=500,
        blank=True,
        help_text=_(
            "Filled only when a researcher enrolled the family on the case file although the "
            "recorded indicators do not show eligibility; the report counts these families."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects: ClassVar[models.Manager[Family]] = FamilyQuerySet.as_manager()

    class Meta:
        verbose_name = _("family")
        verbose_name_plural = _("families")
        ordering = ["study", "pseudonym"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "linkage_key"],
                condition=~Q(linkage_key=""),
                name="unique_linkage_key_per_study",
            )
        ]

    def __str__(self) -> str:
        return self.pseudonym

    @property
    def is_mvp(self) -> bool:
        return (
            self.elig_socio_economic
            and self.elig_adult_psychosocial
            and self.elig_child_psychosocial
        )

    @property
    def is_mpg(self) -> bool:
        return self.is_mvp and self.elig_chronic

    @property
    def intake_year(self) -> int:
        return self.intake_date.year


class Member(SoftDeleteModel):
    class Role(models.TextChoices):
        ADULT = "adult", _("adult")
        CHILD = "child", _("child")

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="members")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    relation = models.CharField(_("relation"), max_length=40, blank=True)
    birth_year = models.PositiveSmallIntegerField(
        _("birth year"), validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("family member")
        verbose_name_plural = _("family members")
        ordering = ["family", "role", "birth_year"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} ({self.birth_year})"


class CaseloadQuerySet(AuditedQuerySet):
    def active_on(self, day: date):
        return self.filter(start_date__lte=day).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=day)
        )


class CaseloadAssignment(models.Model):
    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="assignments")
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="caseload"
    )
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"), null=True, blank=True)
    history = HistoricalRecords()

    objects = CaseloadQuerySet.as_manager()

    class Meta:
        verbose_name = _("caseload assignment")
        verbose_name_plural = _("caseload assignments")
        ordering = ["family", "start_date"]

    def __str__(self) -> str:
        return f"{self.coach} → {self.family_id}"


class NotesGrant(models.Model):
    """The study's coordinator lets a family's coach read the contact notes other coaches wrote
    (after a caseload hand-over: the notes of the family's earlier coaches). Valid only while the
    family is on that coach's caseload; audited (history), never deleted."""

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="notes_grants")
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notes_grants"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    reason = models.CharField(_("reason"), max_length=300)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("grant of earlier notes")
        verbose_name_plural = _("grants of earlier notes")
        ordering = ["family", "granted_at"]
        constraints = [
            models.UniqueConstraint(fields=["family", "coach"], name="unique_notes_grant")
        ]

    def __str__(self) -> str:
        return f"notes of {self.family_id} for {self.coach_id}"
