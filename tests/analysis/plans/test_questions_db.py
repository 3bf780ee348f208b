"""Research questions as data: seeded per study from the registry, edited by researchers, read by
the runs."""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from analysis.effects.questions import QUESTIONS, question_from_dict, registry_dicts
from analysis.models import StudyQuestion
from analysis.plans import question_services
from analysis.runs import services
from tests.factories import make_study

pytestmark = pytest.mark.django_db


def test_a_new_study_gets_the_registry_questions(study):
    codes = list(StudyQuestion.objects.filter(study=study).values_list("code", flat=True))
    assert sorted(codes) == sorted(q.code for q in QUESTIONS)
    f1 = StudyQuestion.objects.get(study=study, code="F1-SE")
    assert [o["code"] for o in f1.outcomes] == ["receives_bijstand", "below_low_income"]
    assert [o["primary"] for o in f1.outcomes] == [True, False]


def test_seeding_fills_a_study_without_questions_and_is_idempotent():
    study = make_study()
    StudyQuestion.objects.filter(study=study).delete()
    assert question_services.questions_seed(study=study) == len(QUESTIONS)
    assert question_services.questions_seed(study=study) == 0
    assert StudyQuestion.objects.filter(study=study).count() == len(QUESTIONS)


def test_registry_round_trips_through_dicts():
    for q, d in zip(QUESTIONS, registry_dicts(), strict=True):
        back = question_from_dict(d)
        assert (back.code, back.group, back.text_nl) == (q.code, q.group, q.text_nl)
        assert back.outcomes == q.outcomes


def test_runs_read_the_study_questions_from_the_database(study, researcher, monkeypatch):
    q = StudyQuestion.objects.get(study=study, code="F4")
    question_services.question_update(question=q, user=researcher, data={"active": False})
    f2 = StudyQuestion.objects.get(study=study, code="F2")
    question_services.question_update(
        question=f2,
        user=researcher,
        data={
            "title": "Herhaald beroep?",
            "model": "ppml",
            "outcomes": [{"code": "repeated_care", "kind": "binary", "better": "decrease"}],
        },
    )
    seen = {}

    def capture(family_panel, professional_panel, questions, **kw):
        seen["questions"] = questions
        raise RuntimeError("stop after the questions are read")

    monkeypatch.setattr(services.estimate, "answer_questions", capture)
    with pytest.raises(RuntimeError, match="stop after"):
        services.analysis_compute(study=study, params={})
    by_code = {q.code: q for q in seen["questions"]}
    assert "F4" not in by_code and "F1-SE" in by_code
    assert by_code["F2"].text_nl == "Herhaald beroep?" and by_code["F2"].model == "ppml"


def test_an_unknown_outcome_is_refused_in_plain_words(study, researcher):
    q = StudyQuestion.objects.get(study=study, code="F4")
    with pytest.raises(ValidationError) as exc:
        question_services.question_update(
            question=q, user=researcher, data={"outcomes": [{"code": "happiness"}]}
        )
    assert "outcome 1: code 'happiness' is not a derived outcome" in str(exc.value)
    q.refresh_from_db()
    assert q.outcomes[0]["code"] == "satisfaction"


def test_gemeente_and_coach_cannot_edit_questions(study, gemeente_user, coach, family):
    q = StudyQuestion.objects.get(study=study, code="F4")
    for user in (gemeente_user, coach):
        with pytest.raises(PermissionDenied):
            question_services.question_update(question=q, user=user, data={"active": False})


def test_researcher_edits_a_question_on_the_page(client, study, researcher):
    client.force_login(researcher)
    page = client.get(f"/analysis/studies/{study.pk}/questions/")
    assert page.status_code == 200 and "F1-SE" in page.content.decode()
    q = StudyQuestion.objects.get(study=study, code="F5")
    response = client.post(
        f"/analysis/studies/{study.pk}/questions/{q.pk}/",
        {
            "title": "Kwaliteit van leven",
            "unit": "family",
            "expected_direction": "increase",
            "model": "linear",
            "active": "on",
            "outcomes": json.dumps(
                [
                    {
                        "code": "quality_of_life",
                        "kind": "score",
                        "better": "increase",
                        "primary": False,
                    }
                ]
            ),
        },
    )
    assert response.status_code == 302
    q.refresh_from_db()
    assert q.title == "Kwaliteit van leven" and q.outcomes[0]["primary"] is False
    assert q.primary is False  # the checkbox was left out


def test_bad_json_on_the_page_names_the_field(client, study, researcher):
    client.force_login(researcher)
    q = StudyQuestion.objects.get(study=study, code="F5")
    response = client.post(
        f"/analysis/studies/{study.pk}/questions/{q.pk}/",
        {"title": "x", "unit": "family", "outcomes": "[{"},
    )
    assert response.status_code == 200
    assert "outcomes: not valid JSON" in response.content.decode()


def test_researcher_adds_a_question(client, study, researcher):
    client.force_login(researcher)
    response = client.post(
        f"/analysis/studies/{study.pk}/questions/new/",
        {
            "code": "X1",
            "title": "Nemen de contacturen toe?",
            "unit": "family",
            "expected_direction": "increase",
            "model": "auto",
            "primary": "on",
            "active": "on",
            "outcomes": json.dumps([{"code": "contact_hours"}]),
        },
    )
    assert response.status_code == 302
    outcome = StudyQuestion.objects.get(study=study, code="X1").outcomes[0]
    assert outcome["kind"] == "continuous"
    assert outcome["better"] == "increase"  # the question's expected direction


def test_gemeente_cannot_open_the_question_pages(client, study, gemeente_user):
    client.force_login(gemeente_user)
    assert client.get(f"/analysis/studies/{study.pk}/questions/").status_code == 404
    assert client.get(f"/analysis/studies/{study.pk}/plan/").status_code == 404


def test_the_edit_page_shows_the_outcomes_as_json(client, study, researcher):
    client.force_login(researcher)
    q = StudyQuestion.objects.get(study=study, code="F1-PS")
    page = client.get(f"/analysis/studies/{study.pk}/questions/{q.pk}/").content.decode()
    assert "any_police" in page and "police_offences" in page
    assert client.get(f"/analysis/studies/{study.pk}/questions/new/").status_code == 200


def test_the_questions_page_does_not_seed_on_a_read(client, study, researcher):
    StudyQuestion.objects.filter(study=study).delete()
    client.force_login(researcher)
    page = client.get(f"/analysis/studies/{study.pk}/questions/").content.decode()
    assert not StudyQuestion.objects.filter(study=study).exists()
    assert f"/analysis/studies/{study.pk}/questions/seed/" in page  # offered, as a POST
    response = client.post(f"/analysis/studies/{study.pk}/questions/seed/")
    assert response.status_code == 302
    assert StudyQuestion.objects.filter(study=study).count() == len(QUESTIONS)


def test_only_editors_seed_questions(client, study, gemeente_user):
    StudyQuestion.objects.filter(study=study).delete()
    client.force_login(gemeente_user)
    assert client.post(f"/analysis/studies/{study.pk}/questions/seed/").status_code == 404
    assert client.get(f"/analysis/studies/{study.pk}/questions/seed/").status_code == 405
    assert not StudyQuestion.objects.filter(study=study).exists()


def test_the_questions_page_names_the_registry_indicators_of_each_question(
    client, study, researcher
):
    client.force_login(researcher)
    page = client.get(f"/analysis/studies/{study.pk}/questions/").content.decode()
    row = page[page.index('data-question="F1-UP"') :].split("</tr>")[0]
    assert "child_ots" in row and "child_foster_care_days" in row  # catalogue: F1-UP
    assert "bijstand" not in row
