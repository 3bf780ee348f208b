"""Analysis runs and effect reports: the database row of a run is the record of truth."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class AnalysisRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    study = models.ForeignKey("study.Study", on_delete=models.PROTECT, related_name="analysis_runs")
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    progress_note = models.CharField(max_length=200, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Sign of life: set when the run is (re)queued or claimed and with every progress step. A run
    # "running" without one for longer than the time limit has lost its worker (analysis.reconcile).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # host:pid:start-time of the worker process executing the run (empty while queued).
    claimed_by = models.CharField(max_length=200, blank=True)
    fingerprint = models.CharField(_("data fingerprint"), max_length=64, blank=True)
    code_version = models.CharField(max_length=64, blank=True)
    results = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    plan = models.ForeignKey(
        "analysis.AnalysisPlan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="runs",
        verbose_name=_("analysis plan followed"),
    )

    class Meta:
        verbose_name = _("analysis run")
        verbose_name_plural = _("analysis runs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class Report(models.Model):
    """The effect report of a run; immutable once published.

    A published report can be withdrawn with a reason: it then stays, unchanged, and the
    gemeente sees it listed as withdrawn ("ingetrokken") with the date instead of its content.
    Publishing and withdrawing are recorded in ReportPublicationEvent."""

    run = models.OneToOneField(AnalysisRun, on_delete=models.PROTECT, related_name="report")
    study = models.ForeignKey("study.Study", on_delete=models.PROTECT, related_name="reports")
    version = models.PositiveIntegerField()
    html = models.TextField()
    pdf = models.BinaryField(null=True, blank=True)
    #: Why there is no PDF (a typesetting error, naming the field that broke it); the HTML
    #: report is stored all the same.
    pdf_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawal_reason = models.TextField(_("reason for withdrawal"), blank=True)

    class Meta:
        verbose_name = _("effect report")
        verbose_name_plural = _("effect reports")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["study", "version"], name="unique_report_version")
        ]

    def __str__(self) -> str:
        return f"report v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk:
            stored = Report.objects.filter(pk=self.pk).values("published").first()
            if stored and stored["published"]:
                raise ValidationError(_("A published report cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.published:
            raise ValidationError(_("A published report cannot be deleted."))
        return super().delete(*args, **kwargs)

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def live(self) -> bool:
        """Published and not withdrawn: what the gemeente reads."""
        return self.published and not self.withdrawn


class ReportPublicationEvent(models.Model):
    """Append-only record of who published or withdrew which report, when and why."""

    class Action(models.TextChoices):
        PUBLISHED = "published", _("published")
        WITHDRAWN = "withdrawn", _("withdrawn")

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="publication_events")
    action = models.CharField(max_length=20, choices=Action.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)

    class Meta:
        verbose_name = _("report publication event")
        verbose_name_plural = _("report publication events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"report {self.report_id} {self.action} {self.at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValidationError(_("A publication record cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("A publication record cannot be deleted."))


class StudyQuestion(models.Model):
    """A research question of one study, seeded from the code registry (analysis/questions.py)
    and editable by the study's researchers. ``outcomes`` is a list of objects
    ``{code, label, kind, better, primary}`` naming derived panel columns (analysis/derive.py)."""

    class Unit(models.TextChoices):
        FAMILY = "family", _("family")
        PROFESSIONAL = "professional", _("professional")
        MUNICIPALITY = "municipality", _("municipality")
        PROCESS = "process", _("process")

    class Model(models.TextChoices):
        # The model only; the design (aligned on intake, or calendar time) is the plan's and
        # the outcome registry's (analysis/effects/designs.py).
        AUTO = "auto", _("by outcome type (linear; LPM for binary; Poisson PML for counts, costs)")
        LINEAR = "linear", _("linear")
        LPM = "lpm", _("linear probability model (binary outcomes, percentage points)")
        PPML = "ppml", _("Poisson PML (counts and costs, relative change)")

    study = models.ForeignKey("study.Study", on_delete=models.CASCADE, related_name="questions")
    code = models.CharField(_("code"), max_length=20)
    title = models.CharField(_("question"), max_length=300)
    unit = models.CharField(_("unit of analysis"), max_length=20, choices=Unit.choices)
    outcomes = models.JSONField(_("outcomes"), default=list, blank=True)
    expected_direction = models.CharField(
        _("expected direction"),
        max_length=10,
        choices=[("decrease", _("decrease")), ("increase", _("increase"))],
        default="decrease",
    )
    model = models.CharField(_("model"), max_length=10, choices=Model.choices, default=Model.AUTO)
    primary = models.BooleanField(_("primary question"), default=True)
    active = models.BooleanField(_("active"), default=True)
    not_answered_reason = models.CharField(_("why not answered"), max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("research question")
        verbose_name_plural = _("research questions")
        ordering = ["study", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["study", "code"], name="unique_question_code")
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.title}"


class AnalysisPlan(models.Model):
    """A frozen (pre-registered) analysis plan version; immutable once written."""

    study = models.ForeignKey("study.Study", on_delete=models.PROTECT, related_name="plans")
    version = models.PositiveIntegerField()
    frozen_at = models.DateTimeField(auto_now_add=True)
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    content = models.JSONField()
    reason = models.TextField(_("reason for this version"), blank=True)
    sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("analysis plan")
        verbose_name_plural = _("analysis plans")
        ordering = ["study", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["study", "version"], name="unique_plan_version")
        ]

    def __str__(self) -> str:
        return f"plan v{self.version} ({self.sha256[:12]})"

    def save(self, *args, **kwargs):
        if self.pk and AnalysisPlan.objects.filter(pk=self.pk).exists():
            raise ValidationError(
                _("A frozen analysis plan cannot be changed; revise it as a new version.")
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("A frozen analysis plan cannot be deleted."))


class ReportSchedule(models.Model):
    """A periodic draft report: a due schedule starts a run and e-mails the researchers."""

    class Frequency(models.TextChoices):
        QUARTERLY = "quarterly", _("quarterly")
        YEARLY_AFTER_WAVE = "yearly_after_wave", _("yearly, after the wave round closes")

    study = models.ForeignKey("study.Study", on_delete=models.CASCADE, related_name="schedules")
    frequency = models.CharField(_("frequency"), max_length=20, choices=Frequency.choices)
    next_due = models.DateField(_("next due"))
    active = models.BooleanField(_("active"), default=True)
    last_run = models.ForeignKey(
        AnalysisRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("report schedule")
        verbose_name_plural = _("report schedules")
        ordering = ["next_due"]

    def __str__(self) -> str:
        return f"{self.study} {self.frequency} (next {self.next_due})"


class JobState(models.Model):
    """What every job of tracker/jobs.py keeps beside its status: progress, timing, attempts,
    the claim and its heartbeat, and the error it failed with (the plan freeze and typesetting
    jobs; each declares its own statuses)."""

    progress = models.PositiveSmallIntegerField(default=0)
    progress_note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-pk"]


class PlanFreezeJob(JobState):
    """A request to freeze the study's analysis plan (version 1, or a revision with its reason):
    a job of tracker/jobs.py (analysis/plans/job.py). The request records what is to be frozen
    (``content``: the questions and settings at the moment of the request); the job simulates the
    pre-registered MDE of each primary outcome, and only then is the plan version written, with
    its MDEs, in the transaction that marks the job succeeded. Until then no plan is frozen."""

    class Kind(models.TextChoices):
        FREEZE = "freeze", _("freeze")
        REVISE = "revise", _("revision")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    study = models.ForeignKey(
        "study.Study", on_delete=models.PROTECT, related_name="plan_freeze_jobs"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.FREEZE)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: The plan content to freeze, without its MDEs (the job adds them).
    content = models.JSONField(default=dict)
    #: A revision: the version it revises, and whether the power settings changed.
    previous = models.ForeignKey(
        "analysis.AnalysisPlan", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recompute = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    #: The version the job froze (set in the same transaction as its success).
    plan = models.OneToOneField(
        "analysis.AnalysisPlan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="freeze_job",
    )

    class Meta(JobState.Meta):
        verbose_name = _("plan freeze")
        verbose_name_plural = _("plan freezes")

    def __str__(self) -> str:
        return f"plan {self.kind} {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class ReportTypesetJob(JobState):
    """Typesetting a published report's PDF (status "gepubliceerd" on its title page): a job of
    tracker/jobs.py (analysis/runs/job.py). Publishing records the publication at once and
    queues this job; the PDF (or Report.pdf_error) is stored when it finishes, unless the report
    was withdrawn meanwhile (the job is then cancelled and stores nothing)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="typeset_jobs")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)

    class Meta(JobState.Meta):
        verbose_name = _("report typesetting")
        verbose_name_plural = _("report typesettings")

    def __str__(self) -> str:
        return f"typeset report {self.report_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
