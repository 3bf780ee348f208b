"""Setting up a study seeds its research questions explicitly (no signal does it): new studies,
the demo (`manage.py seed_demo`) and restored backups."""

import json

import pytest
from django.core.management import call_command

from analysis.effects.questions import QUESTIONS
from analysis.models import StudyQuestion
from study.models import Study
from study.services.studies import study_create
from tracker.setup import study_set_up


@pytest.mark.django_db
def test_a_study_set_up_starts_with_the_registry_questions_and_its_two_arms():
    study = study_set_up(name="Hengelo", municipality="Hengelo", start_date="2021-01-01")
    codes = set(StudyQuestion.objects.filter(study=study).values_list("code", flat=True))
    assert codes == {q.code for q in QUESTIONS}
    assert set(study.arms.values_list("kind", flat=True)) == {"intervention", "comparison"}


@pytest.mark.django_db
def test_creating_a_study_through_study_alone_seeds_nothing():
    study = study_create(name="Enschede", municipality="Enschede", start_date="2021-01-01")
    assert not StudyQuestion.objects.filter(study=study).exists()


@pytest.mark.django_db
def test_seed_demo_command_sets_the_demo_up_with_its_questions(capsys):
    call_command("seed_demo", "--seed", "2")
    assert "Created demo study" in capsys.readouterr().out
    study = Study.objects.get()
    assert StudyQuestion.objects.filter(study=study).count() == len(QUESTIONS)
    call_command("seed_demo")
    assert "Already present" in capsys.readouterr().out


# Transactional: flush cannot run inside the test's transaction (see tests/study/test_backup.py).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_restored_study_starts_with_the_registry_questions(family, tmp_path):
    path = tmp_path / "backup.json"
    call_command("backup_study", study_id=family.study_id, output=str(path))
    assert all(
        o["model"] != "analysis.studyquestion" for o in json.loads(path.read_text())["objects"]
    )
    call_command("flush", interactive=False, verbosity=0)
    call_command("backup_study", restore=str(path))
    study = Study.objects.get()
    assert StudyQuestion.objects.filter(study=study).count() == len(QUESTIONS)
