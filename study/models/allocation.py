"""Concealed allocation of randomised studies: the unrevealed rest of each stratum's current
block (never shown anywhere: no page, endpoint, export, backup or admin reads it), and the
allocation log (one row per allocated family, append-only)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from study.models.family import Family
from study.models.study import Study


class AllocationStratum(models.Model):
    """The concealed state of one stratum: the arms still to come in its current block. It has
    no change history on purpose (a history would be a readable copy of the sequence); the
    allocation log records what was revealed."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="+")
    stratum = models.CharField(max_length=100)
    pending = models.JSONField(default=list)
    blocks_drawn = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("allocation stratum")
        verbose_name_plural = _("allocation strata")
        constraints = [
            models.UniqueConstraint(fields=["study", "stratum"], name="unique_allocation_stratum")
        ]

    def __str__(self) -> str:
        return f"stratum {self.stratum!r} of study {self.study_id}"


class AllocationRecordError(Exception):
    """The allocation log is append-only."""


class AllocationRecord(models.Model):
    """One revealed allocation: which family got which arm, in which stratum, as the how-many-th
    of that stratum, when and by whom. Rows are never changed or deleted (on PostgreSQL a
    trigger refuses it too)."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="allocations")
    family = models.OneToOneField(
        Family, on_delete=models.PROTECT, related_name="allocation_record"
    )
    stratum = models.CharField(_("stratum"), max_length=100)
    sequence_number = models.PositiveIntegerField(_("number in its stratum"))
    # The permuted block the allocation was taken from (1, 2, ... within its stratum) and that
    # block's size, for randomisation inference within blocks. Concealed like the stratum's
    # state while the block is open (its size tells how many allocations remain): no page,
    # endpoint, export or admin shows them, and a backup leaves them out for an open block.
    # None under minimisation (no blocks) and for allocations made before blocks were recorded
    # whose block could not be reconstructed.
    block_number = models.PositiveIntegerField(_("block in its stratum"), null=True, blank=True)
    block_size = models.PositiveSmallIntegerField(_("size of its block"), null=True, blank=True)
    arm_kind = models.CharField(_("arm"), max_length=20)
    method = models.CharField(_("method"), max_length=40)
    allocated_at = models.DateTimeField(_("allocated at"), default=timezone.now)
    allocated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["study", "allocated_at", "pk"]
        verbose_name = _("allocation")
        verbose_name_plural = _("allocation log")
        constraints = [
            models.UniqueConstraint(
                fields=["study", "stratum", "sequence_number"], name="unique_allocation_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.family_id}: {self.arm_kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AllocationRecordError("the allocation log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AllocationRecordError("the allocation log is append-only")
