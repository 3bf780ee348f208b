"""What is recorded in a study: the REDCap-like longitudinal design of arms, families and waves.

Every model that holds study data keeps a full change history (django-simple-history), is soft
deleted with a reason, and is written through `study.services` only.
"""

from __future__ import annotations

import secrets
from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from study.roles import Role, is_data_manager, is_researcher, is_wijkcoach

PSEUDONYM_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud safely


def new_pseudonym() -> str:
    return "G-" + "".join(secrets.choice(PSEUDONYM_ALPHABET) for _ in range(6))


def score_0_10(**kwargs):
    return models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)], **kwargs
    )


def scale_1_5(verbose_name):
    return models.PositiveSmallIntegerField(
        verbose_name,
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )


class AuditedQuerySet(models.QuerySet):
    """`update()` on a model with a change history records one history row per updated row
    (type '~', the request's user when there is one, reason "bulk update"), so bulk changes made
    with `QuerySet.update()` or `bulk_update()` are audited like every other change."""

    def update(self, **kwargs):
        history = getattr(self.model, "history", None)
        if history is None:
            return super().update(**kwargs)
        with transaction.atomic(using=self.db):
            pks = list(self.values_list("pk", flat=True))
            count = super().update(**kwargs)
            if pks:
                rows = list(self.model._base_manager.using(self.db).filter(pk__in=pks))
                request = getattr(HistoricalRecords.context, "request", None)
                user = getattr(request, "user", None)
                history.bulk_history_create(
                    rows,
                    update=True,
                    default_user=user if getattr(user, "is_authenticated", False) else None,
                    default_change_reason="bulk update",
                )
        return count


class SoftDeleteQuerySet(AuditedQuerySet):
    def alive(self):
        return self.filter(is_deleted=False)


class SoftDeleteModel(models.Model):
    is_deleted = models.BooleanField(_("deleted"), default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_reason = models.CharField(_("reason for deletion"), max_length=300, blank=True)

    objects = SoftDeleteQuerySet.as_manager()

    class Meta:
        abstract = True


class Study(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    municipality = models.CharField(_("municipality"), max_length=100)
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


class StudyMembership(models.Model):
    """Per-study access: which users work on (or read) which study, in which role."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    active = models.BooleanField(default=True)
    history = HistoricalRecords()
    objects = AuditedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "user", "role"], name="unique_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.study} · {self.role}"


class Arm(models.Model):
    class Kind(models.TextChoices):
        INTERVENTION = "intervention", _("intervention group")
        COMPARISON = "comparison", _("comparison group (care as usual)")

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="arms")
    kind = models.CharField(_("arm"), max_length=20, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=300, blank=True)
    history = HistoricalRecords()
    objects = AuditedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "kind"], name="unique_arm_kind")]
        ordering = ["study", "kind"]

    def __str__(self) -> str:
        return str(self.get_kind_display())

    @property
    def is_intervention(self) -> bool:
        return self.kind == self.Kind.INTERVENTION


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


class FamilyQuerySet(SoftDeleteQuerySet):
    def on_caseload_of(self, user, *, on: date | None = None):
        """Families on a wijkcoach's own caseload today: the ones they may log contacts and care
        workers for (a subset of visible_to for that coach)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if not is_wijkcoach(user):
            return self.none()
        caseload = CaseloadAssignment.objects.active_on(on or timezone.localdate()).filter(
            coach=user
        )
        return self.alive().filter(pk__in=caseload.values("family_id"))

    def caseload_has(self, user, family_id: int, *, on: date | None = None) -> bool:
        """Whether a live family is on the wijkcoach's own caseload today: the same rule as
        on_caseload_of, asked as one cheap EXISTS (contact logging is the API's hot path)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return False
        if not is_wijkcoach(user):
            return False
        # Plain SQL: the ORM spends longer compiling this than the database answering it.
        qn = connection.ops.quote_name
        day = connection.ops.adapt_datefield_value(on or timezone.localdate())
        sql = (
            f"SELECT 1 FROM {qn(CaseloadAssignment._meta.db_table)} a "
            f"JOIN {qn(Family._meta.db_table)} f ON f.{qn('id')} = a.{qn('family_id')} "
            f"WHERE a.{qn('coach_id')} = %s AND a.{qn('family_id')} = %s "
            f"AND NOT f.{qn('is_deleted')} AND a.{qn('start_date')} <= %s "
            f"AND (a.{qn('end_date')} IS NULL OR a.{qn('end_date')} >= %s) LIMIT 1"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [user.pk, int(family_id), day, day])
            return cursor.fetchone() is not None

    def visible_to(self, user, *, on: date | None = None):
        """The one access rule for families, used by every page, endpoint and export.

        data manager: every family; researcher: families of their studies; wijkcoach: families on
        their caseload today; gemeente and anonymous users: none (they read aggregates only).
        """
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        qs = self.alive()
        if is_data_manager(user):
            return qs
        on = on or timezone.localdate()
        conditions: list[Q] = []
        if is_researcher(user):
            conditions.append(
                Q(
                    study__memberships__user=user,
                    study__memberships__role=Role.RESEARCHER,
                    study__memberships__active=True,
                )
            )
        if is_wijkcoach(user):
            caseload = CaseloadAssignment.objects.active_on(on).filter(coach=user)
            conditions.append(Q(pk__in=caseload.values("family_id")))
        if not conditions:
            return self.none()
        condition = conditions[0]
        for extra in conditions[1:]:
            condition |= extra
        return qs.filter(condition).distinct()


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
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = FamilyQuerySet.as_manager()

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
        ordering = ["family", "role", "birth_year"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} ({self.birth_year})"


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
        ordering = ["family", "index"]
        constraints = [
            models.UniqueConstraint(fields=["family", "index"], name="unique_wave_index")
        ]

    def __str__(self) -> str:
        return f"{self.family.pseudonym} {self.label}"

    @property
    def label(self) -> str:
        return f"T{self.index}"

    @property
    def is_pre_intake(self) -> bool:
        return self.index < 0

    def status_on(self, day: date) -> str:
        """The status as the dashboard shows it on a given day (due/overdue are derived)."""
        if self.status in (self.Status.COMPLETED, self.Status.MISSED, self.Status.REGISTRY):
            return self.status
        if self.window_end and day > self.window_end:
            return self.Status.OVERDUE
        if self.window_start and day >= self.window_start:
            return self.Status.DUE
        return self.Status.PLANNED


class MissingCode(models.TextChoices):
    """Why a value is missing, kept apart from zero (as REDCap's missing-data codes)."""

    UNKNOWN = "unknown", _("unknown")
    REFUSED = "refused", _("refused")
    NOT_APPLICABLE = "not_applicable", _("not applicable")
    NOT_DELIVERED = "not_delivered", _("not delivered by the registry")


class Source(models.TextChoices):
    MANUAL = "manual", _("manual entry")
    IMPORT = "import", _("registry import")
    API = "api", _("API")
    DEMO = "demo", _("demo seed")


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
    history = HistoricalRecords()

    class Meta:
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

    def __str__(self) -> str:
        return f"survey {self.wave_id}"


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

    def overlaps(self, start: date, end: date) -> bool:
        return self.start_date <= end and (self.end_date is None or self.end_date >= start)


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
        ordering = ["family", "start_date"]

    def __str__(self) -> str:
        return f"{self.coach} → {self.family_id}"


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
    history = HistoricalRecords()

    class Meta:
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
        constraints = [
            models.UniqueConstraint(
                fields=["professional", "year"],
                condition=Q(is_deleted=False),
                name="unique_professional_survey_year",
            )
        ]

    def __str__(self) -> str:
        return f"{self.professional_id} {self.year}"


class ImportBatch(models.Model):
    """One registry file import: upload, dry run (every problem by row and column), then an
    all-or-nothing apply. The row is the record of truth for the Celery jobs that do the work."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting to be checked")
        VALIDATING = "validating", _("checking")
        VALIDATED = "validated", _("checked (dry run)")
        FAILED = "failed", _("refused")
        APPLYING = "applying", _("importing")
        APPLIED = "applied", _("imported")

    class Layout(models.TextChoices):
        AUTO = "auto", _("detect from the header")
        LONG = "long", _("long: one row per family, year and indicator")
        WIDE = "wide", _("wide: one column per indicator")

    FINISHED = {Status.VALIDATED, Status.FAILED, Status.APPLIED}

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="imports")
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(default=0)
    content = models.BinaryField(editable=False, default=bytes)
    layout = models.CharField(max_length=10, choices=Layout.choices, default=Layout.AUTO)
    fmt = models.CharField(max_length=10, blank=True)
    key_kind = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    progress = models.PositiveSmallIntegerField(default=0)
    progress_note = models.CharField(max_length=200, blank=True)
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    preview = models.JSONField(default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Last sign of life of the job working on it (see import_services.import_reconcile).
    heartbeat_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class AccessEvent(models.Model):
    """A read of personal data (NEN 7513): who looked at which family or exported what."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    role = models.CharField(max_length=40, blank=True)
    action = models.CharField(max_length=40)
    study = models.ForeignKey(
        Study, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pseudonym = models.CharField(max_length=20, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    detail = models.CharField(max_length=300, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class AuditSeal(models.Model):
    """A chained SHA-256 over a range of history rows of one table (see study/audit.py)."""

    at = models.DateTimeField(default=timezone.now)
    table = models.CharField(max_length=100)
    first_history_id = models.BigIntegerField()
    last_history_id = models.BigIntegerField()
    row_count = models.PositiveIntegerField()
    prev_digest = models.CharField(max_length=64)
    digest = models.CharField(max_length=64)

    class Meta:
        ordering = ["table", "first_history_id"]

    def __str__(self) -> str:
        return f"{self.table} {self.first_history_id}-{self.last_history_id}"
