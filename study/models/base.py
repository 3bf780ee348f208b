"""What every study model shares: audited querysets, soft deletion, pseudonyms, score fields and
the choices used across aggregates (missing-data codes, where a value came from)."""

from __future__ import annotations

import secrets

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

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
