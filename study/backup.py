"""Backup and restore of one study with its audit history intact (JSON bundle).

The bundle holds the study's rows, every history row that belongs to them, the access log of the
study (its events carry their keyed macs: restore with the same AUDIT_KEY, or `verify_audit`
reports them), the catalogue rows they reference and the users involved (by username, with their
groups; password hashes only when asked for: otherwise restored users reset their password). A whole-database backup is `pg_dump` (see the README); this is the unit a
hogeschool archives or moves to another installation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import Group
from django.core import serializers
from django.db import transaction
from django.db.models import Q

from study import models as m

FORMAT_VERSION = 1


def _study_querysets(study: m.Study) -> list[tuple[type, object]]:
    families = m.Family.objects.filter(study=study)
    waves = m.Wave.objects.filter(family__in=families)
    professionals = m.Professional.objects.filter(study=study)
    return [
        (m.Indicator, m.Indicator.objects.filter(Q(study__isnull=True) | Q(study=study))),
        (m.Study, m.Study.objects.filter(pk=study.pk)),
        (m.StudyMembership, m.StudyMembership.objects.filter(study=study)),
        (m.Arm, m.Arm.objects.filter(study=study)),
        (m.ImportBatch, m.ImportBatch.objects.filter(study=study)),
        (m.Family, families),
        # The allocation log (what was revealed); never the concealed rest of a block.
        (m.AllocationRecord, m.AllocationRecord.objects.filter(study=study)),
        (m.Member, m.Member.objects.filter(family__in=families)),
        (m.Wave, waves),
        (m.IndicatorValue, m.IndicatorValue.objects.filter(wave__in=waves)),
        (m.WaveSurvey, m.WaveSurvey.objects.filter(wave__in=waves)),
        (m.CareInvolvement, m.CareInvolvement.objects.filter(family__in=families)),
        (m.CaseloadAssignment, m.CaseloadAssignment.objects.filter(family__in=families)),
        (m.Contact, m.Contact.objects.filter(family__in=families)),
        (m.Professional, professionals),
        (m.ProfessionalSurvey, m.ProfessionalSurvey.objects.filter(professional__in=professionals)),
        (m.AccessEvent, m.AccessEvent.objects.filter(study=study)),
    ]


def _history(model, live_qs):
    history = getattr(model, "history", None)
    if history is None:
        return None
    return history.model.objects.filter(id__in=live_qs.values("id"))


def _users(querysets: Iterable) -> set[int]:
    ids: set[int] = set()
    user_model = get_user_model()
    for qs in querysets:
        for field in qs.model._meta.concrete_fields:
            if field.is_relation and field.related_model is user_model:
                ids.update(v for v in qs.values_list(field.attname, flat=True) if v)
    return ids


def study_backup(
    *, study: m.Study, user=None, detail: str = "backup_study", password_hashes: bool = False
) -> dict:
    """Everything needed to restore the study elsewhere, as a JSON-able dict. The read is
    logged like every read of family data (one event with every family id of the study).
    Users' password hashes only with ``password_hashes``: otherwise a restored user has no
    usable password and sets one through the password reset."""
    from study.access_log import family_read

    family_read(
        None,
        user=user,
        action="backup",
        families=m.Family.objects.filter(study=study),
        study=study,
        detail=detail,
    )
    parts = []
    for model, qs in _study_querysets(study):
        parts.append(qs)
        history = _history(model, qs)
        if history is not None:
            parts.append(history)
    user_ids = _users(parts)
    users = get_user_model().objects.filter(pk__in=user_ids)
    groups = Group.objects.filter(user__in=users).distinct()
    objects = []
    for qs in [groups, users, *parts]:
        rows = json.loads(
            serializers.serialize("json", qs.order_by("pk"), use_natural_foreign_keys=True)
        )
        if qs.model is get_user_model() and not password_hashes:
            for row in rows:
                row["fields"]["password"] = UNUSABLE_PASSWORD_PREFIX
        objects.extend(rows)
    return {
        "format": "effectstudie-backup",
        "version": FORMAT_VERSION,
        "study": study.name,
        "objects": objects,
    }


@transaction.atomic
def study_restore(*, bundle: dict) -> m.Study:
    """Load a bundle into this database; refuses when the study (by name) already exists."""
    if bundle.get("format") != "effectstudie-backup" or bundle.get("version") != FORMAT_VERSION:
        raise ValueError("not an effect-study backup of a supported version")
    if m.Study.objects.filter(name=bundle["study"]).exists():
        raise ValueError(
            f"a study named '{bundle['study']}' exists already; restore into an empty database"
        )
    objects = bundle["objects"]
    for item in objects:
        if item.get("model") == "study.accessevent":
            # Bundles written before the keyed macs carried the old hash chain's fields.
            item.get("fields", {}).pop("hash", None)
            item.get("fields", {}).pop("prev_hash", None)
    payload = json.dumps(objects)
    for obj in serializers.deserialize("json", payload, handle_forward_references=True):
        if not _present(obj.object):
            obj.save()
    return m.Study.objects.get(name=bundle["study"])


def _present(instance) -> bool:
    """Users, groups and catalogue rows that this installation already has are kept as they are."""
    model = type(instance)
    if model is get_user_model():
        return model.objects.filter(username=instance.username).exists()
    if model is Group:
        return Group.objects.filter(name=instance.name).exists()
    if model is m.Indicator:
        return model.objects.filter(pk=instance.pk).exists()
    return False
