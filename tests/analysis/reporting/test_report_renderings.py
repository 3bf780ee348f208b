"""The effect report's two renderings of a deliberately small study: the output rule holds in
both (tagged counts, the protection interval, rounded counts, numbers out of warnings, event
points under 10 families left out), and any text in any user field typesets safely."""

import re

import numpy as np
import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.effects.disclosure import PROTECTION_WIDTH, _constraints, exact_intervals
from analysis.models import AnalysisRun, Report
from analysis.reporting import pdf as pdf_module
from analysis.reporting import scan
from analysis.reporting.context import report_context
from analysis.reporting.html import report_html_from_context
from analysis.reporting.pdf import ReportRenderError, lit, report_pdf_from_context, typst_source

pytestmark = pytest.mark.django_db


def _outcome(code, label, n_units, n_treated, **extra):
    return {
        "code": code,
        "label": label,
        "kind": "binary",
        "primary": True,
        "design": "aligned",
        "outcome_design": "pre_period",
        "model": "lpm",
        "estimator": "aligned DiD (gezin + jaar + jaren sinds intake, arm x na intake)",
        "effect": -12.5,
        "ci_low": -30.0,
        "ci_high": 5.0,
        "p_adjusted": 0.2,
        "scale": "procentpunten",
        "n_units": n_units,
        "n_treated": n_treated,
        "verdict": "niet aangetoond",
        "improved": None,
        "warnings": [],
        **extra,
    }


def small_results(text="Vraag"):
    """A small study whose raw counts would give families away by differencing: the attrition
    row 38 | 1 | 1 | 40, one outcome on 80/40 families beside one on 79/39, a warning with a
    count in it, an event-study year on 5 families."""
    event = [
        {"e": -2, "att": 1.0, "ci_low": -5.0, "ci_high": 7.0, "n_intervention": 30},
        {"e": 0, "att": 0.5, "ci_low": -5.0, "ci_high": 6.0, "n_intervention": 30},
        {"e": 1, "att": -3.0, "ci_low": -9.0, "ci_high": 3.0, "n_intervention": 30},
        {"e": 4, "att": -8.0, "ci_low": -20.0, "ci_high": 4.0, "n_intervention": 5},
    ]
    return {
        "questions": [
            {
                "code": "F1",
                "group": "family",
                "text": text,
                "not_answered_reason": "",
                "outcomes": [
                    _outcome("receives_bijstand", "bijstand", 80, 40),
                    _outcome(
                        "police_offences",
                        "delicten",
                        79,
                        39,
                        warnings=[
                            "1 unit(s) with only zeros carry no information and are left out"
                        ],
                        event_study={"event": event, "pretest_p": 0.4},
                    ),
                ],
            }
        ],
        "attrition": [
            {"arm": "comparison", "status": "active", "n": 38},
            {"arm": "comparison", "status": "dropped_out", "n": 1},
            {"arm": "comparison", "status": "moved_away", "n": 1},
            {"arm": "intervention", "status": "active", "n": 33},
            {"arm": "intervention", "status": "dropped_out", "n": 4},
            {"arm": "intervention", "status": "moved_away", "n": 3},
        ],
        "eligibility_overrides": [{"arm": "intervention", "n": 2}],
        "dose": [
            {"arm": "intervention", "families": 7, "contacts_per_year": 3.0, "hours_per_year": 2.0}
        ],
        "mde": [{"outcome": "receives_bijstand", "mde": 0.21}],
        "n_families": 80,
        "multiplicity": {"primary": {"m": 2, "method": "Holm"}, "secondary": {"m": 0}},
    }


def small_run(study, text="Vraag"):
    return AnalysisRun(
        pk=7, study=study, finished_at=timezone.now(), results=small_results(text), params={}
    )


@pytest.fixture
def rendered(study, tmp_path):
    context = report_context(run=small_run(study), version=1)
    html = report_html_from_context(context)
    return context, html, typst_source(html, tmp_path, title="t", author="a")


def _attrition_cells(html):
    table = re.search(r'<table class="attrition".*?</table>', html, re.S).group(0)
    rows = []
    for row in re.findall(r"<tr data-arm=.*?</tr>", table, re.S):
        rows.append(re.findall(r'<td class="num"[^>]*>\s*<span data-count="([^"]*)"', row))
    return rows


def test_differencing_the_attrition_table_reveals_no_count(rendered):
    """Comparison row 38 | 1 | 1 | 40: hiding the two 1s alone would pin both (40 - 38 = 2). The
    reader's best attack, linear programming over every row and column with their totals,
    leaves each hidden cell a range at least 10 wide."""
    _, html, _ = rendered
    rows = _attrition_cells(html)
    assert len(rows) == 3 and all(len(r) == 4 for r in rows)  # 2 arms + total; 3 statuses + total
    assert rows[0][0] == "*", "38 must be hidden beside its two hidden 1s"
    flat = [v for row in rows for v in row]
    hidden = np.array([v == "*" for v in flat])
    shown = np.array([0 if v == "*" else int(v.replace(".", "")) for v in flat])
    lo, hi = exact_intervals(shown, hidden, _constraints(2, 3, True, True))
    assert (hi - lo)[hidden].min() >= PROTECTION_WIDTH - 1e-6


def test_outcome_counts_cannot_be_subtracted(rendered, study):
    context, html, _ = rendered
    a, b = context["questions"][0]["outcomes"]
    assert (a["n_families_shown"], a["n_treated_shown"]) == ("80", "40")
    assert (b["n_families_shown"], b["n_treated_shown"]) == ("80", "40")  # 79/39 rounded
    # The study's name (a factory counter in the tests) may hold any number: left out.
    text = scan.html_text(html).replace(study.name, "")
    assert not re.search(r"\b(79|39)\b", text)


def test_warnings_lose_their_numbers_and_english(rendered):
    context, html, _ = rendered
    warnings = context["questions"][0]["outcomes"][1]["warnings"]
    assert warnings and not re.search(r"\d", " ".join(warnings))
    assert "unit(s)" not in html


def test_event_points_on_fewer_than_ten_families_are_left_out(rendered):
    context, html, _ = rendered
    outcome = context["questions"][0]["outcomes"][1]
    assert outcome["event_left_out"] and outcome["event_png"]
    assert "Jaren op minder dan 10 gezinnen zijn weggelaten" in html


def test_small_study_passes_the_scan_in_both_renderings(rendered):
    _, html, source = rendered
    for counts, text in (
        (scan.html_tagged_counts(html), scan.html_text(html)),
        (scan.typst_tagged_counts(source), scan.typst_text(source)),
    ):
        assert counts and scan.bad_counts(counts) == []
        assert scan.untagged_small_integers(text) == []
        assert scan.code_names(text) == []
        assert scan.english_words(text) == []
    assert sorted(scan.html_tagged_counts(html)) == sorted(scan.typst_tagged_counts(source))


def test_override_families_are_counted_in_the_population_section(rendered):
    _, html, _ = rendered
    part = re.search(r'data-part="overrides">(.*?)</p>', html, re.S).group(1)
    assert "uitzondering op de toelatingsregel" in part and 'data-count="*"' in part


def test_a_typesetting_error_stores_the_html_and_names_the_field(study, monkeypatch):
    """The PDF fails, the HTML report is stored, the error says which field broke it."""
    import typst

    from analysis.runs.report_services import report_render

    real = typst.compile

    def fussy(path, **kwargs):
        if "BREAK" in open(path, encoding="utf-8").read():
            raise typst.TypstError("unclosed delimiter")
        return real(path, **kwargs)

    monkeypatch.setattr(typst, "compile", fussy)
    run = small_run(study)
    run.results["questions"][0]["outcomes"][1]["label"] = "delicten BREAK"
    run.pk = None
    run.status = AnalysisRun.Status.SUCCEEDED
    run.save()
    report = report_render(run=run)
    stored = Report.objects.get(pk=report.pk)
    assert stored.html and "delicten BREAK" in stored.html
    assert stored.pdf is None
    assert "outcome police_offences: label" in stored.pdf_error


def test_render_error_names_the_field(study, monkeypatch):
    import typst

    def broken(path, **kwargs):
        if "Kapot" in open(path, encoding="utf-8").read():
            raise typst.TypstError("boom")
        return b"%PDF"

    monkeypatch.setattr(typst, "compile", broken)
    context = report_context(run=small_run(study, text="Kapot"), version=1)
    with pytest.raises(ReportRenderError) as err:
        report_pdf_from_context(context, report_html_from_context(context))
    assert err.value.field == "question F1: text"


def test_lit_escapes_everything():
    assert lit('a"b\\c\nd') == '"a\\"b\\\\c d"'
    assert lit("#set page(width: 1cm) // $x$ [y] <z> @w *b* _i_") == (
        '"#set page(width: 1cm) // $x$ [y] <z> @w *b* _i_"'
    )


def test_a_newline_in_a_title_injects_no_heading(study, tmp_path):
    def headings(text):
        context = report_context(run=small_run(study, text=text), version=1)
        return typst_source(
            report_html_from_context(context), tmp_path, title="t", author="a"
        ).count("#heading(")

    assert headings("Nemen\n= Ingevoegde kop\nde problemen af?") == headings(
        "Nemen de problemen af?"
    )


user_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40
) | st.sampled_from(
    [
        "https://example.nl/a//b",
        "// commentaar",
        "/* x",
        "#let x = 1",
        "$",
        "\\",
        "]",
        "<a>",
        '"',
        "\n= Kop",
    ]
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    study_name=user_text,
    question=user_text,
    label=user_text,
    reason=user_text,
    arm=user_text,
)
def test_any_text_in_every_user_field_typesets(study, study_name, question, label, reason, arm):
    """Study name and municipality, question text, outcome label, warning, reason, plan
    deviation and arm name: whatever a user typed, the PDF compiles."""
    study.name = study_name
    study.municipality = reason
    run = small_run(study, text=question)
    q = run.results["questions"][0]
    q["not_answered_reason"] = reason
    q["outcomes"][0]["label"] = label
    q["outcomes"][0]["warnings"] = [reason]
    q["outcomes"][1].pop("event_study")  # no plots: the examples stay quick
    run.results["plan"] = {
        "version": 1,
        "sha256": "ab" * 32,
        "frozen_at": "2026-01-05T10:00:00+00:00",
        "deviations": [{"what": label, "planned": reason, "used": question}],
    }
    context = report_context(run=run, version=1)
    context["arm_labels"] = {"intervention": arm, "comparison": arm}
    html = report_html_from_context(context)
    pdf = report_pdf_from_context(context, html)
    assert pdf.startswith(b"%PDF")


def test_pdf_module_writes_only_literals_for_text(rendered):
    """No piece of report text reaches the Typst source outside a string literal."""
    _, _, source = rendered
    body = source[source.index("#let count(shown) = shown") :]
    # Everything between literals is Typst syntax written by pdf.py, never letters of the report.
    stripped = re.sub(r'#?(count|raw)?\("(?:[^"\\]|\\.)*"\)|#?"(?:[^"\\]|\\.)*"', "", body)
    assert "bijstand" not in stripped and "delicten" not in stripped
    assert pdf_module.PREAMBLE


def test_the_report_is_dutch_whatever_the_readers_language(study):
    from django.utils import translation

    with translation.override("en"):
        context = report_context(run=small_run(study), version=1)
        html = report_html_from_context(context)
    assert 'lang="nl"' in html and "Samenvatting" in html and "Summary" not in html
    assert "Gezinnen in de studie en uitval" in html


def test_run_analysis_writes_the_html_and_the_pdf(tmp_path):
    from django.core.management import CommandError

    from analysis.management.commands.run_analysis import _write_report

    report = Report(html="<article>rapport</article>", pdf=b"%PDF-1.7", pdf_error="")
    _write_report(report, pdf=str(tmp_path / "r.pdf"), html=str(tmp_path / "r.html"))
    assert (tmp_path / "r.pdf").read_bytes() == b"%PDF-1.7"
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and '<html lang="nl">' in page and "rapport" in page
    broken = Report(html="<article/>", pdf=None, pdf_error="PDF niet gemaakt: het veld 'x'")
    with pytest.raises(CommandError, match="het veld 'x'"):
        _write_report(broken, pdf=str(tmp_path / "s.pdf"), html=None)
