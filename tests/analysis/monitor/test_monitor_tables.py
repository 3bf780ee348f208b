"""Report tables, suppression in them, cost and trend."""

import numpy as np
import pandas as pd
import pytest

from analysis.monitor.tables import combine_counts, municipality_counts, report_table, wijk_counts
from analysis.monitor.trend import (
    DEFAULT_COST_PER_MPG_EUR,
    garwood_interval,
    mpg_cost,
    mpg_trend,
    poisson_trend,
)


def test_municipality_total_is_the_sum_of_its_wijken(almelo_counts):
    total = municipality_counts(almelo_counts).iloc[0]
    assert total["households"] == 31_392
    assert total["households_with_child"] == 8_555
    assert total["mvp"] == almelo_counts["mvp"].sum()


def test_counts_from_chunks_add_up_to_the_whole(almelo_classified, almelo_counts):
    half = len(almelo_classified) // 2
    parts = [wijk_counts(almelo_classified.iloc[:half]), wijk_counts(almelo_classified.iloc[half:])]
    combined = combine_counts(parts)
    pd.testing.assert_frame_equal(combined, almelo_counts, check_dtype=False)


def test_suppressed_wijk_table_prints_no_count_from_one_to_nine(almelo_counts):
    table = report_table(almelo_counts, by="wijk", suppress=True)
    counts = table[[c for c in almelo_counts.columns if c not in ("municipality", "wijk")]]
    printed = [v for v in counts.to_numpy().ravel() if v != "*"]
    assert not any(1 <= v <= 9 for v in printed)
    # Each column with a hidden wijk has at least two, so the municipality total gives none away.
    hidden_per_column = (counts == "*").sum()
    assert not (hidden_per_column == 1).any()


def test_shares_use_five_for_a_suppressed_count():
    counts = pd.DataFrame(
        {
            "municipality": ["X", "X"],
            "wijk": ["a", "b"],
            "households": [500, 600],
            "households_with_child": [378, 400],
            "mpg": [4, 30],
        }
    )
    table = report_table(counts, by="wijk", suppress=True)
    row = table.set_index("wijk").loc["a"]
    assert row["mpg"] == "*"
    assert row["pct_mpg"] == pytest.approx(1.3)  # 5 / 378
    # 30 in wijk b is hidden too: otherwise 34 - 30 would give wijk a away.
    assert table.set_index("wijk").loc["b", "mpg"] == "*"
    unsuppressed = report_table(counts, by="wijk", suppress=False).set_index("wijk")
    assert unsuppressed.loc["a", "mpg"] == 4


def test_report_table_rejects_unknown_grouping(almelo_counts):
    with pytest.raises(ValueError, match="by must be"):
        report_table(almelo_counts, by="province")


def test_garwood_interval_matches_published_values():
    # Exact Poisson 95 % limits (Garwood 1936; e.g. Ulm 1990 table): 0 -> (0, 3.689), 10 -> (4.795, 18.390).
    assert garwood_interval(0) == pytest.approx((0.0, 3.689), abs=1e-3)
    assert garwood_interval(10) == pytest.approx((4.795, 18.390), abs=1e-3)
    low, high = garwood_interval(174)
    assert low < 174 < high


def test_report_cost_of_174_mpg_is_about_19_9_million():
    cost = mpg_cost(174)
    assert cost.cost_per_family == DEFAULT_COST_PER_MPG_EUR == 114_291
    assert cost.total == pytest.approx(19_886_634)
    assert (cost.total_low, cost.total_high) == (174 * 108_000, 174 * 115_000)
    assert cost.total_ci_low < cost.total < cost.total_ci_high


def test_two_year_poisson_trend_matches_the_hand_formula():
    # Two years: rate ratio b/a, se of its log sqrt(1/a + 1/b).
    result = poisson_trend([2014, 2015], [200, 150])
    se = np.sqrt(1 / 200 + 1 / 150)
    z = np.log(0.75) / se
    assert result.rate_ratio_per_year == pytest.approx(0.75)
    assert result.ci_high == pytest.approx(np.exp(np.log(0.75) + 1.959964 * se), rel=1e-5)
    from scipy import stats

    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-4)
    assert result.decreasing


def test_flat_counts_show_no_trend():
    result = poisson_trend([2014, 2015, 2016], [174, 174, 174])
    assert result.rate_ratio_per_year == pytest.approx(1.0)
    assert result.p_value == pytest.approx(1.0)
    assert not result.decreasing


def test_cost_trend_follows_cost_per_family():
    # Fewer MPG but each dearer so that the total stays the same: count falls, cost does not.
    counts = {2014: 200, 2015: 160, 2016: 128}
    costs = {2014: 100_000.0, 2015: 125_000.0, 2016: 156_250.0}
    result = mpg_trend(counts, cost_per_family=costs)
    assert result["mpg_trend"].rate_ratio_per_year == pytest.approx(0.8, rel=1e-6)
    assert result["mpg_trend"].decreasing
    assert result["cost_trend"].rate_ratio_per_year == pytest.approx(1.0, rel=1e-6)
    assert not result["cost_trend"].decreasing
    years = result["years"]
    assert list(years["total_cost"]) == pytest.approx([20_000_000] * 3)
    assert (years["mpg_ci_low"] < years["mpg"]).all()


def test_trend_needs_two_years():
    with pytest.raises(ValueError, match="two"):
        poisson_trend([2014], [5])
    assert "mpg_trend" not in mpg_trend({2014: 174})
