"""Backups (issue 17): a bundle can be encrypted with a key from the environment and restored
with it (a wrong key or an altered byte is refused); restored users, who come without their
password hashes, are re-invited by e-mail to set a password and link an authenticator."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command

from study.backup import ENCRYPTED_MAGIC, bundle_decrypt, bundle_encrypt, study_backup
from study.models import Family, Study
from study.roles import Role
from tests.factories import make_member

KEY = "backup-key-for-tests-only"


def test_an_encrypted_bundle_decrypts_only_with_its_key():
    bundle = {"format": "effectstudie-backup", "objects": [{"pseudonym": "P-1234"}]}
    sealed = bundle_encrypt(bundle, key=KEY)
    assert sealed.startswith(ENCRYPTED_MAGIC) and b"P-1234" not in sealed
    assert bundle_decrypt(sealed, key=KEY) == bundle
    assert bundle_encrypt(bundle, key=KEY) != sealed  # a fresh salt and nonce every time
    with pytest.raises(ValueError, match="wrong BACKUP_KEY"):
        bundle_decrypt(sealed, key="another key")
    altered = bytearray(sealed)
    altered[-5] ^= 1
    with pytest.raises(ValueError, match="altered"):
        bundle_decrypt(bytes(altered), key=KEY)
    with pytest.raises(ValueError, match="BACKUP_KEY"):
        bundle_decrypt(sealed, key="")


@pytest.mark.django_db
def test_encrypt_needs_the_key_from_the_environment(family, settings, tmp_path):
    settings.BACKUP_KEY = ""
    with pytest.raises(CommandError, match="BACKUP_KEY"):
        call_command(
            "backup_study", study_id=family.study_id, output=str(tmp_path / "b"), encrypt=True
        )
    assert not (tmp_path / "b").exists()


# Transactional: flush cannot run inside the test's transaction (see test_backup.py).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_encrypted_backup_restores_and_its_users_are_reinvited(
    family, researcher, settings, tmp_path
):
    settings.BACKUP_KEY = KEY
    study = family.study
    manager = make_member(study, Role.DATA_MANAGER)
    manager.email = "beheer@hogeschool.example"
    manager.save(update_fields=["email"])
    path = tmp_path / "study.bundle"
    call_command("backup_study", study_id=study.pk, output=str(path), encrypt=True)
    data = path.read_bytes()
    assert data.startswith(ENCRYPTED_MAGIC)
    assert family.pseudonym.encode() not in data and b"beheer@" not in data
    assert manager.password.encode() not in data
    name, pseudonym = study.name, family.pseudonym

    call_command("flush", interactive=False, verbosity=0)
    settings.BACKUP_KEY = "not the key"
    with pytest.raises(CommandError, match="wrong BACKUP_KEY"):
        call_command("backup_study", restore=str(path))
    assert not Study.objects.exists()

    settings.BACKUP_KEY = KEY
    mail.outbox.clear()
    call_command("backup_study", restore=str(path))
    assert Study.objects.get(name=name)
    assert Family.objects.get(pseudonym=pseudonym)
    restored = get_user_model().objects.get(username=manager.username)
    assert not restored.has_usable_password()  # no hash came along
    invitations = [m for m in mail.outbox if m.to == ["beheer@hogeschool.example"]]
    assert len(invitations) == 1
    assert (
        "/accounts/reset/" in invitations[0].body and "/accounts/2fa/enrol/" in invitations[0].body
    )


@pytest.mark.django_db
def test_the_bundle_carries_the_notes_grants(family, coach, other_coach, study):
    from django.utils import timezone

    from study.services import care

    coordinator = make_member(study, Role.COORDINATOR)
    care.caseloads_hand_over(
        families=[family], coach=other_coach, on=timezone.localdate(), user=coordinator
    )
    care.notes_grant(family=family, coach=other_coach, reason="nodig", user=coordinator)
    models = {o["model"] for o in study_backup(study=study)["objects"]}
    assert {"study.notesgrant", "study.historicalnotesgrant"} <= models
