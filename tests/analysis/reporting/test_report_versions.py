"""The report on instrument versions and single items (issue 22): an outcome's per-version
estimates under "Per versie geschat", each labelled "<instrument> v<version>" with the break in
plain Dutch; a small segment says why it has no estimate and its counts go through the output
rule; the methods section says that P1-P2 are single items. Both renderings."""

from __future__ import annotations

import pytest
from django.utils import timezone

from analysis.models import AnalysisRun
from analysis.reporting import scan
from analysis.reporting.context import PROFESSIONAL_SINGLE_ITEMS, report_context
from analysis.reporting.html import report_html_from_context
from analysis.reporting.pdf import typst_source

pytestmark = pytest.mark.django_db

BREAK = (
    "Versiebreuk: MANSA-12 v2 is vanaf 2024 gebruikt en niet score-vergelijkbaar verklaard met "
    "v1, dus niet samengevoegd maar apart geschat (gewijzigd: anders geformuleerd: 'Hoe tevreden "
    "bent u over uw leven als geheel?')."
)


def _row(code, label, **extra):
    return {
        "code": code,
        "label": label,
        "kind": "score",
        "better": "increase",
        "primary": True,
        "design": "aligned",
        "outcome_design": "t0_only",
        "model": "linear",
        "estimator": "aligned DiD (gezin + jaar + jaren sinds intake, arm x na intake)",
        "effect": 0.42,
        "ci_low": 0.1,
        "ci_high": 0.74,
        "p": 0.012,
        "p_adjusted": 0.03,
        "scale": "eenheden van de uitkomst",
        "n_units": 120,
        "n_treated": 60,
        "verdict": "toegenomen",
        "improved": True,
        "warnings": [],
        **extra,
    }


def _segment(code, label, n_int, n_comp, **extra):
    return {
        "code": code,
        "label": label,
        "group": 2,
        "break": BREAK,
        "kind": "score",
        "better": "increase",
        "n_intervention": n_int,
        "n_comparison": n_comp,
        "note": "aparte schatting op alleen deze versie, met dezelfde schatter en inferentie als "
        "de hoofdschatting; niet gecorrigeerd voor meervoudig toetsen en zonder eigen oordeel",
        **extra,
    }


def _results(professionals: bool = True):
    estimated = _segment(
        "qol_mansa12__v2",
        "MANSA-12 v2",
        40,
        35,
        effect=0.51,
        ci_low=0.2,
        ci_high=0.82,
        p=0.004,
        scale="eenheden van de uitkomst",
    )
    small = _segment(
        "qol_mansa12__v3",
        "MANSA-12 v3",
        6,
        30,
        effect=None,
        p=None,
        reason="te weinig gezinnen gemeten met deze versie voor een eigen schatting (minder dan "
        "10 per groep)",
    )
    questions = [
        {
            "code": "F5",
            "group": "family",
            "text": "Neemt de ervaren kwaliteit van leven toe?",
            "not_answered_reason": "",
            "outcomes": [
                _row(
                    "qol_mansa12",
                    "kwaliteit van leven: MANSA-12 v1",
                    version_segments=[estimated, small],
                )
            ],
        }
    ]
    if professionals:
        questions.append(
            {
                "code": "P1",
                "group": "professional",
                "text": "Neemt de werktevredenheid van professionals toe?",
                "not_answered_reason": "",
                "outcomes": [
                    _row("job_satisfaction", "werktevredenheid", design="calendar", primary=False)
                ],
            }
        )
    return {
        "questions": questions,
        "attrition": [],
        "n_families": 120,
        "multiplicity": {"primary": {"m": 1, "method": "Holm"}, "secondary": {"m": 1}},
    }


def _rendered(study, tmp_path, **kwargs):
    run = AnalysisRun(
        pk=8, study=study, finished_at=timezone.now(), results=_results(**kwargs), params={}
    )
    context = report_context(run=run, version=1)
    html = report_html_from_context(context)
    return context, html, typst_source(html, tmp_path, title="t", author="a")


def test_each_version_is_reported_with_its_break_and_its_own_estimate(study, tmp_path):
    context, html, source = _rendered(study, tmp_path)
    estimated, small = context["questions"][0]["outcomes"][0]["segments"]
    assert estimated["label"] == "MANSA-12 v2" and estimated["estimated"]
    assert estimated["effect_txt"].startswith("+0,51") and estimated["p_eq"] == "= 0,004"
    assert (estimated["n_intervention"], estimated["n_comparison"]) == ("40", "35")
    assert "Per versie geschat" in html and 'data-segment="qol_mansa12__v2"' in html
    assert "vanaf 2024 gebruikt en niet score-vergelijkbaar verklaard" in html
    assert "p (ongecorrigeerd) = 0,004" in html
    # a small segment: no estimate, the reason, and 6 hidden with 30 beside a shown total
    assert not small["estimated"]
    assert "Geen eigen schatting: te weinig gezinnen gemeten met deze versie" in html
    assert (small["n_intervention"], small["n_comparison"]) == ("*", "*")
    for text in (scan.html_text(html), scan.typst_text(source)):
        assert "MANSA-12 v2" in text and "MANSA-12 v3" in text
        assert scan.untagged_small_integers(text.replace(study.name, "")) == []
    assert scan.bad_counts(scan.html_tagged_counts(html)) == []
    assert sorted(scan.html_tagged_counts(html)) == sorted(scan.typst_tagged_counts(source))


def test_the_methods_section_says_the_professionals_outcomes_are_single_items(study, tmp_path):
    context, html, source = _rendered(study, tmp_path)
    assert context["professional_single_items"] == PROFESSIONAL_SINGLE_ITEMS
    methods = html[html.index('<section id="methode">') : html.index('<section id="privacy">')]
    assert "losse vragen (enkele items), geen gevalideerd instrument" in methods
    assert "P1-P2" in methods
    assert "losse vragen (enkele items)" in scan.typst_text(source)
    without, html_without, _ = _rendered(study, tmp_path, professionals=False)
    assert without["professional_single_items"] == ""
    assert 'id="professional-single-items"' not in html_without
