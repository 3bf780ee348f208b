"""The pre-registered analysis plan: frozen once, revised as new versions with a reason, required
before post-intake data are analysed, followed by runs, deviations listed in the report."""

import re
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.test import APIClient

from analysis.effects import plan as plan_core
from analysis.models import AnalysisPlan, AnalysisRun, StudyQuestion
from analysis.plans import question_services
from analysis.plans.plan_services import (
    analysis_plan_freeze,
    analysis_plan_revise,
    plan_record,
    study_has_post_intake_data,
)
from analysis.reporting.html import report_html
from analysis.runs.services import analysis_run_request
from study.services.waves import wave_complete

pytestmark = pytest.mark.django_db


def _finished(run):
    """Mark a run (left queued: its task was not sent) as done, so the study may start another
    (one run at a time per study)."""
    AnalysisRun.objects.filter(pk=run.pk).update(status=AnalysisRun.Status.FAILED)
    return run


def _complete_first_post_intake_wave(family):
    wave = family.waves.get(index=1)
    wave_complete(wave=wave, on=date(2022, 3, 10))


def test_freeze_writes_version_one_with_the_hash_of_its_content(study, researcher):
    plan = analysis_plan_freeze(study=study, user=researcher)
    assert plan.version == 1 and plan.frozen_by == researcher
    assert plan.sha256 == plan_core.content_hash(plan.content)
    content = plan.content
    assert {"questions", "primary_outcomes", "secondary_outcomes", "covariates"} <= set(content)
    assert (content["design"], content["inference"], content["clustering"]) == (
        "aligned",
        "cr2",
        "family",
    )
    assert content["multiplicity"] == "holm" and "estimator" not in content
    outcomes = {o["code"]: o for q in content["questions"] for o in q["outcomes"]}
    assert (outcomes["receives_bijstand"]["design"], outcomes["receives_bijstand"]["model"]) == (
        "pre_period",
        "lpm",
    )
    assert outcomes["satisfaction"]["design"] == "t0_only"
    assert outcomes["response_hours"]["design"] == "none"
    assert outcomes["job_satisfaction"]["design"] == "calendar"
    assert outcomes["cost_per_family"]["model"] == "ppml"
    assert "receives_bijstand" in content["primary_outcomes"]
    assert "below_low_income" in content["secondary_outcomes"]
    with pytest.raises(ValidationError, match="already frozen"):
        analysis_plan_freeze(study=study, user=researcher)


def test_a_frozen_plan_cannot_be_changed_or_deleted(study, researcher):
    plan = analysis_plan_freeze(study=study, user=researcher)
    plan.content = {"questions": []}
    with pytest.raises(ValidationError):
        plan.save()
    with pytest.raises(ValidationError):
        plan.delete()
    assert AnalysisPlan.objects.get(pk=plan.pk).content["questions"]


def test_revise_needs_a_reason_and_a_change_and_keeps_the_old_version(study, researcher):
    v1 = analysis_plan_freeze(study=study, user=researcher)
    with pytest.raises(ValidationError, match="reason"):
        analysis_plan_revise(study=study, user=researcher, changes={"draws": 9999}, reason=" ")
    with pytest.raises(ValidationError, match="nothing differs"):
        analysis_plan_revise(study=study, user=researcher, changes={}, reason="again")
    with pytest.raises(ValidationError, match="cannot change"):
        analysis_plan_revise(study=study, user=researcher, changes={"pvalue": 1}, reason="x")
    v2 = analysis_plan_revise(
        study=study, user=researcher, changes={"draws": 9999}, reason="wild bootstrap as check"
    )
    assert (v2.version, v2.content["draws"], v2.reason) == (2, 9999, "wild bootstrap as check")
    assert v2.sha256 != v1.sha256
    v1.refresh_from_db()
    assert v1.content["draws"] == 0


def test_revise_takes_the_edited_questions(study, researcher):
    analysis_plan_freeze(study=study, user=researcher)
    q = StudyQuestion.objects.get(study=study, code="F4")
    question_services.question_update(question=q, user=researcher, data={"active": False})
    v2 = analysis_plan_revise(study=study, user=researcher, changes={}, reason="F4 dropped")
    assert "F4" not in {q["code"] for q in v2.content["questions"]}


def test_only_researchers_freeze(study, gemeente_user, coach):
    for user in (gemeente_user, coach, None):
        with pytest.raises(PermissionDenied):
            analysis_plan_freeze(study=study, user=user)


def test_a_run_is_refused_after_intake_data_without_a_frozen_plan(study, family, researcher):
    assert _finished(analysis_run_request(study=study, user=researcher)).pk  # before T1: allowed
    _complete_first_post_intake_wave(family)
    assert study_has_post_intake_data(study)
    with pytest.raises(ValidationError, match="no frozen analysis plan"):
        analysis_run_request(study=study, user=researcher)
    analysis_plan_freeze(study=study, user=researcher)
    assert analysis_run_request(study=study, user=researcher).pk


def test_runs_follow_the_plan_and_record_its_version(study, family, researcher, monkeypatch):
    from tracker import jobs

    monkeypatch.setattr(jobs, "send_now", lambda task_name, *args, **options: None)
    analysis_plan_freeze(study=study, user=researcher, params={"draws": 499, "seed": 7})
    run = _finished(analysis_run_request(study=study, user=researcher))
    assert run.plan.version == 1
    assert (run.params["draws"], run.params["seed"], run.params["plan_version"]) == (499, 7, 1)
    record = plan_record(study=study, params=run.params, version=1)
    assert record["deviations"] == []
    other = analysis_run_request(study=study, user=researcher, params={"inference": "wild"})
    record = plan_record(study=study, params=other.params, version=1)
    assert record["deviations"] == [{"what": "inferentie", "planned": "cr2", "used": "wild"}]


def test_deviations_name_question_and_outcome_changes():
    from analysis.effects.questions import registry_dicts

    questions = registry_dicts()
    content = plan_core.plan_content(questions, {"draws": 0, "seed": 1})
    changed = [dict(q) for q in questions if q["code"] != "F6"]
    f4 = next(q for q in changed if q["code"] == "F4")
    f4["outcomes"] = [{**f4["outcomes"][0], "primary": False}]
    rows = plan_core.deviations(content, changed, {"draws": 0, "seed": 2})
    whats = {r["what"] for r in rows}
    assert whats == {"seed", "vraag F6", "vraag F4: uitkomst satisfaction, primair"}
    assert plan_core.deviations(content, questions, {"draws": 0, "seed": 1}) == []


def test_report_lists_the_plan_and_its_deviations(study):
    run = AnalysisRun(
        pk=1,
        study=study,
        results={
            "questions": [],
            "plan": {
                "version": 3,
                "sha256": "ab" * 32,
                "frozen_at": "2026-01-05T10:00:00+00:00",
                "reason": "",
                "deviations": [{"what": "inferentie", "planned": "cr2", "used": "wild"}],
            },
        },
    )
    html = report_html(run=run, version=1)
    assert "analyseplan versie 3" in html and "ab" * 32 in html
    assert "inferentie" in html and "wild" in html


def test_report_says_when_no_plan_was_registered(study):
    html = report_html(run=AnalysisRun(pk=1, study=study, results={"questions": []}), version=1)
    assert "geen vooraf geregistreerd analyseplan" in html


def test_plan_page_freezes_and_revises(
    client, study, researcher, django_capture_on_commit_callbacks
):
    client.force_login(researcher)
    assert (
        "No analysis plan is frozen yet"
        in client.get(f"/analysis/studies/{study.pk}/plan/").content.decode()
    )
    # Each request queues its job; the job (eager Celery) runs once the request has committed.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/analysis/studies/{study.pk}/plan/freeze/")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/analysis/studies/{study.pk}/plan/revise/", {"draws": "999", "reason": "bootstrap"}
        )
    versions = list(AnalysisPlan.objects.filter(study=study).values_list("version", "reason"))
    assert sorted(versions) == [(1, ""), (2, "bootstrap")]
    page = client.get(f"/analysis/studies/{study.pk}/plan/").content.decode()
    assert AnalysisPlan.objects.get(study=study, version=2).sha256 in page


def test_gemeente_cannot_freeze_on_the_page(client, study, gemeente_user):
    client.force_login(gemeente_user)
    assert client.post(f"/analysis/studies/{study.pk}/plan/freeze/").status_code == 404
    assert not AnalysisPlan.objects.filter(study=study).exists()


def test_plans_api_is_read_only_and_for_researchers(study, researcher, gemeente_user):
    plan = analysis_plan_freeze(study=study, user=researcher)
    api = APIClient()
    api.force_authenticate(researcher)
    rows = api.get(f"/api/analysis-plans/?study={study.pk}").json()["results"]
    assert [(r["version"], r["sha256"]) for r in rows] == [(1, plan.sha256)]
    assert api.post("/api/analysis-plans/", {}, format="json").status_code == 405
    api.force_authenticate(gemeente_user)
    assert api.get("/api/analysis-plans/").json()["results"] == []


def test_api_run_request_without_plan_after_intake_is_a_400(study, family, researcher):
    _complete_first_post_intake_wave(family)
    api = APIClient()
    api.force_authenticate(researcher)
    response = api.post("/api/analysis-runs/", {"study": study.pk}, format="json")
    assert response.status_code == 400
    assert "no frozen analysis plan" in response.content.decode()


def test_pdf_names_the_plan_and_its_deviations(study):
    import pypdfium2
    from django.utils import timezone

    from analysis.reporting.pdf import report_pdf

    run = AnalysisRun(
        pk=1,
        study=study,
        finished_at=timezone.now(),
        results={
            "questions": [],
            "plan": {
                "version": 2,
                "sha256": "cd" * 32,
                "frozen_at": "2026-01-05T10:00:00+00:00",
                "deviations": [{"what": "bootstrap-trekkingen", "planned": 0, "used": 999}],
            },
        },
    )
    pdf = pypdfium2.PdfDocument(report_pdf(run=run, version=1))
    text = re.sub(
        r"\s+", " ", " ".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    )
    pdf.close()
    assert "analyseplan versie 2" in text
    assert "bootstrap-trekkingen: gepland 0, gebruikt 999" in text


def test_run_analysis_command_refuses_without_a_plan_after_intake(study, family):
    from django.core.management import CommandError, call_command

    _complete_first_post_intake_wave(family)
    with pytest.raises(CommandError, match="no frozen analysis plan"):
        call_command("run_analysis", study_id=study.pk, json=True)
    assert not AnalysisRun.objects.filter(study=study).exists()


def test_the_runs_table_names_the_plan_version(client, study, researcher, monkeypatch):
    from tracker import jobs

    monkeypatch.setattr(jobs, "send_now", lambda task_name, *args, **options: None)
    analysis_plan_freeze(study=study, user=researcher)
    analysis_run_request(study=study, user=researcher)
    client.force_login(researcher)
    page = client.get(f"/analysis/studies/{study.pk}/").content.decode()
    assert "Version 1" in page


def _legacy_plan(study, researcher):
    """A plan frozen before design and model were apart: it names the calendar-time TWFE."""
    content = plan_core.plan_content(
        question_services.question_dicts(study=study),
        {"estimator": "twfe", "inference": "cr2", "draws": 0, "seed": 2016},
    )
    content.pop("design")
    return AnalysisPlan.objects.create(
        study=study,
        version=1,
        frozen_by=researcher,
        content=content,
        sha256=plan_core.content_hash(content),
    )


def test_a_frozen_twfe_plan_keeps_the_calendar_design_until_revised_with_a_reason(
    study, family, researcher, monkeypatch
):
    from analysis.effects import designs
    from analysis.runs import services
    from tracker import jobs

    monkeypatch.setattr(jobs, "send_now", lambda task_name, *args, **options: None)
    _legacy_plan(study, researcher)
    run = _finished(analysis_run_request(study=study, user=researcher))
    assert run.params["estimator"] == "twfe"
    assert designs.design_from_params(run.params) == "calendar"
    seen = {}

    def capture(family_panel, professional_panel, questions, **kw):
        seen.update(kw)
        raise RuntimeError("stop")

    monkeypatch.setattr(services.estimate, "answer_questions", capture)
    with pytest.raises(RuntimeError):
        services.analysis_compute(study=study, params=run.params)
    assert (seen["design"], seen["multiplicity"]) == ("calendar", "holm")
    # revising something else keeps the calendar design ...
    v2 = analysis_plan_revise(
        study=study, user=researcher, changes={"seed": 3}, reason="another seed"
    )
    assert v2.content["design"] == "calendar"
    # ... naming the aligned design moves the plan to it
    v3 = analysis_plan_revise(
        study=study,
        user=researcher,
        changes={"design": "aligned"},
        reason="crisis entry: align both arms on their intake",
    )
    assert v3.content["design"] == "aligned" and "estimator" not in v3.content
    run = analysis_run_request(study=study, user=researcher)
    assert designs.design_from_params(run.params) == "aligned"
    with pytest.raises(ValidationError, match="design must be"):
        analysis_plan_revise(study=study, user=researcher, changes={"design": "x"}, reason="r")


def test_the_question_estimator_migration_maps_twfe_to_the_linear_model():
    import importlib

    migration = importlib.import_module("analysis.migrations.0004_question_model")

    class Row:
        def __init__(self, estimator):
            self.estimator, self.model = estimator, None

        def save(self, update_fields):
            pass

    rows = [Row("auto"), Row("twfe"), Row("ppml"), Row("weird")]

    class Apps:
        def get_model(self, app, name):
            return type("M", (), {"objects": type("Q", (), {"all": staticmethod(lambda: rows)})})

    migration.forwards(Apps(), None)
    assert [r.model for r in rows] == ["auto", "linear", "ppml", "auto"]
