"""Analysis runs on the demo study: the documented truth comes out, runs are claimed once,
reports are private and readable (HTML and PDF), and the gemeente sees published reports only."""

import io
import json
import re

import pytest
from django.core.management import call_command
from django.db import transaction

from analysis.models import AnalysisRun, Report
from analysis.plans.plan_services import analysis_plan_freeze
from analysis.runs.report_services import report_publish
from analysis.runs.services import analysis_run_execute, analysis_run_request
from study.demo import DEMO_NULL_OUTCOMES, DEMO_SEED, DEMO_TRUE_EFFECTS
from study.models import Family
from tracker.setup import demo_set_up

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo_run(django_db_setup, django_db_blocker):
    """One demo study and one finished run for the module, rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        study, _ = demo_set_up(seed=DEMO_SEED)
        researcher = study.memberships.get(role="researcher").user
        plan = analysis_plan_freeze(study=study, user=researcher)
        run = AnalysisRun.objects.create(
            study=study, params={"inference": "cr2", "draws": 0, "seed": 1}, plan=plan
        )
        run = analysis_run_execute(run_id=run.pk)
        yield run
        transaction.set_rollback(True)


def _verdicts(run) -> dict[str, str]:
    return {o["code"]: o["verdict"] for q in run.results["questions"] for o in q["outcomes"]}


def test_run_answers_every_research_question(demo_run):
    assert demo_run.status == AnalysisRun.Status.SUCCEEDED, demo_run.error
    codes = {q["code"] for q in demo_run.results["questions"]}
    assert {
        "F1-SE",
        "F1-PS",
        "F1-UP",
        "F2",
        "F3",
        "F4",
        "F5",
        "F6",
        "P1",
        "P2",
        "G1",
        "G2",
        "PR1",
        "PR2",
        "PR3",
        "PR4",
    } <= codes


@pytest.mark.parametrize("outcome", sorted(DEMO_TRUE_EFFECTS))
def test_documented_true_effects_are_shown_as_effects(demo_run, outcome):
    expected = (
        "afgenomen" if DEMO_TRUE_EFFECTS[outcome]["direction"] == "decrease" else "toegenomen"
    )
    assert _verdicts(demo_run)[outcome] == expected
    row = next(
        o for q in demo_run.results["questions"] for o in q["outcomes"] if o["code"] == outcome
    )
    assert row["improved"] is True and row["uncertain_reasons"] == []


@pytest.mark.parametrize("outcome", sorted(DEMO_NULL_OUTCOMES))
def test_null_outcomes_are_not_shown(demo_run, outcome):
    assert _verdicts(demo_run)[outcome] not in ("afgenomen", "toegenomen")


def test_the_run_uses_the_aligned_design_and_one_multiplicity_family(demo_run):
    results = demo_run.results
    assert results["design"] == "aligned"
    assert results["multiplicity"]["primary"]["m"] == 18
    costs = next(
        o for q in results["questions"] for o in q["outcomes"] if o["code"] == "cost_per_family"
    )
    assert costs["model"] == "ppml" and costs["level_unit"] == "euro"
    assert costs["comparison_post_mean"] > 0 and costs["calendar"]["effect"] is not None


def test_the_report_explains_the_design_and_shows_the_calendar_estimate_beside(demo_run):
    html = demo_run.report.html
    assert "Waarom uitlijnen op de intake nodig is" in html
    assert "Kalenderschatting ter vergelijking (bepaalt het oordeel niet)" in html
    assert "terugkeer naar het gemiddelde" in html
    assert "uniforme 95%-band" in html
    assert "geen oordeel (geen meting vóór de start)" in html
    assert "Wat niet getoetst kon worden" in html


def test_f5_is_answered_from_the_demo_mansa_score_labelled_with_its_version(demo_run):
    (f5,) = [q for q in demo_run.results["questions"] if q["code"] == "F5"]
    row = f5["outcomes"][0]
    assert row["code"] == "qol_mansa12" and row["n_units"] == 80
    assert row["effect"] is not None and row["verdict"] == "niet aangetoond"
    assert "MANSA-12 v1" in row["label"] and "MANSA-12 v1" in demo_run.report.html


def test_municipality_questions_say_they_are_not_yet_answered(demo_run):
    g1 = next(q for q in demo_run.results["questions"] if q["code"] == "G1")
    assert g1["outcomes"] == [] and "Nog niet beantwoord" in g1["not_answered_reason"]


def test_a_claimed_run_is_not_executed_twice(demo_run):
    assert analysis_run_execute(run_id=demo_run.pk) is None
    assert Report.objects.filter(run=demo_run).count() == 1


def test_the_fingerprint_is_stable_for_unchanged_data(demo_run):
    again = AnalysisRun.objects.create(study=demo_run.study, params=demo_run.params)
    again = analysis_run_execute(run_id=again.pk)
    assert again.fingerprint == demo_run.fingerprint
    assert _verdicts(again) == _verdicts(demo_run)


def test_report_shows_no_family_and_suppresses_small_counts(demo_run):
    html = demo_run.report.html
    for pseudonym in Family.objects.filter(study=demo_run.study).values_list(
        "pseudonym", flat=True
    ):
        assert pseudonym not in html
    cells = re.findall(r'<td class="num">([^<]*)</td></tr>', html)
    counts = [c.strip() for c in cells if c.strip() and c.strip() != "—"]
    assert counts, "the report prints counts"
    for count in counts:
        if count.isdigit():
            assert int(count) == 0 or int(count) >= 10, f"count {count} should be shown as *"


def test_report_pdf_has_visible_pages(demo_run):
    import pypdfium2

    pdf = pypdfium2.PdfDocument(bytes(demo_run.report.pdf))
    assert len(pdf) >= 1
    image = pdf[0].render(scale=0.5).to_pil().convert("L")
    assert image.getextrema()[0] < 128, "page 1 is blank"


def test_gemeente_sees_only_published_reports(client, demo_run):
    report = demo_run.report
    client.login(username="gemeente", password="demo")
    assert client.get(f"/analysis/reports/{report.pk}/").status_code == 404
    report_publish(report=report, user=demo_run.study.memberships.get(role="researcher").user)
    response = client.get(f"/analysis/reports/{report.pk}/")
    assert response.status_code == 200 and "Effectrapportage" in response.content.decode()


def test_published_report_is_immutable(demo_run):
    from django.core.exceptions import ValidationError

    report = Report.objects.get(run=demo_run)
    Report.objects.filter(pk=report.pk).update(published=True)
    report.refresh_from_db()
    report.html = "changed"
    with pytest.raises(ValidationError):
        report.save()


def test_failed_run_keeps_a_readable_error(demo_run, monkeypatch):
    from analysis.runs import services

    def broken(**kwargs):
        raise ValueError("outcome 'x' has no variation")

    monkeypatch.setattr(services, "analysis_compute", broken)
    run = AnalysisRun.objects.create(study=demo_run.study, params={})
    run = analysis_run_execute(run_id=run.pk)
    assert run.status == AnalysisRun.Status.FAILED
    assert "no variation" in run.error


def test_researcher_starts_a_run_from_the_page(
    client, demo_run, django_capture_on_commit_callbacks, monkeypatch
):
    from analysis.runs import services

    monkeypatch.setattr(services, "analysis_compute", lambda **kw: ({"questions": []}, "f" * 64))
    client.login(username="onderzoeker", password="demo")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/analysis/studies/{demo_run.study_id}/run/")
    assert response.status_code == 302
    run = AnalysisRun.objects.filter(study=demo_run.study).order_by("-pk").first()
    assert run.status == AnalysisRun.Status.SUCCEEDED
    status = client.get(f"/analysis/runs/{run.pk}/status/").json()
    assert status["progress"] == 100


def test_coach_cannot_start_a_run(client, demo_run):
    client.login(username="coach1", password="demo")
    assert client.post(f"/analysis/studies/{demo_run.study_id}/run/").status_code == 404


def test_run_analysis_command_prints_json(demo_run):
    out = io.StringIO()
    call_command(
        "run_analysis", study_id=demo_run.study_id, json=True, diagnostics=False, stdout=out
    )
    data = json.loads(out.getvalue())
    outcome = next(
        o for q in data["questions"] for o in q["outcomes"] if o["outcome"] == "satisfaction"
    )
    assert {"effect", "ci_low", "ci_high", "p_adjusted", "n_families", "verdict"} <= set(outcome)
    # --no-diagnostics: every row still says whether it is primary, but no diagnostics are made
    assert outcome["primary"] is True
    assert all(isinstance(o["primary"], bool) for q in data["questions"] for o in q["outcomes"])
    assert not any("honest" in o for q in data["questions"] for o in q["outcomes"])
    assert data["diagnostics"] == {"computed": False, "reason": "uitgeschakeld voor deze run"}
    assert data["balance"] is None
    assert data["multiplicity"]["primary"]["m"] >= 1


def test_request_refuses_unknown_inference(demo_run):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        analysis_run_request(study=demo_run.study, user=None, params={"inference": "magic"})
