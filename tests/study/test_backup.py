"""A study round-trips through backup and restore with its audit history intact."""

import json

import pytest
from django.core.management import call_command

from study.audit import verify_all
from study.models import AccessEvent, Family, IndicatorValue, Study
from study.services.values import indicator_values_record


# Transactional: flush (TRUNCATE on PostgreSQL) cannot run inside the test's transaction.
# serialized_rollback restores the migration-seeded catalogue and groups for the next tests.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_study_round_trips_with_its_audit_history(family, researcher, tmp_path):
    wave = family.waves.get(index=0)
    indicator_values_record(wave=wave, values={"bijstand": 1}, user=researcher)
    indicator_values_record(wave=wave, values={"bijstand": 2}, user=researcher)
    before = {
        "families": Family.objects.filter(study=family.study).count(),
        "values": list(IndicatorValue.objects.values_list("indicator__code", "value")),
        "history": list(
            IndicatorValue.history.order_by("history_id").values_list(
                "value", "history_user__username"
            )
        ),
    }
    path = tmp_path / "backup.json"
    call_command("backup_study", study_id=family.study_id, output=str(path))
    assert json.loads(path.read_text())["format"] == "effectstudie-backup"

    call_command("flush", interactive=False, verbosity=0)
    assert not Study.objects.exists()

    call_command("backup_study", restore=str(path))
    assert Family.objects.count() == before["families"]
    assert list(IndicatorValue.objects.values_list("indicator__code", "value")) == before["values"]
    history = list(
        IndicatorValue.history.order_by("history_id").values_list("value", "history_user__username")
    )
    assert history == before["history"]
    assert AccessEvent.objects.filter(action="backup").exists(), "the backup's read came along"
    assert verify_all() == [], "restored under the same AUDIT_KEY, the trail verifies"


@pytest.mark.django_db
def test_a_bundle_holds_no_password_hash_unless_asked(family, researcher, tmp_path):
    path = tmp_path / "b.json"
    call_command("backup_study", study_id=family.study_id, output=str(path))
    users = [o for o in json.loads(path.read_text())["objects"] if o["model"] == "auth.user"]
    assert users and all(u["fields"]["password"] == "!" for u in users)
    assert researcher.password not in path.read_text()
    call_command(
        "backup_study", study_id=family.study_id, output=str(path), with_password_hashes=True
    )
    assert researcher.password in path.read_text()
