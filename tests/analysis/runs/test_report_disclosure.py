"""Every number in a rendered demo report against the statistics office's output rules: no count
1-9, and no hidden cell recomputable from a shown total (secondary suppression)."""

import re
from html import unescape

import pytest
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.models import AnalysisRun
from analysis.plans.plan_services import analysis_plan_freeze
from analysis.reporting.context import attrition_table, unit_counts
from analysis.runs.services import analysis_run_execute
from study.demo import DEMO_SEED
from tracker.setup import demo_set_up

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo_html(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        study, _ = demo_set_up(seed=DEMO_SEED)
        plan = analysis_plan_freeze(study=study, user=study.memberships.get(role="researcher").user)
        run = AnalysisRun.objects.create(study=study, params={"seed": 1}, plan=plan)
        run = analysis_run_execute(run_id=run.pk)
        assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
        yield run.report.html
        transaction.set_rollback(True)


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
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", demo_html)
    integers = [c.strip() for c in cells if re.fullmatch(r"\s*-?\d+\s*", c)]
    assert integers, "the report prints counts"
    for value in integers:
        assert int(value) == 0 or abs(int(value)) >= 10, f"table cell {value} should be *"


def test_every_count_in_the_prose_follows_the_rules(demo_html):
    text = _text(demo_html)
    pairs = re.findall(r"(\S+) eenheden waarvan (\S+) in de interventiegroep", text)
    assert pairs, "the report states the units per outcome"
    for total, treated in pairs:
        _assert_allowed_count(total, "units")
        _assert_allowed_count(treated, "treated units")
        if "*" not in (total, treated):  # the comparison count is their difference
            assert int(total) - int(treated) == 0 or int(total) - int(treated) >= 10
    header = re.findall(r"·\s*(\S+)\s+gezinnen\s*·", text)
    assert len(header) == 1
    for n in header:
        _assert_allowed_count(n, "families in the header")


def test_the_attrition_table_has_no_recomputable_hidden_cell(demo_html):
    table = re.search(r'<table class="attrition".*?</table>', demo_html, re.S).group(0)
    rows = [
        re.findall(r"<td class=\"num\" data-count[^>]*>([^<]*)</td>", row)
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
    assert by_arm["intervention"]["total"] == 43 and table["grand"] == 93
    assert by_arm["comparison"]["cells"] == ["*", "*"]  # the column partner needs a row partner
    assert table["totals"] == [78, 15]


def test_attrition_table_shows_everything_without_small_counts():
    rows = [
        {"arm": "intervention", "status": "active", "n": 40},
        {"arm": "comparison", "status": "active", "n": 38},
        {"arm": "comparison", "status": "dropped_out", "n": 12},
    ]
    table = attrition_table(rows)
    assert [r["cells"] for r in table["rows"]] == [[38, 12], [40, 0]]


def test_unit_counts_hide_the_treated_count_when_the_comparison_count_is_small():
    assert unit_counts({"n_units": 45, "n_treated": 40}) == (45, "*")
    assert unit_counts({"n_units": 45, "n_treated": 25}) == (45, 25)
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
            assert value == "*" or value == 0 or value >= 10
        assert sum(v == "*" for v in line) != 1
