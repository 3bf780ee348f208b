"""Event study: coefficients equal hand-computed DiDs of means, binned ends, pre-test, honest."""

from __future__ import annotations

import json

import numpy as np
import pytest
from did_panels import make_panel

from analysis.did.event_study import event_study
from analysis.did.methods_text import methods_paragraph

COLS = {"unit": "family", "time": "wave", "cohort": "intake", "outcome": "y"}


def _did_of_means(df, t, base):
    m = df.groupby([df["intake"] > 0, "wave"])["y"].mean()
    return (m[(True, t)] - m[(True, base)]) - (m[(False, t)] - m[(False, base)])


def test_event_coefficients_equal_differences_of_mean_changes_against_period_before_intake():
    df = make_panel(seed=1)
    r = event_study(df, **COLS, honest=False)
    by_e = {ev["e"]: ev["att"] for ev in r.event}
    for e in (-3, -2, 0, 1, 2):
        assert by_e[e] == pytest.approx(_did_of_means(df, 4 + e, 3), abs=1e-10)
    assert by_e[-1] == 0.0


def test_end_points_are_binned_and_counted():
    df = make_panel(seed=2, periods=8, cohorts=(4,))
    r = event_study(df, **COLS, min_e=-2, max_e=2, honest=False)
    events = {ev["e"]: ev for ev in r.event}
    assert sorted(events) == [-2, -1, 0, 1, 2]
    assert events[2]["binned"] and events[-2]["binned"] and not events[0]["binned"]
    assert events[2]["n_treated"] == 20


def test_pretrend_test_rejects_a_clear_trend_gap():
    r = event_study(
        make_panel(seed=3, trend_gap=0.8, periods=7, cohorts=(5,)), **COLS, honest=False
    )
    assert r.pretrend_p < 0.001
    assert r.pretrend_df[0] == 3


def test_pretrend_test_does_not_reject_parallel_trends_here():
    r = event_study(make_panel(seed=14, periods=7, cohorts=(5,)), **COLS, honest=False)
    assert r.pretrend_p > 0.05


def test_reference_period_outside_the_window_is_refused():
    from analysis.did.panel import PanelError

    with pytest.raises(PanelError, match="reference event time"):
        event_study(make_panel(seed=5), **COLS, ref=-9, honest=False)


def test_honest_bounds_widen_with_mbar_and_breakdown_lies_between_them():
    r = event_study(make_panel(seed=6, effect=0.8, periods=7, cohorts=(4,)), **COLS)
    widths = [h["ci_high"] - h["ci_low"] for h in r.honest]
    assert [h["mbar"] for h in r.honest] == [0.5, 1.0, 1.5, 2.0]
    assert widths == sorted(widths)
    assert r.breakdown_mbar is not None and r.breakdown_mbar >= 0
    assert json.dumps(r.to_dict(), allow_nan=False)


def test_methods_paragraph_of_an_event_study_says_a_passed_pretest_is_not_proof():
    r = event_study(make_panel(seed=7), **COLS, honest=False)
    text = methods_paragraph(r)
    assert "not proof" in text and "CR2" in text and "Satterthwaite" in text


def test_event_study_reports_treated_families_per_event_time_on_unbalanced_panel():
    df = make_panel(seed=8).drop(index=list(range(0, 60, 6)))  # first wave missing for 10 treated
    r = event_study(df, **COLS, honest=False)
    first = {ev["e"]: ev["n_treated"] for ev in r.event}[-3]
    assert first == 10
    assert np.isfinite(r.pretrend_p)
