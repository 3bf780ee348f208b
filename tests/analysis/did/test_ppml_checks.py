"""Poisson PML checks (issue 14 fixes): the wild score bootstrap beside CR1, the count of
families with non-zero values, and their place in the run's robustness panel and report."""

import math

import numpy as np
import pytest

from analysis.did.aligned_panel import prepare_aligned
from analysis.did.aligned_ppml import aligned_ppml, ppml_from_panel
from analysis.effects.disclosure import suppress_count
from analysis.effects.run_diagnostics import ppml_robustness
from analysis.reporting.diagnostics import outcome_diagnostics_context
from tests.analysis.did.aligned_panels import COLS, crisis_panel


@pytest.fixture(scope="module")
def panel():
    df = crisis_panel(n=30, seed=3)
    zero = df.loc[df["arm"] == 0, "family"].unique()[:3]
    return df.assign(count=np.where(df["family"].isin(zero), 0.0, df["count"]))


def test_score_bootstrap_spread_is_the_cluster_robust_spread_and_agrees_with_cr1(panel):
    p = prepare_aligned(panel, outcome="count", **COLS)
    r = ppml_from_panel(p, bootstrap_draws=4999, seed=1, outcome="count")
    boot, cr1 = r.robustness["score_bootstrap"], r.robustness["cr1"]
    assert boot["estimate"] == pytest.approx(cr1["estimate"])
    # Rademacher weights: Var(d*) is the CR0 variance = CR1 / (G/(G-1) (n-1)/(n-K)).
    half = (boot["ci_high"] - boot["ci_low"]) / 2
    assert half / 1.96 == pytest.approx(cr1["se"], rel=0.12)
    assert boot["p_value"] == pytest.approx(cr1["p_value"], abs=0.05)
    assert boot["effect"] == pytest.approx(math.expm1(boot["estimate"]))
    assert boot["draws"] == 4999 and boot["weights"] == "rademacher"
    assert "score_bootstrap" not in ppml_from_panel(p, outcome="count").robustness


def test_families_with_non_zero_values_are_counted(panel):
    r = aligned_ppml(panel, outcome="count", **COLS)
    n = panel["family"].nunique()
    assert (r.n_families_nonzero, r.n_families_all_zero) == (n - 3, 3)


def test_the_robustness_panel_and_report_of_a_ppml_outcome(panel):
    p = prepare_aligned(panel, outcome="count", **COLS)
    r = ppml_from_panel(p, bootstrap_draws=199, seed=1, outcome="count")
    table = r.to_dict()["robustness"]
    lines = ppml_robustness(table)
    assert [x["method"] for x in lines] == ["cr1", "cr2", "score_bootstrap"]
    for x in lines:
        assert x["estimate"] == pytest.approx(table[x["method"]]["effect"])
        assert x["ci_low"] == pytest.approx(table[x["method"]]["effect_ci_low"])
    row = {"model": "ppml", "n_families_nonzero": 57, "n_families_all_zero": 3}
    text = outcome_diagnostics_context(row)["nonzero_shown"]
    assert text.startswith(f"{suppress_count(57)} gezinnen met ten minste één waarde boven nul")
    assert f"{suppress_count(3)} gezinnen met alleen nullen" in text
    assert outcome_diagnostics_context({"model": "linear"})["nonzero_shown"] is None
