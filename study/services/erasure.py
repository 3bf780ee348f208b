"""Erasing a withdrawn family's values, where a study needs it: a separate, audited procedure.

A data manager of the study, from a session that passed the second factor, asks for it with a
reason and confirms it twice (typing the family's pseudonym, then confirming what will be
erased); the family must have withdrawn consent in a study whose withdrawal policy excludes
such families ("remove"). Carrying it out, in one transaction:

1. holds the sealer's lock and checks that every history table it rewrites verifies (an
   erasure never re-seals over tampering: a table that does not verify is refused);
2. blanks the family's values in the live rows (indicator values, survey answers, contact
   notes, care workers' names, instrument answers and scores) and in every history row of them;
3. makes the seals of those history tables again from the first seal over an erased row (the
   chain continues as before; row counts do not change, so the counters still match);
4. records the erasure itself (FamilyErasure, with its own history: who, when, why, how many
   rows of each table), which the next seal covers like every other history row.

Only the database's owner may lift the history's append-only guard (PostgreSQL): under the
README's role split the app's role cannot, so the page leaves the request standing and an
operator carries it out with `manage.py erase_family --erasure N` as the owner role (the same
AUDIT_KEY in the environment). On SQLite (the embedded default) the page carries it out at once.

Kept: the rows themselves and their dates, the family's pseudonym, arm, status and waves (they
count in the attrition table), who changed what when, the access log (which holds no values),
and the members' birth years (a required column).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from study import access, audit, bulk_sql
from study.bulk_sql import AuditRewriteRefused
from study.models import (
    CareInvolvement,
    Contact,
    Family,
    FamilyErasure,
    IndicatorValue,
    StudyDataPolicy,
    Wave,
    WaveSurvey,
)
from study.services.common import audited_save

__all__ = ["AuditRewriteRefused", "family_erasure_execute", "family_erasure_request"]

ERASED_REASON = "erased: withdrawn consent"


@dataclass(frozen=True)
class _Target:
    model: Any
    family_field: str  # how the live rows and the history rows name the family (or its waves)
    live: dict
    history: dict


def _targets() -> list[_Target]:
    survey_blank: dict = dict.fromkeys(WaveSurvey.SCORE_FIELDS)
    survey_blank |= {"qol_instrument": "", "missing_codes": {}}
    names = {"organisation": "—", "discipline": "—"}
    return [
        _Target(
            IndicatorValue,
            "wave_id",
            # the live row must keep a value or a code: it is removed, with the reason
            {"value": None, "missing_code": "unknown", "is_deleted": True},
            {"value": None, "missing_code": ""},
        ),
        _Target(WaveSurvey, "wave_id", survey_blank, survey_blank),
        _Target(Contact, "family_id", {"note": ""}, {"note": ""}),
        _Target(
            CareInvolvement,
            "family_id",
            {**names, "organisation_entry": None, "discipline_entry": None},
            {**names, "organisation_entry_id": None, "discipline_entry_id": None},
        ),
    ] + _instrument_targets()


def _instrument_targets() -> list[_Target]:
    """The instruments' administrations (item answers, missing codes, scores), when the app is
    installed (study never imports it: the model is looked up by name)."""
    if "instruments" not in apps.app_configs:
        return []
    blank: dict[str, dict] = {"answers": {}, "missing_codes": {}, "scores": {}}
    return [
        _Target(
            apps.get_model("instruments", "Administration"),
            "wave_id",
            {**blank, "is_deleted": True},
            blank,
        )
    ]


def _history_table(model) -> audit.AuditTable:
    return audit.AuditTable(model.history.model, "history_id")


def _require(user, family: Family, *, second_factor: bool) -> None:
    if not access.has_right(user, family.study, access.Right.DATA_CORRECT):
        raise PermissionDenied(_("Only a data manager of the study erases a family's values."))
    if not second_factor:
        raise PermissionDenied(_("Verify this session with your authenticator first."))


def erasable(family: Family) -> bool:
    """Whether the study's policy allows erasing this family: it withdrew consent, and the
    study excludes withdrawn families ("remove")."""
    policy = StudyDataPolicy.objects.filter(study_id=family.study_id).first()
    return (
        family.status == Family.Status.WITHDRAWN
        and policy is not None
        and policy.withdrawal == StudyDataPolicy.Withdrawal.REMOVE
    )


def erasure_preview(family: Family) -> dict[str, dict[str, int]]:
    """How many live rows and history rows of each table would be erased."""
    wave_ids = list(Wave._base_manager.filter(family=family).values_list("pk", flat=True))
    preview = {}
    for target in _targets():
        ids = wave_ids if target.family_field == "wave_id" else [family.pk]
        lookup = {f"{target.family_field}__in": ids}
        preview[target.model.__name__] = {
            "rows": target.model._base_manager.filter(**lookup).count(),
            "history_rows": target.model.history.filter(**lookup).count(),
        }
    return preview


@transaction.atomic
def family_erasure_request(
    *,
    family: Family,
    reason: str,
    typed_pseudonym: str,
    confirmed: bool,
    user,
    second_factor: bool,
) -> FamilyErasure:
    """Ask for the erasure (a data manager, verified session, reason, both confirmations)."""
    _require(user, family, second_factor=second_factor)
    errors: dict[str, list[str]] = {}
    if not erasable(family):
        errors["reason"] = [
            _(
                "Only a family that withdrew consent, in a study whose policy excludes withdrawn "
                "families, can be erased."
            )
        ]
    if not reason.strip():
        errors.setdefault("reason", []).append(_("Give the reason for the erasure."))
    if typed_pseudonym.strip() != family.pseudonym:
        errors["typed_pseudonym"] = [_("Type the family's pseudonym exactly to confirm.")]
    if not confirmed:
        errors["confirmed"] = [_("Confirm that the erasure cannot be undone.")]
    if errors:
        raise ValidationError(errors)
    pending = FamilyErasure.objects.filter(family=family).first()
    if pending is not None:
        return pending
    erasure = FamilyErasure(family=family, requested_by=user, reason=reason.strip())
    audited_save(erasure, user=user, reason=f"erasure requested: {reason.strip()}")
    return erasure


def _erase_rows(family: Family) -> tuple[dict, dict[str, int]]:
    """Blank the live and history rows; (counts per table, first erased history id per table)."""
    wave_ids = list(Wave._base_manager.filter(family=family).values_list("pk", flat=True))
    erased: dict = {}
    first_ids: dict[str, int] = {}
    for target in _targets():
        ids = wave_ids if target.family_field == "wave_id" else [family.pk]
        lookup = {f"{target.family_field}__in": ids}
        live_blank = dict(target.live)
        if "is_deleted" in live_blank:
            live_blank |= {"deleted_reason": ERASED_REASON, "deleted_at": timezone.now()}
        live = target.model._base_manager.filter(**lookup).update(**live_blank)
        history = target.model.history.filter(**lookup)
        first = history.order_by("history_id").values_list("history_id", flat=True).first()
        rewritten = history.update(**target.history)
        if first is not None:
            first_ids[_history_table(target.model).name] = first
        erased[target.model.__name__] = {"rows": live, "history_rows": rewritten}
    return erased, first_ids


@transaction.atomic
def family_erasure_execute(*, erasure: FamilyErasure, user=None) -> FamilyErasure:
    """Carry out a requested erasure (see the module's steps). Raises AuditRewriteRefused when
    the database's role may not rewrite the history (run it as the owner), ValidationError when
    a table does not verify. Carrying out a done erasure again changes nothing."""
    audit.lock_sealer()
    erasure = FamilyErasure.objects.select_for_update().select_related("family").get(pk=erasure.pk)
    if erasure.status == FamilyErasure.Status.DONE:
        return erasure
    family = erasure.family
    if not erasable(family):
        raise ValidationError(_("This family can no longer be erased (its status changed)."))
    tables = [_history_table(t.model) for t in _targets()]
    problems = [str(p) for table in tables for p in audit.verify_table(table)]
    if problems:
        raise ValidationError(
            _("The history does not verify; nothing was erased: %(problems)s")
            % {"problems": "; ".join(problems[:5])}
        )
    guarded = [t.name for t in tables] + [audit.SEAL_TABLE]
    bulk_sql.audit_append_only_lifted(guarded)
    erased, first_ids = _erase_rows(family)
    resealed = {
        table.name: audit.reseal_from(table, first_ids[table.name])
        for table in tables
        if table.name in first_ids
    }
    bulk_sql.audit_append_only_restored(guarded)
    erasure.status, erasure.done_at = FamilyErasure.Status.DONE, timezone.now()
    erasure.erased, erasure.resealed = erased, resealed
    audited_save(erasure, user=user, reason="erased; the history's seals made again")
    return erasure
