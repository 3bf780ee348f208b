"""TWFE behaviour: inference options, warnings, counts, JSON output and the methods paragraph."""

from __future__ import annotations

import json

import numpy as np
import pytest
from did_panels import make_panel

from analysis.did.inference import InferenceError
from analysis.did.methods_text import methods_paragraph
from analysis.did.panel import PanelError
from analysis.did.twfe import twfe

COLS = {"unit": "family", "time": "wave", "cohort": "intake", "outcome": "y"}


def test_default_inference_is_cr2_with_robustness_methods_alongside():
    r = twfe(make_panel(seed=51), **COLS, seed=1, draws=999)
    assert r.inference == "cr2"
    assert set(r.robustness) == {"cr2", "cr1", "cv3", "wild"}
    assert r.se == r.robustness["cr2"]["se"]


def test_few_clusters_warn_about_low_satterthwaite_df():
    r = twfe(make_panel(seed=52, n_treated=3, n_control=3), **COLS, robustness=("cr2",))
    assert r.df < 10
    assert any("degrees of freedom" in w for w in r.warnings)


def test_counts_report_clusters_and_treated_families_per_cohort():
    r = twfe(make_panel(seed=53, cohorts=(3, 4)), **COLS, robustness=())
    assert (r.n_units, r.n_clusters, r.n_treated_units, r.n_obs) == (40, 40, 20, 240)
    assert r.n_treated_by_cohort == {"3": 10, "4": 10}


def test_wild_as_primary_inference_takes_p_and_interval_from_the_bootstrap():
    r = twfe(make_panel(seed=54), **COLS, inference="wild", draws=999, seed=3, robustness=())
    assert r.p_value == r.robustness["wild"]["p_value"]
    assert r.ci_low == r.robustness["wild"]["ci_low"]


def test_randomisation_inference_as_primary_keeps_the_cr2_interval():
    r = twfe(make_panel(seed=55), **COLS, inference="ri", draws=199, seed=3, robustness=())
    assert r.p_value == r.robustness["ri"]["p_value"]
    assert any("randomisation" in w for w in r.warnings)


def test_unknown_inference_is_refused_with_the_options():
    with pytest.raises(InferenceError, match="use one of cr2, cr1, cv3, wild, ri"):
        twfe(make_panel(seed=56), **COLS, inference="hc3")


def test_rows_with_empty_outcome_are_left_out_and_noted():
    df = make_panel(seed=57)
    df.loc[[0, 7], "y"] = np.nan
    r = twfe(df, **COLS, robustness=())
    assert r.n_obs == len(df) - 2
    assert any("2 row(s)" in w for w in r.warnings)


def test_to_dict_is_json_without_nan():
    r = twfe(make_panel(seed=58), **COLS, draws=199, seed=1)
    text = json.dumps(r.to_dict(), allow_nan=False)
    assert '"inference": "cr2"' in text


def test_a_panel_error_reaches_the_caller():
    with pytest.raises(PanelError, match="column\\(s\\) not found"):
        twfe(make_panel(seed=59), **{**COLS, "outcome": "cost"})


def test_methods_paragraph_names_estimator_inference_df_and_assumption():
    r = twfe(make_panel(seed=60, cohorts=(3, 4)), **COLS, robustness=("cr2", "cv3"))
    text = methods_paragraph(r)
    assert "two-way fixed-effects" in text and "CR2" in text and "Satterthwaite" in text
    assert f"{r.df:.0f} here" in text
    assert "parallel" in text and "Callaway & Sant'Anna" in text  # staggered intake note
