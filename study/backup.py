"""Backup and restore of one study with its audit history intact (JSON bundle).

The bundle holds the study's rows, every history row that belongs to them, the access log of the
study (its events carry their keyed macs: restore with the same AUDIT_KEY, or `verify_audit`
reports them), the catalogue rows they reference and the users involved (by username, with their
groups; password hashes only when asked for: otherwise restored users are re-invited to set a
password). A whole-database backup is `pg_dump` (see the README); this is the unit a
hogeschool archives or moves to another installation.

A bundle can be encrypted (`bundle_encrypt`): AES-256-GCM under a key derived by HKDF-SHA256
from `BACKUP_KEY` (the environment, never the database) and a random salt, so a bundle read or
altered without the key is refused as a whole.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import Group
from django.core import serializers
from django.db import connection, transaction
from django.db.models import Q

from study import models as m

FORMAT_VERSION = 1
#: The first bytes of an encrypted bundle (then a 16-byte salt, a 12-byte nonce, the ciphertext).
ENCRYPTED_MAGIC = b"effectstudie-backup/aes-256-gcm/1\n"


def _aead(key: str, salt: bytes) -> AESGCM:
    if not key:
        raise ValueError(
            "no BACKUP_KEY set: an encrypted bundle needs the key from the environment"
        )
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt, info=b"effectstudie-backup"
    ).derive(key.encode("utf-8"))
    return AESGCM(derived)


def bundle_encrypt(bundle: dict, *, key: str) -> bytes:
    """The bundle as JSON, encrypted and authenticated under `key` (the magic is bound in)."""
    salt, nonce = os.urandom(16), os.urandom(12)
    sealed = _aead(key, salt).encrypt(nonce, json.dumps(bundle).encode("utf-8"), ENCRYPTED_MAGIC)
    return ENCRYPTED_MAGIC + salt + nonce + sealed


def is_encrypted(data: bytes) -> bool:
    return data.startswith(ENCRYPTED_MAGIC)


def bundle_decrypt(data: bytes, *, key: str) -> dict:
    """The bundle of `bundle_encrypt`; a wrong key or any altered byte is refused."""
    if not is_encrypted(data):
        raise ValueError("not an encrypted effect-study backup")
    body = data[len(ENCRYPTED_MAGIC) :]
    salt, nonce, sealed = body[:16], body[16:28], body[28:]
    try:
        plain = _aead(key, salt).decrypt(nonce, sealed, ENCRYPTED_MAGIC)
    except InvalidTag:
        raise ValueError(
            "the bundle does not decrypt: wrong BACKUP_KEY, or it was altered"
        ) from None
    return json.loads(plain)


def bundle_load(data: bytes, *, key: str = "") -> dict:
    """A bundle from a file's bytes: encrypted (with `key`) or plain JSON."""
    if is_encrypted(data):
        return bundle_decrypt(data, key=key)
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(
            "not an effect-study backup (neither JSON nor an encrypted bundle)"
        ) from None


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
        (m.MatchingCandidate, m.MatchingCandidate.objects.filter(study=study)),
        (m.Member, m.Member.objects.filter(family__in=families)),
        (m.Wave, waves),
        (m.IndicatorValue, m.IndicatorValue.objects.filter(wave__in=waves)),
        (m.WaveSurvey, m.WaveSurvey.objects.filter(wave__in=waves)),
        (m.CareInvolvement, m.CareInvolvement.objects.filter(family__in=families)),
        (m.CaseloadAssignment, m.CaseloadAssignment.objects.filter(family__in=families)),
        (m.NotesGrant, m.NotesGrant.objects.filter(family__in=families)),
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
        if qs.model is m.AllocationRecord:
            _conceal_open_blocks(study, rows)
        objects.extend(rows)
    return {
        "format": "effectstudie-backup",
        "version": FORMAT_VERSION,
        "study": study.name,
        "objects": objects,
    }


@transaction.atomic
def study_restore(*, bundle: dict, restored_users: list | None = None) -> m.Study:
    """Load a bundle into this database; refuses when the study (by name) already exists. The
    users the bundle brings that this installation did not have are appended to
    `restored_users` (to re-invite them)."""
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
    _sequences_above(objects)
    payload = json.dumps(objects)
    for obj in serializers.deserialize("json", payload, handle_forward_references=True):
        if not _present(obj.object):
            obj.save()
            if restored_users is not None and type(obj.object) is get_user_model():
                restored_users.append(obj.object)
    return m.Study.objects.get(name=bundle["study"])


def _sequences_above(objects: list[dict]) -> None:
    """On PostgreSQL, move each restored table's id sequence past the bundle's ids first: rows
    the restore itself writes (access events of the memberships it creates) then never take an
    id that a bundle row brings, which would turn that row's insert into a refused update of an
    append-only log."""
    if connection.vendor != "postgresql":
        return
    top: dict[str, int] = {}
    for item in objects:
        if isinstance(item.get("pk"), int):
            top[item["model"]] = max(top.get(item["model"], 0), item["pk"])
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for label, highest in top.items():
            meta = apps.get_model(label)._meta
            table, column = meta.db_table, meta.pk.column
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, %s), GREATEST("
                f"(SELECT COALESCE(MAX({quote(column)}), 0) FROM {quote(table)}), %s))",
                [table, column, highest],
            )


def _open_blocks(study: m.Study) -> set[tuple[str, int]]:
    """(stratum, block number) of each stratum's block that still has allocations to come."""
    open_strata = [
        state.stratum
        for state in m.AllocationStratum.objects.filter(study=study).only("stratum", "pending")
        if state.pending
    ]
    out = set()
    for stratum in open_strata:
        last = (
            m.AllocationRecord.objects.filter(study=study, stratum=stratum)
            .order_by("-sequence_number")
            .values_list("block_number", flat=True)
            .first()
        )
        if last is not None:
            out.add((stratum, last))
    return out


def _conceal_open_blocks(study: m.Study, rows: list[dict]) -> None:
    """The bundle leaves out the block and its size of allocations from an open block: the
    size would tell how many allocations remain (the rest of the block is never backed up)."""
    hidden = _open_blocks(study)
    for row in rows:
        fields = row["fields"]
        if (fields.get("stratum"), fields.get("block_number")) in hidden:
            fields["block_number"] = fields["block_size"] = None


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
