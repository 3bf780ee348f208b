"""The candidate pool of a matched study: every family the comparison families were matched
from (selected or not), so the report can show balance before matching beside after it.

A candidate is known by a key that is no BSN: the keyed-hash linkage key of `pseudonymise` (as
the families' `linkage_key`) or an internal id of the municipality's system; the service
refuses a key that holds a BSN."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from study.models.study import Study


class MatchingCandidate(models.Model):
    """One candidate of the pool: its intake year, the matching variables' values (variable ->
    number: household characteristics by the family column's name, registry outcomes by their
    code for the level at T-1), and whether it was selected and into which set."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="matching_candidates")
    candidate_key = models.CharField(
        _("candidate key"), max_length=64, help_text=_("keyed hash or internal id; never a BSN")
    )
    intake_year = models.PositiveSmallIntegerField(_("intake year"))
    values = models.JSONField(_("matching variables"), default=dict)
    selected = models.BooleanField(_("selected"), default=False)
    match_set = models.CharField(_("matched pair or set"), max_length=50, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["study", "candidate_key"]
        verbose_name = _("matching candidate")
        verbose_name_plural = _("matching candidates")
        constraints = [
            models.UniqueConstraint(
                fields=["study", "candidate_key"], name="unique_matching_candidate"
            )
        ]

    def __str__(self) -> str:
        return f"candidate of study {self.study_id}"
