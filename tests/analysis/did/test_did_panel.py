"""Panel validation: clean panels pass (unbalanced too), bad ones are refused with a clear message."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.did.panel import PanelError, treatment_indicator, validate_panel

COLS = {"unit": "family", "time": "wave", "cohort": "intake", "outcomes": ["y"]}


def _panel(n_treated: int = 3, n_control: int = 3, periods=(1, 2, 3, 4), cohort: int = 3):
    rows = []
    for i in range(n_treated + n_control):
        g = cohort if i < n_treated else np.nan
        for t in periods:
            rows.append({"family": f"f{i}", "wave": t, "intake": g, "y": float(i + t)})
    return pd.DataFrame(rows)


def test_clean_panel_passes_and_never_treated_cohort_becomes_zero():
    out = validate_panel(_panel(), **COLS)
    assert set(out.loc[out["family"] == "f5", "intake"]) == {0.0}
    assert len(out) == 24


def test_unbalanced_panel_with_missed_waves_passes():
    df = _panel().drop(index=[1, 6, 23])
    out = validate_panel(df, **COLS)
    assert len(out) == 21


def test_missing_column_is_named():
    with pytest.raises(PanelError, match="column\\(s\\) not found in the panel: cost"):
        validate_panel(_panel(), **{**COLS, "outcomes": ["cost"]})


def test_text_in_outcome_is_refused_with_row():
    df = _panel()
    df["y"] = df["y"].astype(object)
    df.loc[4, "y"] = "n/a"
    with pytest.raises(PanelError, match="column 'y' must be numeric; data row 5 has 'n/a'"):
        validate_panel(df, **COLS)


def test_duplicate_unit_period_names_unit_and_period():
    df = pd.concat([_panel(), _panel().iloc[[5]]], ignore_index=True)
    with pytest.raises(PanelError, match="unit 'f1' has more than one row for period 2"):
        validate_panel(df, **COLS)


def test_unit_whose_cohort_changes_is_refused():
    df = _panel()
    df.loc[(df["family"] == "f0") & (df["wave"] == 4), "intake"] = 4
    with pytest.raises(PanelError, match="unit 'f0' changes cohort over time"):
        validate_panel(df, **COLS)


def test_treatment_that_switches_off_is_refused():
    df = _panel()
    df["d"] = treatment_indicator(df, "wave", "intake")
    df.loc[(df["family"] == "f2") & (df["wave"] == 4), "d"] = 0
    with pytest.raises(PanelError, match="treatment switches off for unit 'f2' in period 4"):
        validate_panel(df, **COLS, treatment="d")


def test_too_few_treated_units_is_refused():
    with pytest.raises(PanelError, match="at least 2 treated units are needed.*found 1"):
        validate_panel(_panel(n_treated=1), **COLS)


def test_too_few_control_units_is_refused():
    with pytest.raises(PanelError, match="never-treated.*found 1"):
        validate_panel(_panel(n_control=1), **COLS)


def test_cohort_without_pre_period_is_refused():
    with pytest.raises(PanelError, match="cohort 1 has no period before treatment"):
        validate_panel(_panel(cohort=1), **COLS)


def test_treatment_indicator_is_one_from_cohort_period_on():
    df = _panel(n_treated=1, n_control=1)
    d = treatment_indicator(df, "wave", "intake")
    assert d.tolist() == [0, 0, 1, 1, 0, 0, 0, 0]


_cell = st.one_of(
    st.none(),
    st.integers(-3, 6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["a", "x", "", "2"]),
    st.booleans(),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.integers(0, 5), st.sampled_from(["a", "b", "c"]), st.none()),
            _cell,
            _cell,
            _cell,
        ),
        min_size=0,
        max_size=25,
    )
)
def test_any_generated_panel_validates_or_raises_panel_error(rows):
    df = pd.DataFrame(rows, columns=["family", "wave", "intake", "y"])
    try:
        out = validate_panel(df, **COLS)
    except PanelError:
        return
    assert out["intake"].notna().all()
    assert not out.duplicated(["family", "wave"]).any()
