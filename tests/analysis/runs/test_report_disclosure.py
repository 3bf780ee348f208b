"""Every number in a rendered demo report against the statistics office's output rules: no count
1-9, and no hidden cell recomputable from a shown total (secondary suppression).

The fixture's run is the one run of the suite with the issue-14 diagnostics: their values (not
only their presence) are checked here too, against the entry point called on the run's frame."""

import math
import re
from html import unescape

import numpy as np
import pytest
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.did.diagnostics import PARTS, outcome_diagnostics
from analysis.did.panel import json_safe
from analysis.effects import derive, planned_mde
from analysis.effects.run_diagnostics import ELIGIBILITY_OUTCOMES, ROW_PARTS
from analysis.management.commands.run_analysis import _summary
from analysis.models import AnalysisRun
from analysis.plans import plan_power
from analysis.plans.plan_services import analysis_plan_freeze
from analysis.reporting.context import attrition_table, unit_counts
from analysis.runs.frames import build_frames
from analysis.runs.services import analysis_run_execute
from study.demo import DEMO_SEED
from tracker.setup import demo_set_up

pytestmark = pytest.mark.django_db


#: The one run of the suite with the issue-14 diagnostics (few draws: the suite stays fast).
DIAGNOSTIC_PARAMS = {"seed": 1, "diagnostics": True, "draws": 49, "mde_reps": 60}
PLAN_MDE_REPS = 200


@pytest.fixture(scope="module")
def demo_diag_run(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        study, _ = demo_set_up(seed=DEMO_SEED)
        plan = analysis_plan_freeze(
            study=study,
            user=study.memberships.get(role="researcher").user,
            params={"power": {"reps": PLAN_MDE_REPS}},
        )
        run = AnalysisRun.objects.create(study=study, params=DIAGNOSTIC_PARAMS, plan=plan)
        run = analysis_run_execute(run_id=run.pk)
        assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
        yield run
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def demo_html(demo_diag_run):
    return demo_diag_run.report.html


def _text(html: str) -> str:
    html = re.sub(r'src="data:[^"]*"', "", html)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def _assert_allowed_count(token: str, where: str) -> None:
    token = token.strip()
    if token in ("*", "—", ""):
        return
    assert re.fullmatch(r"\d+", token), f"{where}: {token!r} is not a count or *"
    assert int(token) == 0 or int(token) >= 10, f"{where}: count {token} must be shown as *"


def test_every_integer_table_cell_is_zero_ten_or_more(demo_html):
    from analysis.reporting import scan

    # Counts reach the tables through the disclosure helper, tagged; plain integers are not counts.
    cells = re.findall(r"<td[^>]*>(.*?)</td>", demo_html, re.S)
    tagged = [c for c in cells if "data-count" in c]
    assert tagged, "the report prints counts in its tables"
    counts = scan.html_tagged_counts("".join(tagged))
    assert counts and scan.bad_counts(counts) == []
    # Untagged small integers (M̄ = 1, years, T-labels) are checked against the scan's
    # allow-list in the demo scan of both renderings (tests/analysis/reporting).


def test_every_count_in_the_prose_follows_the_rules(demo_html):
    text = _text(demo_html)
    pairs = re.findall(
        r"ongeveer\s+(\S+)\s+(?:gezinnen|professionals), van wie ongeveer\s+(\S+)\s+in de", text
    )
    assert pairs, "the report states the units per outcome"
    for total, treated in pairs:
        _assert_allowed_count(total, "units")
        _assert_allowed_count(treated, "treated units")
        if "*" not in (total, treated):  # rounded to five: 80/40 beside 79/39 shows nothing
            assert int(total) % 5 == 0 and int(treated) % 5 == 0
    header = re.findall(r"·\s*(\S+)\s+gezinnen\s*Inhoud", text)
    assert len(header) == 1
    for n in header:
        _assert_allowed_count(n, "families in the header")


def test_the_attrition_table_has_no_recomputable_hidden_cell(demo_html):
    table = re.search(r'<table class="attrition".*?</table>', demo_html, re.S).group(0)
    rows = [
        re.findall(r'<td class="num"[^>]*>\s*<span data-count="([^"]*)"', row)
        for row in re.findall(r"<tr data-arm=.*?</tr>", table, re.S)
    ]
    assert len(rows) >= 3 and all(len(r) == len(rows[0]) for r in rows)
    for i, row in enumerate(rows):
        for value in row:
            _assert_allowed_count(value, f"attrition row {i}")
    lines = rows + [list(col) for col in zip(*rows, strict=True)]
    for line in lines:  # each line is cells + total: exactly one * could be recomputed
        assert sum(v.strip() == "*" for v in line) != 1, f"recomputable hidden cell in {line}"


def test_attrition_table_hides_a_partner_for_a_lone_small_cell():
    rows = [
        {"arm": "intervention", "status": "active", "n": 40},
        {"arm": "intervention", "status": "dropped_out", "n": 3},
        {"arm": "comparison", "status": "active", "n": 38},
        {"arm": "comparison", "status": "dropped_out", "n": 12},
    ]
    table = attrition_table(rows)
    by_arm = {r["arm"]: r for r in table["rows"]}
    assert by_arm["intervention"]["cells"] == ["*", "*"]
    assert by_arm["intervention"]["total"] == "43" and table["grand"] == "93"
    assert by_arm["comparison"]["cells"] == ["*", "*"]  # the column partner needs a row partner
    assert table["totals"] == ["78", "15"]


def test_attrition_table_shows_everything_without_small_counts():
    rows = [
        {"arm": "intervention", "status": "active", "n": 40},
        {"arm": "comparison", "status": "active", "n": 38},
        {"arm": "comparison", "status": "dropped_out", "n": 12},
    ]
    table = attrition_table(rows)
    assert [r["cells"] for r in table["rows"]] == [["38", "12"], ["40", "0"]]


def test_unit_counts_hide_the_treated_count_when_the_comparison_count_is_small():
    assert unit_counts({"n_units": 45, "n_treated": 40}) == ("45", "*")
    assert unit_counts({"n_units": 45, "n_treated": 25}) == ("45", "25")
    assert unit_counts({"n_units": 79, "n_treated": 39}) == ("80", "40")  # rounded to five
    assert unit_counts({"n_units": 7, "n_treated": 4}) == ("*", "*")


def test_the_process_section_shows_dose_response_with_the_caveat(demo_html):
    section = demo_html[demo_html.index('id="dose-response"') :]
    assert "niet door loting bepaald" in section
    assert re.search(
        r'<table class="dose-response">.*?<td class="num">-?[\d.]+,\d\d</td>', section, re.S
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["intervention", "comparison"]),
            st.sampled_from(["active", "completed", "dropped_out", "moved_away", "withdrawn"]),
            st.integers(min_value=0, max_value=60),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_attrition_table_never_prints_a_small_or_recomputable_count(cells):
    table = attrition_table([{"arm": a, "status": s, "n": n} for a, s, n in cells])
    lines = [[*r["cells"], r["total"]] for r in table["rows"]]
    lines.append([*table["totals"], table["grand"]])
    for line in lines + [list(col) for col in zip(*lines, strict=True)]:
        for value in line:
            assert value == "*" or int(value) == 0 or int(value) >= 10
        assert sum(v == "*" for v in line) != 1


# The issue-14 diagnostics of the run


def _rows(run):
    return [o for q in run.results["questions"] for o in q["outcomes"]]


def _row(run, code):
    return next(o for o in _rows(run) if o["code"] == code)


def _frame(run, code):
    frames = build_frames(run.study)
    panel = derive.family_year_panel(
        frames["families"],
        frames["wide"],
        frames["surveys"],
        frames["involvements"],
        frames["contacts"],
        frames["costs"],
    )
    data = panel[["family_id", "year", "intake_year", "arm", code]].copy()
    data["arm01"] = (data["arm"] == "intervention").astype(float)
    return panel, data.drop(columns="arm")


def _direct(run, code, part, **extra):
    _, data = _frame(run, code)
    o = _row(run, code)
    got = outcome_diagnostics(
        data,
        outcome=code,
        model=o["model"],
        t0="own" if o["outcome_design"] == "pre_period" else "baseline",
        parts={p: p == part for p in PARTS},
        unit="family_id",
        time="year",
        arm="arm01",
        intake="intake_year",
        draws=DIAGNOSTIC_PARAMS["draws"],
        seed=DIAGNOSTIC_PARAMS["seed"],
        mde_reps=DIAGNOSTIC_PARAMS["mde_reps"],
        **extra,
    )
    return json_safe(got[part])


def test_every_row_says_primary_and_primary_aligned_rows_carry_the_parts(demo_diag_run):
    rows = _rows(demo_diag_run)
    assert all(isinstance(o["primary"], bool) for o in rows)
    with_parts = [o for o in rows if "honest" in o]
    assert {o["code"] for o in with_parts} >= {"receives_bijstand", "satisfaction"}
    for o in with_parts:
        assert o["primary"] and o["design"] == "aligned"
        assert set(ROW_PARTS) <= set(o)
        assert o["eligibility_tied"] == (o["code"] in ELIGIBILITY_OUTCOMES)
    assert not any("honest" in o for o in rows if not o["primary"])
    assert not any("honest" in o for o in rows if o.get("design") == "calendar")


def test_ipw_equals_the_entry_point_on_the_runs_frame(demo_diag_run):
    o = _row(demo_diag_run, "receives_bijstand")
    assert o["ipw"] == _direct(demo_diag_run, "receives_bijstand", "ipw")
    # the unweighted line is the run's own aligned estimate (percentage points)
    assert o["ipw"]["unweighted"]["effect"] == pytest.approx(o["effect"], rel=1e-9)


def test_robustness_follows_the_runs_draws_and_equals_the_entry_point(demo_diag_run):
    o = _row(demo_diag_run, "receives_bijstand")
    assert o["robustness"] == _direct(demo_diag_run, "receives_bijstand", "robustness")
    lines = {r["method"]: r for r in o["robustness"]}
    assert {"cr2", "cr1", "cv3", "wild", "stacked", "imputation", "calendar_twfe", "ri"} <= set(
        lines
    )
    assert lines["cr2"]["estimate"] == pytest.approx(o["effect"], rel=1e-9)
    assert demo_diag_run.results["diagnostics"]["draws"] == DIAGNOSTIC_PARAMS["draws"]


def test_mde_is_the_plans_pre_registered_one_at_holms_first_step_and_ci_width(demo_diag_run):
    m = demo_diag_run.results["multiplicity"]["primary"]["m"]
    content = demo_diag_run.plan.content
    assert len(content["primary_outcomes"]) == m
    o = _row(demo_diag_run, "receives_bijstand")
    planned = content["planned_mde"]["outcomes"]["receives_bijstand"]
    assert o["mde_planned"] == {**planned, "source": "plan"}
    assert planned["alpha"] == pytest.approx(0.05 / m) and planned["reps"] == PLAN_MDE_REPS
    assert planned["unit"] == "procentpunten" and planned["mde"] > 0
    # The same simulation called directly on the study's design and pre-intake rows.
    enrolled, observed = plan_power._frames(demo_diag_run.study)
    families, _ = planned_mde.planned_families(
        enrolled, n_intervention=0, n_comparison=0, start_year=2000
    )
    outcome = next(
        x for q in content["questions"] for x in q["outcomes"] if x["code"] == "receives_bijstand"
    )
    direct = planned_mde.outcome_mde(
        families,
        observed,
        outcome,
        pre_years=demo_diag_run.study.pre_intake_years,
        waves=demo_diag_run.study.n_waves,
        alpha=0.05 / m,
        power=0.8,
        rho=None,
        reps=PLAN_MDE_REPS,
        seed=content["seed"],
    )
    assert planned == direct
    assert o["ci_width"]["width"] == pytest.approx(o["ci_high"] - o["ci_low"], rel=1e-9)
    assert o["ci_width"]["scale"] == "percentage points"  # an LPM: the effect's own units


def test_honest_equals_the_entry_point(demo_diag_run):
    o = _row(demo_diag_run, "child_protection")
    assert o["honest"] == _direct(demo_diag_run, "child_protection", "honest")
    assert o["honest"]["rm"]["parameter"] == "Mbar" and o["honest"]["sd"]["parameter"] == "M"
    assert o["honest"]["rm"]["method"].startswith("C-LF")
    assert o["honest"]["sd"]["method"].startswith("FLCI")  # the plan's default, R's


def test_balance_smd_by_hand(demo_diag_run):
    panel, _ = _frame(demo_diag_run, "receives_bijstand")
    at = panel.loc[panel["year"] - panel["intake_year"] == -1]
    t = at.loc[at["arm"] == "intervention", "receives_bijstand"].dropna().to_numpy(float)
    c = at.loc[at["arm"] != "intervention", "receives_bijstand"].dropna().to_numpy(float)
    hand = (t.mean() - c.mean()) / math.sqrt((t.var(ddof=1) + c.var(ddof=1)) / 2)
    row = next(
        r
        for r in demo_diag_run.results["balance"]
        if r["variable"] == "receives_bijstand" and r["period"] == "T-1"
    )
    assert row["smd"] == pytest.approx(hand, rel=1e-12)
    assert (row["n_intervention"], row["n_comparison"]) == (t.size, c.size)
    periods = {r["period"] for r in demo_diag_run.results["balance"]}
    assert periods == {"T-2", "T-1", "T0", "slope T-2 to T0", "intake"}
    assert row["mark"] == ("large" if abs(hand) >= 0.25 else "notable" if abs(hand) >= 0.1 else "")
    assert np.isfinite(row["smd"])


def test_household_balance_by_hand_and_matching_says_no_sets_were_recorded(demo_diag_run):
    families = build_frames(demo_diag_run.study)["families"]
    t = families.loc[families["arm"] == "intervention", "n_child"].to_numpy(float)
    c = families.loc[families["arm"] != "intervention", "n_child"].to_numpy(float)
    hand = (t.mean() - c.mean()) / math.sqrt((t.var(ddof=1) + c.var(ddof=1)) / 2)
    rows = {r["variable"]: r for r in demo_diag_run.results["balance"] if r["period"] == "intake"}
    assert set(rows) == {"n_adult", "n_child", "single_adult", "intake_year"}
    assert rows["n_child"]["smd"] == pytest.approx(hand, rel=1e-12)
    assert (rows["n_child"]["n_intervention"], rows["n_child"]["n_comparison"]) == (
        t.size,
        c.size,
    )
    # The demo study is matched but records no pairs: the report says so.
    assert demo_diag_run.results["matching"]["computed"] is False
    text = _text(demo_diag_run.report.html)
    assert "kinderen in het huishouden" in text and "Het matchen" in text


def test_multiplicity_and_json_summary(demo_diag_run):
    mult = demo_diag_run.results["multiplicity"]
    assert mult["method"] == mult["primary"]["method"] and mult["family"]
    summary = _summary(demo_diag_run)
    row = next(
        o
        for q in summary["questions"]
        for o in q["outcomes"]
        if o["outcome"] == "receives_bijstand"
    )
    assert row["primary"] is True and set(ROW_PARTS) <= set(row)
    assert summary["balance"] == demo_diag_run.results["balance"]
    assert summary["matching"] == demo_diag_run.results["matching"]
    assert summary["multiplicity"]["method"] == mult["method"]


def _flat_text(html):
    return re.sub(r"\s+", " ", _text(html))


def test_report_shows_the_diagnostics_in_dutch(demo_diag_run, demo_html):
    text = _flat_text(demo_html)
    o = _row(demo_diag_run, "receives_bijstand")
    bd = o["honest"]["rm"]["breakdown"]
    shown = f"{bd:.2f}".replace(".", ",")
    assert (
        "het effect blijft aantoonbaar zolang afwijkingen na de intake hooguit "
        f"M̄ = {shown} keer zo groot zijn als vóór de intake" in text
    )
    assert "Kijk daarom ook naar Δ^SD ernaast" in text  # eligibility-tied care outcomes
    assert "methode vaste-lengte-interval (FLCI)" in text
    assert "methode conditionele minst-gunstige hybride toets (C-LF)" in text  # Delta^RM
    sd = o["honest"]["sd"]
    lo, hi = sd["original"]["ci_low"], sd["original"]["ci_high"]
    if lo <= 0 <= hi:
        sd_text = "het effect is al zonder afwijkingen van parallelle trends niet aantoonbaar"
    elif sd["breakdown"] is None:
        sd_text = "het effect blijft aantoonbaar over het hele rooster van waarden"
    else:
        shown_sd = f"{sd['breakdown']:.2f}".replace(".", ",")
        sd_text = f"zolang de trend per jaar hooguit M = {shown_sd} van richting verandert"
    assert sd_text in text
    assert 'data-table="balance"' in demo_html and "≥ 0,25" in text
    assert "Gewogen naar de kans om in de studie te blijven (IPW)" in text
    assert text.count("Robuustheid: dezelfde vraag op andere manieren geschat") == sum(
        1 for r in _rows(demo_diag_run) if "honest" in r
    )
    assert "Breedte van het bereikte 95%-interval" in text
    assert "Minimaal aantoonbaar effect (vooraf vastgelegd in het analyseplan)" in text
    assert "<h2>Minimaal aantoonbaar effect</h2>" not in demo_html  # the post-hoc formula is gone


def test_the_pdf_prints_the_same_diagnostics(demo_diag_run):
    import pypdfium2

    pdf = pypdfium2.PdfDocument(bytes(demo_diag_run.report.pdf))
    text = " ".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    text = re.sub(r"\s+", " ", text)
    assert "Gevoeligheid voor afwijkende trends (HonestDiD)" in text
    assert "het effect blijft aantoonbaar zolang afwijkingen na de intake hooguit" in text
    assert "Gewogen naar de kans om in de studie te blijven (IPW)" in text
    assert "Onderscheidend vermogen" in text
    assert "Vergelijkbaarheid van de groepen vóór de aanpak" in text


def test_a_reasons_family_count_goes_through_the_disclosure_rule(demo_html):
    from analysis.reporting.diagnostics import reason_nl

    assert "* gezin(nen)" in reason_nl(
        "imputation needs an untreated observation of every family with treated rows; "
        "3 family(s) have none"
    )
    assert reason_nl("x: 12 families left") == "x: 12 families left"
    text = _flat_text(demo_html)
    for n in re.findall(r"(\S+) gezin\(nen\) hebben die niet", text):
        _assert_allowed_count(n, "families without an untreated row")
    assert "not run for Poisson PML" not in text  # reasons are printed in Dutch


# --- issue 19: one report, two renderings, both scanned ----------------------------------------


@pytest.fixture(scope="module")
def demo_typst(demo_diag_run):
    from analysis.reporting.pdf import report_typst_source

    return report_typst_source(run=demo_diag_run, version=demo_diag_run.report.version)


@pytest.fixture(scope="module")
def demo_pdf_pages(demo_diag_run):
    from analysis.reporting.scan import pdf_text

    assert demo_diag_run.report.pdf, demo_diag_run.report.pdf_error
    return [re.sub(r"\s+", " ", page) for page in pdf_text(bytes(demo_diag_run.report.pdf))]


def test_every_tagged_count_follows_the_rule_in_both_renderings(demo_html, demo_typst):
    from analysis.reporting import scan

    html_counts = scan.html_tagged_counts(demo_html)
    typst_counts = scan.typst_tagged_counts(demo_typst)
    assert len(html_counts) >= 20
    assert scan.bad_counts(html_counts) == [] and scan.bad_counts(typst_counts) == []
    assert sorted(html_counts) == sorted(typst_counts)  # the PDF prints the same counts


def test_no_untagged_small_integer_in_either_rendering(demo_html, demo_typst):
    from analysis.reporting import scan

    assert scan.untagged_small_integers(scan.html_text(demo_html)) == []
    assert scan.untagged_small_integers(scan.typst_text(demo_typst)) == []


def test_no_code_name_or_english_outside_the_appendix(demo_html, demo_typst, demo_pdf_pages):
    from analysis.reporting import scan

    pdf = " ".join(demo_pdf_pages)
    appendix = pdf.rfind("Bijlage: technische gegevens")
    for text in (scan.html_text(demo_html), scan.typst_text(demo_typst), pdf[:appendix]):
        assert scan.code_names(text) == []
        assert scan.english_words(text) == []
    assert demo_diag_run_fingerprint_only_in_appendix(demo_html)


def demo_diag_run_fingerprint_only_in_appendix(html):
    appendix = html.index('id="bijlage"')
    return "vingerafdruk <code>" not in html[:appendix] and "Data-vingerafdruk" in html[appendix:]


def test_every_html_section_heading_is_in_the_pdf(demo_html, demo_pdf_pages):
    from html import unescape

    headings = [
        re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", h))).strip()
        for h in re.findall(r"<h[2-4][^>]*>(.*?)</h[2-4]>", demo_html, re.S)
    ]
    pdf = " ".join(demo_pdf_pages).replace("\u00ad", "")
    flat = re.sub(r"[\s\-\u2010\u2011]+", "", pdf)
    missing = [h for h in headings if re.sub(r"[\s\-\u2010\u2011]+", "", h) not in flat]
    assert len(headings) > 30 and missing == []


def test_the_pdf_has_a_title_page_contents_and_page_numbers(demo_diag_run, demo_pdf_pages):
    study = demo_diag_run.study
    title = demo_pdf_pages[0]
    assert study.municipality in title and "Versie" in title and "concept" in title
    assert "periode" in title and "Effectrapportage" in title
    assert demo_pdf_pages[1].startswith("Inhoud")
    total = len(demo_pdf_pages) - 1
    for number, page in enumerate(demo_pdf_pages[1:], start=1):
        assert page.rstrip().endswith(f"{number} / {total}"), page[-40:]


def test_the_summary_comes_first_and_answers_every_question(demo_diag_run, demo_html):
    h2 = re.findall(r"<h2[^>]*>(.*?)</h2>", demo_html)
    assert h2[:2] == ["Inhoud", "Samenvatting"]
    summary = demo_html[demo_html.index('id="samenvatting"') : demo_html.index('id="vragen"')]
    for q in demo_diag_run.results["questions"]:
        assert f"<strong>{q['code']} · " in summary
    assert summary.count('<figure class="forest"') >= 2  # one forest plot per unit group
    assert "procentpunt" in summary and "%" in summary
    for verdict in re.findall(r'data-verdict="([^"]*)"', summary):
        assert verdict in {"afgenomen", "toegenomen", "niet aangetoond", "onzeker", "geen oordeel"}


def test_the_pdf_is_tagged_with_alt_texts(demo_diag_run):
    pdf = bytes(demo_diag_run.report.pdf)
    assert b"/StructTreeRoot" in pdf and b"/MarkInfo" in pdf
    assert b"/Alt" in pdf
