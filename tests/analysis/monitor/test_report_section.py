"""The monitor's section of the effect report: latest PUBLISHED figures of the study's
municipality only, and the answers to the municipal questions G1 and G2."""

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from analysis.monitor.models import MonitorReport
from analysis.monitor.report_section import answer_question, monitor_section

pytestmark = pytest.mark.django_db

TREND = {
    "municipality": "Almelo",
    "per_year": [
        {"year": 2013, "mpg": 190, "mpg_ci_low": 164.0, "mpg_ci_high": 219.0, "total_cost": 1.9e7},
        {"year": 2014, "mpg": 176, "mpg_ci_low": 151.0, "mpg_ci_high": 204.0, "total_cost": 1.7e7},
    ],
    "mpg_trend": {
        "rate_ratio_per_year": 0.926,
        "ci_low": 0.75,
        "ci_high": 1.14,
        "p_value": 0.47,
        "decreasing": False,
    },
    "cost_trend": {
        "rate_ratio_per_year": 0.926,
        "ci_low": 0.75,
        "ci_high": 1.14,
        "p_value": 0.47,
        "decreasing": False,
    },
}


def report(municipality="Almelo", year=2014, published=True, trend=TREND, mpg=176):
    return MonitorReport.objects.create(
        municipality=municipality,
        year=year,
        summary={
            "households_with_child": 8555,
            "mvp": 232,
            "mpg": mpg,
            "mpg_total_cost_eur": mpg * 98_000.0 if mpg != "*" else "*",
        },
        trend=trend,
        cost={"cost_per_mpg_eur": 98_000.0, "source": "cost_engine", "price_year": 2014},
        published_at=timezone.now() if published else None,
    )


def test_no_section_without_a_published_report_of_the_municipality(study):
    report(published=False)
    report(municipality="Borne")
    assert monitor_section(study) is None


def test_section_holds_the_latest_published_figures(study):
    report(year=2013, mpg=190)
    report(year=2015, published=False, mpg=150)
    latest = report(year=2014)
    section = monitor_section(study)
    assert section["report_id"] == latest.pk
    assert section["mpg"] == 176 and section["cost_per_mpg_eur"] == 98_000.0
    assert "176 multiprobleemgezinnen" in section["answers"]["G1"]
    assert "2013: 190" in section["answers"]["G1"]
    assert "factor 0,926" in section["answers"]["G1"]
    assert "niet aantoonbaar afgenomen" in section["answers"]["G1"]
    assert "EUR 98.000 per multiprobleemgezin" in section["answers"]["G2"]
    assert "kostenmodel" in section["answers"]["G2"]


def test_hidden_trend_and_suppressed_count_stay_hidden(study):
    report(trend={"municipality": "Almelo", "mpg": {"2013": "*"}, "trend": "*"}, mpg="*")
    section = monitor_section(study)
    assert section["trend_hidden"] and section["per_year"] == []
    assert "Geen trend getoond" in section["answers"]["G1"]
    assert "in totaal EUR *" in section["answers"]["G2"]
    html = render_to_string("analysis/report/_monitor.html", {"monitor": section})
    assert "Multiprobleemgezinnen (MPG)" in html and ">*<" in html


def test_municipal_questions_take_the_monitor_answer(study):
    report()
    section = monitor_section(study)
    g1 = {"code": "G1", "group": "municipality", "outcomes": [], "not_answered_reason": "Nog niet"}
    f1 = {
        "code": "F1-SE",
        "group": "family",
        "outcomes": [{"code": "x"}],
        "not_answered_reason": "",
    }
    assert answer_question(g1, section)["not_answered_reason"] == section["answers"]["G1"]
    assert answer_question(f1, section) == f1
    assert answer_question(g1, None) == g1


def test_partial_renders_nothing_without_a_section():
    assert render_to_string("analysis/report/_monitor.html", {"monitor": None}).strip() == ""


def test_effect_report_shows_the_section_and_answers_g1_g2(study):
    from types import SimpleNamespace

    from analysis.reporting.context import report_context
    from analysis.reporting.html import report_html

    report()
    questions = [
        {
            "code": code,
            "group": "municipality",
            "text": text,
            "not_answered_reason": "Nog niet beantwoord: vraagt de gemeentelijke monitor.",
            "outcomes": [],
        }
        for code, text in (("G1", "Neemt het aantal MPG af?"), ("G2", "Nemen de kosten af?"))
    ]
    run = SimpleNamespace(
        pk=1,
        study=study,
        results={"questions": questions, "attrition": [], "n_families": 0},
        finished_at=timezone.now(),
        fingerprint="0" * 64,
        code_version="test",
    )
    context = report_context(run=run, version=1)
    assert context["monitor"]["mpg"] == 176
    answered = {q["code"]: q["not_answered_reason"] for q in context["questions"]}
    assert "176 multiprobleemgezinnen" in answered["G1"]
    assert "EUR 98.000 per multiprobleemgezin" in answered["G2"]
    html = report_html(run=run, version=1)
    assert 'id="gemeentelijke-monitor"' in html
    assert "Nog niet beantwoord" not in html


def test_effect_report_without_published_monitor_keeps_not_answered(study):
    from types import SimpleNamespace

    from analysis.reporting.context import report_context

    report(published=False)
    question = {
        "code": "G1",
        "group": "municipality",
        "text": "Neemt het aantal MPG af?",
        "not_answered_reason": "Nog niet beantwoord.",
        "outcomes": [],
    }
    run = SimpleNamespace(pk=1, study=study, results={"questions": [question], "attrition": []})
    context = report_context(run=run, version=1)
    assert context["monitor"] is None
    assert context["questions"][0]["not_answered_reason"] == "Nog niet beantwoord."
