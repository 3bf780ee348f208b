"""Classification of hand-made households: every branch of the MPG rule."""

import subprocess
import sys

import pytest

from analysis.monitor.catalogue import load_catalogue
from analysis.monitor.classify import classify_households

from .helpers_monitor import household_rows, three_years

ALL_DOMAINS = {"bijstand": 1, "adult_ggz_basic_eur": 120, "child_ots": 1}
SUPPORT = {"child_youth_care_ambulant": 1}


def classify_one(**kwargs):
    out = classify_households(household_rows(three_years("h1", **kwargs)), 2014)
    assert len(out) == 1
    return out.iloc[0]


def test_catalogue_groups_codes_from_the_project_file():
    cat = load_catalogue()
    assert "moves" in cat.domain_codes(1)
    assert "debt_help" not in cat.domain_codes(1) + cat.domain_codes(2) + cat.domain_codes(3)
    assert "adult_police_assault" in cat.domain_codes(2)
    assert "adult_police_assault" not in cat.support_codes
    assert "child_foster_care_days" in cat.support_codes
    assert cat.get("moves").problem_threshold == 2


def test_household_without_child_is_out_of_scope_and_never_mvp():
    row = classify_one(y0=ALL_DOMAINS, y1=SUPPORT, y2=SUPPORT, n_children=0)
    assert not row.in_scope
    assert row.domain1 and row.domain2 and row.domain3
    assert not row.mvp and not row.mpg


def test_household_without_adult_is_out_of_scope():
    row = classify_one(y0=ALL_DOMAINS, y1=SUPPORT, y2=SUPPORT, n_adults=0)
    assert not row.in_scope and not row.mpg


def test_one_move_is_not_a_problem_two_moves_are():
    assert not classify_one(y0={"moves": 1}).domain1
    assert classify_one(y0={"moves": 2}).domain1


def test_debt_help_alone_classifies_no_domain():
    row = classify_one(y0={"debt_help": 1})
    assert not (row.domain1 or row.domain2 or row.domain3)


@pytest.mark.parametrize(
    ("code", "domain"),
    [
        ("low_income", 1),
        ("other_benefit", 1),
        ("adult_police_drugs", 2),
        ("adult_addiction_care", 2),
        ("child_police_offences", 3),
        ("child_foster_care_days", 3),
    ],
)
def test_each_domain_is_set_by_its_own_indicators_only(code, domain):
    row = classify_one(y0={code: 3})
    assert [row.domain1, row.domain2, row.domain3] == [d == domain for d in (1, 2, 3)]


def test_two_domains_are_not_mvp():
    row = classify_one(y0={"ww": 1, "child_ggz_basic_eur": 50}, y1=SUPPORT, y2=SUPPORT)
    assert row.domain1 and row.domain3 and not row.domain2
    assert not row.mvp and not row.mpg


def test_mvp_without_support_in_preceding_years_is_not_mpg():
    row = classify_one(y0=ALL_DOMAINS)
    assert row.mvp and not row.support_y1 and not row.support_y2 and not row.mpg


def test_mvp_with_support_in_one_preceding_year_only_is_not_mpg():
    row = classify_one(y0=ALL_DOMAINS, y1=SUPPORT)
    assert row.mvp and row.support_y1 and not row.support_y2 and not row.mpg
    row = classify_one(y0=ALL_DOMAINS, y2=SUPPORT)
    assert row.support_y2 and not row.support_y1 and not row.mpg


def test_mvp_with_support_in_both_preceding_years_is_mpg():
    row = classify_one(y0=ALL_DOMAINS, y1=SUPPORT, y2={"adult_outreach_care": 1})
    assert row.mvp and row.support_y1 and row.support_y2 and row.mpg


def test_police_registration_is_not_support():
    row = classify_one(y0=ALL_DOMAINS, y1={"adult_police_assault": 2}, y2=SUPPORT)
    assert not row.support_y1 and not row.mpg


def test_household_absent_in_a_preceding_year_had_no_support_there():
    row = classify_one(y0=ALL_DOMAINS, y1=False, y2=SUPPORT)
    assert not row.support_y1 and not row.mpg


def test_support_in_the_reporting_year_itself_does_not_count_for_chronicity():
    row = classify_one(y0={**ALL_DOMAINS, **SUPPORT}, y1=SUPPORT)
    assert not row.mpg


def test_households_are_classified_together_without_mixing_up_ids():
    rows = three_years("mpg", y0=ALL_DOMAINS, y1=SUPPORT, y2=SUPPORT)
    rows += three_years("mvp", y0=ALL_DOMAINS, y1=SUPPORT, y2=False)
    rows += three_years("none", y0={}, y1=SUPPORT, y2=SUPPORT)
    out = classify_households(household_rows(rows), 2014).set_index("household_id")
    assert out["mpg"].to_dict() == {"mpg": True, "mvp": False, "none": False}
    assert out["mvp"].to_dict() == {"mpg": True, "mvp": True, "none": False}


def test_indicator_flags_follow_thresholds():
    out = classify_households(
        household_rows(three_years("h", y0={"moves": 1, "ww": 2})), 2014, with_indicators=True
    )
    assert not out["ind_moves"].iloc[0] and out["ind_ww"].iloc[0]
    assert "ind_debt_help" not in out.columns


def test_pure_monitor_modules_do_not_import_django():
    code = (
        "import sys; import analysis.monitor.catalogue, analysis.monitor.classify, "
        "analysis.monitor.tables, analysis.monitor.report_columns, analysis.monitor.synthetic, "
        "analysis.monitor.synthetic_calibration, analysis.monitor.trend, "
        "analysis.monitor.pipeline, analysis.monitor.summary, analysis.monitor.extract, "
        "analysis.monitor.fast, analysis.monitor.fast_arrays, analysis.monitor.plot, "
        "analysis.effects.disclosure; assert 'django' not in sys.modules, "
        "[m for m in sys.modules if m.startswith('django')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
