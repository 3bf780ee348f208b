"""A study, who works on it (memberships) and its two arms."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from study.models.base import AuditedQuerySet
from study.roles import Role


class Study(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    municipality = models.CharField(_("municipality"), max_length=100)
    municipality_code = models.CharField(
        _("CBS municipality code"),
        max_length=6,
        blank=True,
        help_text=_(
            "The CBS gemeentecode (GMxxxx) of the municipality; the monitor matches on it."
        ),
    )
    description = models.TextField(_("description"), blank=True)
    start_date = models.DateField(_("start date"))
    n_waves = models.PositiveSmallIntegerField(
        _("number of waves after T0"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("T0 at intake plus this many yearly waves (at most T5)."),
    )
    wave_interval_months = models.PositiveSmallIntegerField(_("months between waves"), default=12)
    wave_window_days = models.PositiveSmallIntegerField(
        _("wave window (days either side of the due date)"), default=60
    )
    pre_intake_years = models.PositiveSmallIntegerField(
        _("registry years before intake"), default=2, validators=[MaxValueValidator(5)]
    )
    price_year = models.PositiveSmallIntegerField(_("price year for costs"), default=2014)
    intervention_cap = models.PositiveSmallIntegerField(
        _("enrolment cap intervention arm"), default=40
    )
    comparison_cap = models.PositiveSmallIntegerField(
        _("enrolment cap comparison arm"), null=True, blank=True
    )

    class AllocationMethod(models.TextChoices):
        MATCHED = "matched", _("matched on baseline characteristics (not randomised)")
        RANDOMISED = "randomised", _("randomised (concealed)")

    class Randomisation(models.TextChoices):
        BLOCKS = "blocks", _("permuted blocks of 2, 4 or 6 (per stratum)")
        MINIMISATION = (
            "minimisation",
            _("minimisation over the stratification factors (Pocock-Simon, with a random element)"),
        )

    class EligibilityRule(models.TextChoices):
        MPG = "mpg", _("three core domains and support in each of the two preceding years")
        MVP = "mvp", _("three core domains (chronicity not required)")

    allocation_method = models.CharField(
        _("allocation"),
        max_length=20,
        choices=AllocationMethod.choices,
        default=AllocationMethod.MATCHED,
    )
    #: Randomised studies: how the arm is drawn.
    randomisation = models.CharField(
        _("randomisation method"),
        max_length=20,
        choices=Randomisation.choices,
        default=Randomisation.BLOCKS,
    )
    #: Randomised studies: the baseline characteristics allocation is stratified (or minimised)
    #: by, as `study.allocation.FACTORS` ("" none).
    allocation_strata = models.CharField(
        _("stratify allocation by"),
        max_length=20,
        blank=True,
        choices=[
            ("", _("no stratification")),
            ("wijk", _("district (wijk)")),
            ("household", _("household (one adult, or two or more)")),
            ("wijk,household", _("district and household")),
        ],
    )
    match_variables = models.CharField(
        _("matched on"),
        max_length=300,
        blank=True,
        help_text=_("Matched studies: the baseline characteristics families are matched on."),
    )
    enrolment_target = models.PositiveSmallIntegerField(
        _("enrolment target (both arms together)"),
        null=True,
        blank=True,
        help_text=_(
            "Randomised studies: enrolment stops for both arms when this many families are "
            "enrolled, so a full arm cannot give away the next allocation."
        ),
    )
    eligibility_rule = models.CharField(
        _("eligibility rule"),
        max_length=10,
        choices=EligibilityRule.choices,
        default=EligibilityRule.MPG,
    )
    coach_otp_required = models.BooleanField(
        _("wijkcoaches use two-factor authentication"),
        default=True,
        help_text=_(
            "Wijkcoaches handle family-level data (care involvements, notes): with this on, a "
            "coach of this study logs in with a code from an authenticator app too."
        ),
    )
    contact_notes_for_research = models.BooleanField(
        _("researchers and data managers read contact notes"),
        default=False,
        help_text=_(
            "Contact notes are the coaches' free text. With this on, the study's researchers and "
            "data managers read them, with numbers that pass the BSN check masked; off, they see "
            "that a contact took place but not its note."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()
    objects = AuditedQuerySet.as_manager()

    class Meta:
        verbose_name = _("study")
        verbose_name_plural = _("studies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def wave_indices(self) -> list[int]:
        return list(range(-self.pre_intake_years, self.n_waves + 1))


_membership_generation = 0


def membership_generation() -> int:
    """A number that changes whenever a membership is saved, deleted or changed in bulk in this
    process: `study.access` keeps a user's memberships on the user object for a request and
    reads them again when this number moved (a test, a shell or a task that changes a
    membership and asks again with the same user object)."""
    return _membership_generation


def memberships_changed(**_kwargs) -> None:
    global _membership_generation
    _membership_generation += 1


class MembershipQuerySet(AuditedQuerySet):
    """Bulk changes (which send no save signals) move `membership_generation` too."""

    def update(self, **kwargs):
        try:
            return super().update(**kwargs)
        finally:
            memberships_changed()

    def bulk_create(self, *args, **kwargs):
        try:
            return super().bulk_create(*args, **kwargs)
        finally:
            memberships_changed()

    def delete(self):
        try:
            return super().delete()
        finally:
            memberships_changed()


class StudyMembership(models.Model):
    """Per-study access: which users work on (or read) which study, in which role (what each
    role may do: the rights table of `study.access`)."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    active = models.BooleanField(default=True)
    history = HistoricalRecords()
    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("study role")
        verbose_name_plural = _("study roles")
        constraints = [
            models.UniqueConstraint(fields=["study", "user", "role"], name="unique_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.study} · {self.role}"


post_save.connect(memberships_changed, sender=StudyMembership, dispatch_uid="memberships_saved")
post_delete.connect(memberships_changed, sender=StudyMembership, dispatch_uid="memberships_gone")


class Arm(models.Model):
    class Kind(models.TextChoices):
        INTERVENTION = "intervention", _("intervention group")
        COMPARISON = "comparison", _("comparison group (care as usual)")

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="arms")
    kind = models.CharField(_("arm"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    history = HistoricalRecords()
    objects = AuditedQuerySet.as_manager()

    class Meta:
        verbose_name = _("arm")
        verbose_name_plural = _("arms")
        constraints = [models.UniqueConstraint(fields=["study", "kind"], name="unique_arm_kind")]
        ordering = ["study", "kind"]

    def __str__(self) -> str:
        return self.name or str(self.get_kind_display())

    @property
    def is_intervention(self) -> bool:
        return self.kind == self.Kind.INTERVENTION
