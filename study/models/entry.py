"""How a study wants its data entered (missing-data reasons, soft limits, the withdrawal
policy) and the idempotency records that make a repeated submit return the first result."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from study.models.study import Study


class StudyDataPolicy(models.Model):
    """A study's data-entry rules; a study without a row uses the defaults below."""

    class Withdrawal(models.TextChoices):
        # nl: gegevens tot de intrekking bewaren
        KEEP = "keep", _("keep data up to the withdrawal")
        # nl: gezin uitsluiten van exports en analyses
        REMOVE = "remove", _("exclude the family from exports and analyses")

    study = models.OneToOneField(Study, on_delete=models.CASCADE, related_name="data_policy")
    require_missing_reason = models.BooleanField(
        _("a cleared value needs a missing-data reason"),
        default=False,
        help_text=_("With this on, emptying a field asks why the value is missing instead."),
    )
    soft_limit_percentile = models.PositiveSmallIntegerField(
        _("soft limit (percentile of the study so far)"), default=99
    )
    soft_limit_min_values = models.PositiveIntegerField(
        _("values needed before the soft limit applies"), default=20
    )
    withdrawal = models.CharField(
        _("withdrawn consent"), max_length=10, choices=Withdrawal.choices, default=Withdrawal.KEEP
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("data policy")
        verbose_name_plural = _("data policies")

    def __str__(self) -> str:
        return f"data policy of {self.study_id}"


class IdempotencyRecord(models.Model):
    """The first answer to a write sent with an `Idempotency-Key` header or a form token: the same
    key again (same person, same endpoint) gets this answer back instead of a second write."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    scope = models.CharField(max_length=60)
    request_hash = models.CharField(max_length=64, blank=True)
    status_code = models.PositiveSmallIntegerField(default=0)
    body = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("sent form")
        verbose_name_plural = _("sent forms")
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="unique_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
