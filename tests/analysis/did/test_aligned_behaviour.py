"""Behaviour of the intake-aligned design: dropped dummies, T0 handling, event study, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from aligned_panels import COLS, crisis_panel, dummies, explicit_design
from scipy import stats

from analysis.did.aligned import aligned_design, aligned_did, fit_design, refit_outcome
from analysis.did.aligned_alt import imputation_did, stacked_did
from analysis.did.aligned_checks import bracket_check, t0_balance
from analysis.did.aligned_event import aligned_event_study, sup_t_critical
from analysis.did.aligned_panel import prepare_aligned
from analysis.did.aligned_ppml import aligned_ppml
from analysis.did.inference import Robust, fit_linear
from analysis.did.panel import PanelError

TOL = 1e-8


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return crisis_panel(n=14, seed=7, drop_share=0.05)


def _explicit_fit(y, X, unit):
    return fit_linear(y.to_numpy(), X.to_numpy(), unit=None, time=None, cluster=unit)


# --------------------------------------------------------------------------------------------
# The collinear event-time dummies


@pytest.mark.parametrize("drop", [(3, 4), (-2, 2), (0, 1), (-1, 4)])
def test_arm_effect_does_not_depend_on_which_event_time_dummies_are_dropped(panel, drop):
    ours = aligned_did(panel, outcome="registry", **COLS, robustness=())
    y, X, unit = explicit_design(panel, "registry", drop=drop)
    r = Robust(_explicit_fit(y, X, unit)).coef(0, "cr2")
    assert (r.estimate, r.se, r.df) == pytest.approx((ours.att, ours.se, ours.df), abs=TOL)


def test_dropped_event_times_are_the_pre_intake_years_nearest_intake(panel):
    r = aligned_did(panel, outcome="registry", **COLS, robustness=())
    assert r.dropped_event_times == [-1, -2]
    assert r.event_times == [-2, -1, 0, 1, 2, 3, 4]
    assert (r.pre_period, r.post_period) == ([-2, -1], [1, 2, 3, 4])


def test_one_intake_year_drops_every_event_time_dummy(panel):
    one = panel[panel["intake"] == panel["intake"].mode()[0]]
    r = aligned_did(one, outcome="registry", **COLS, robustness=())
    assert sorted(r.dropped_event_times) == r.event_times
    assert any("same intake year" in w for w in r.warnings)
    y, X, unit = explicit_design(one, "registry", drop=tuple(r.event_times))
    ref = Robust(_explicit_fit(y, X, unit)).coef(0, "cr2")
    assert (r.att, r.se) == pytest.approx((ref.estimate, ref.se), abs=TOL)


def test_refit_outcome_equals_a_fresh_fit_of_the_other_outcome(panel):
    design = aligned_design(prepare_aligned(panel, outcome="registry", **COLS))
    other = refit_outcome(fit_design(design), panel["binary"].to_numpy())
    fresh = fit_linear(
        panel["binary"].to_numpy(),
        design.X,
        unit=design.panel.unit,
        time=design.panel.year,
        cluster=design.panel.unit,
    )
    assert other.beta == pytest.approx(fresh.beta, abs=1e-12)
    assert Robust(other).coef(0).se == pytest.approx(Robust(fresh).coef(0).se, abs=1e-12)


# --------------------------------------------------------------------------------------------
# T0


def _shift_intervention_t0(df: pd.DataFrame, col: str, by: float) -> pd.DataFrame:
    out = df.copy()
    rows = (out["arm"] == 1) & (out["year"] == out["intake"])
    out.loc[rows, col] += by
    return out


def test_t0_own_keeps_the_intervention_t0_out_of_the_post_effect_and_the_pretest(panel):
    shifted = _shift_intervention_t0(panel, "registry", 5.0)
    a = aligned_did(panel, outcome="registry", **COLS, robustness=())
    b = aligned_did(shifted, outcome="registry", **COLS, robustness=())
    assert b.att == pytest.approx(a.att, abs=1e-10)
    assert b.se == pytest.approx(a.se, abs=1e-10)
    assert b.t0_effect["estimate"] == pytest.approx(a.t0_effect["estimate"] + 5.0, abs=1e-10)
    ea = aligned_event_study(panel, outcome="registry", **COLS)
    eb = aligned_event_study(shifted, outcome="registry", **COLS)
    assert eb.pretest["p_value"] == pytest.approx(ea.pretest["p_value"], abs=1e-10)
    assert [e["e"] for e in ea.event if e.get("t0")] == [0]


def test_t0_drop_leaves_the_t0_rows_out(panel):
    r = aligned_did(panel, outcome="registry", t0="drop", **COLS, robustness=())
    n_t0 = int((panel["year"] == panel["intake"]).sum())
    assert r.n_obs == len(panel) - n_t0
    assert r.t0_effect is None and 0 not in r.event_times


def test_t0_baseline_makes_t0_the_reference_of_a_survey_outcome(panel):
    r = aligned_did(panel, outcome="survey", t0="baseline", **COLS, robustness=())
    assert r.pre_period == [0] and r.dropped_event_times == [0, 1]
    assert any("parallel trends cannot be tested" in w for w in r.warnings)
    assert r.t0_effect is None


def test_survey_without_t0_baseline_is_refused_for_lack_of_a_pre_period(panel):
    with pytest.raises(PanelError, match="no intervention family is observed before intake"):
        aligned_did(panel, outcome="survey", **COLS)


# --------------------------------------------------------------------------------------------
# Event study


def _explicit_event_design(df: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame, np.ndarray]:
    e = (df["year"] - df["intake"]).astype(int)
    arm_e = pd.DataFrame(
        {f"arm_e{k}": df["arm"] * (e == k) for k in sorted(e.unique()) if k != -1}, dtype=float
    )
    ev = dummies(e, "e").drop(columns=["e_-1", "e_-2"])
    fe = [dummies(df["family"], "f"), dummies(df["year"], "y", True)]
    X = pd.concat([arm_e, ev, *fe], axis=1)
    return df["registry"], X, pd.factorize(df["family"], sort=True)[0]


def test_event_study_coefficients_and_pretest_equal_the_explicit_dummy_regression(panel):
    es = aligned_event_study(panel, outcome="registry", **COLS)
    y, X, unit = _explicit_event_design(panel)
    ols = sm.OLS(y, X).fit()
    robust = Robust(_explicit_fit(y, X, unit))
    rows = {r["e"]: r for r in es.event}
    for j, name in enumerate([c for c in X.columns if c.startswith("arm_e")]):
        e = int(name.removeprefix("arm_e"))
        assert rows[e]["att"] == pytest.approx(ols.params[name], abs=TOL)
        assert rows[e]["se"] == pytest.approx(robust.coef(j, "cr2").se, abs=TOL)
    C = np.zeros((1, X.shape[1]))
    C[0, list(X.columns).index("arm_e-2")] = 1.0
    htz = robust.htz_test(C)
    assert es.pretest["event_times"] == [-2]
    assert (es.pretest["F"], es.pretest["p_value"]) == pytest.approx((htz.F, htz.p_value), abs=TOL)
    assert rows[-1]["reference"] and rows[-1]["att"] == 0.0


def test_uniform_band_contains_every_pointwise_interval(panel):
    es = aligned_event_study(panel, outcome="registry", **COLS)
    rows = [r for r in es.event if not r["reference"]]
    assert all(r["band_low"] <= r["ci_low"] and r["band_high"] >= r["ci_high"] for r in rows)
    assert all(r["band_high"] - r["band_low"] > r["ci_high"] - r["ci_low"] for r in rows)
    assert es.band_critical_value > stats.norm.ppf(0.975)


def test_uniform_band_equals_the_pointwise_interval_for_one_coefficient(panel):
    e = panel["year"] - panel["intake"]
    es = aligned_event_study(panel[e.isin([-1, 1])], outcome="registry", **COLS, t0="drop")
    (row,) = [r for r in es.event if not r["reference"]]
    assert (row["band_low"], row["band_high"]) == (row["ci_low"], row["ci_high"])
    assert es.band_pointwise_level == 0.95


def test_sup_t_critical_value_matches_sidak_for_independent_coefficients():
    crit = sup_t_critical(np.eye(4), 0.95)
    assert crit == pytest.approx(stats.norm.ppf((1 + 0.95**0.25) / 2), abs=0.01)
    assert sup_t_critical(np.eye(4), 0.95) == crit  # fixed seed: reproducible


def test_event_study_result_is_json_safe(panel):
    text = json.dumps(aligned_event_study(panel, outcome="registry", **COLS).to_dict())
    assert '"band_low"' in text and "NaN" not in text


# --------------------------------------------------------------------------------------------
# Results, alternatives and checks


def test_aligned_result_carries_cr1_cv3_and_a_reproducible_wild_bootstrap(panel):
    a = aligned_did(panel, outcome="registry", **COLS, draws=499, seed=3)
    b = aligned_did(panel, outcome="registry", **COLS, draws=499, seed=3)
    assert set(a.robustness) == {"cr2", "cr1", "cv3", "wild"}
    assert a.robustness["wild"] == b.robustness["wild"]
    assert a.robustness["wild"]["draws"] == 499
    json.dumps(a.to_dict(), allow_nan=False)


def test_aligned_with_wild_as_primary_takes_its_p_value_and_interval(panel):
    r = aligned_did(panel, outcome="registry", **COLS, inference="wild", draws=499, seed=1)
    assert r.inference == "wild"
    assert r.p_value == r.robustness["wild"]["p_value"]
    assert (r.ci_low, r.ci_high) == (
        r.robustness["wild"]["ci_low"],
        r.robustness["wild"]["ci_high"],
    )


def test_stacked_leaves_out_an_intake_year_without_comparison_families(panel):
    first = panel["intake"].min()
    df = panel[~((panel["intake"] == first) & (panel["arm"] == 0))]
    r = stacked_did(df, outcome="registry", **COLS)
    assert any(f"intake year {int(first)} left out" in w for w in r.warnings)
    assert str(int(first)) not in r.n_by_intake


def test_stacked_unweighted_differs_from_the_corrective_weighting(panel):
    a = stacked_did(panel, outcome="registry", **COLS)
    b = stacked_did(panel, outcome="registry", **COLS, weighting="none")
    assert a.details["weighting"] == "corrective" and b.details["weighting"] == "none"
    assert a.att != pytest.approx(b.att, abs=1e-6)


def test_imputation_refuses_an_intervention_family_without_an_untreated_year(panel):
    e = panel["year"] - panel["intake"]
    victim = panel.loc[panel["arm"] == 1, "family"].iloc[0]
    df = panel[~((panel["family"] == victim) & (e < 0))]
    with pytest.raises(PanelError, match="untreated observation of every family"):
        imputation_did(df, outcome="registry", **COLS)


def test_t0_balance_flags_an_arm_that_entered_deeper(panel):
    calm = t0_balance(panel, outcome="survey", **COLS)
    deeper = t0_balance(_shift_intervention_t0(panel, "survey", 1.5), outcome="survey", **COLS)
    assert deeper.difference == pytest.approx(calm.difference + 1.5, abs=1e-10)
    assert deeper.flagged and deeper.p_value < 0.05


def test_bracket_check_flags_when_did_and_ancova_disagree_about_the_verdict():
    class V:
        def __init__(self, att, p):
            self.att, self.p_value = att, p

    assert bracket_check(V(-0.4, 0.01), V(-0.1, 0.4))["flagged"]
    assert bracket_check(V(-0.4, 0.01), V(0.3, 0.02))["flagged"]
    assert not bracket_check(V(-0.4, 0.01), V(-0.3, 0.03))["flagged"]
    assert bracket_check(V(-0.4, 0.01), V(-0.1, 0.4))["low"] == -0.4


def test_ppml_leaves_out_families_with_only_zeros(panel):
    fam = panel.loc[panel["arm"] == 0, "family"].iloc[0]
    df = panel.assign(count=np.where(panel["family"] == fam, 0.0, panel["count"]))
    r = aligned_ppml(df, outcome="count", **COLS)
    assert r.n_comparison == panel.groupby("family")["arm"].first().eq(0).sum() - 1
    assert any("only zeros" in w for w in r.warnings)


# --------------------------------------------------------------------------------------------
# Unbalanced panels and bad input


def test_aligned_runs_with_attrition_and_families_without_pre_intake_rows():
    df = crisis_panel(n=14, seed=11, attrition=0.3)
    e = df["year"] - df["intake"]
    victim = df.loc[df["arm"] == 1, "family"].iloc[0]
    df = df[~((df["family"] == victim) & (e < 0))]
    r = aligned_did(df, outcome="registry", **COLS, robustness=())
    y, X, unit = explicit_design(df, "registry")
    assert r.att == pytest.approx(sm.OLS(y, X).fit().params["arm_post"], abs=TOL)
    assert r.n_obs == len(df)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.assign(arm=1), "at least 2 comparison families"),
        (lambda d: d.assign(arm=d["arm"] * 2), "must be 1 (intervention) or 0 (comparison)"),
        (lambda d: d.assign(intake=d["intake"] + 0.5), "whole years"),
        (lambda d: d.drop(columns="intake"), "column(s) not found in the panel: intake"),
        (lambda d: d.assign(registry=np.nan), "has no values"),
        (
            lambda d: d[(d["year"] >= d["intake"]) | (d["arm"] == 0)],
            "no intervention family is observed before intake",
        ),
        (
            lambda d: d[(d["year"] <= d["intake"]) | (d["arm"] == 1)],
            "no comparison family is observed after intake",
        ),
        (lambda d: pd.concat([d, d.iloc[[0]]]), "more than one row for period"),
        (
            lambda d: d.assign(arm=np.where(d.index == d.index[0], 1 - d["arm"], d["arm"])),
            "changes column 'arm' over time",
        ),
        (
            lambda d: d.assign(intake=np.where(d.index == d.index[0], 1999, d["intake"])),
            "changes column 'intake' over time",
        ),
    ],
)
def test_bad_panels_raise_a_clear_panel_error(panel, change, message):
    with pytest.raises(PanelError) as info:
        aligned_did(change(panel), outcome="registry", **COLS)
    assert message in str(info.value)


def test_unknown_t0_mode_is_a_panel_error(panel):
    with pytest.raises(PanelError, match="t0 must be one of own, drop, baseline"):
        aligned_did(panel, outcome="registry", t0="keep", **COLS)


def test_ppml_refuses_negative_outcomes(panel):
    with pytest.raises(PanelError, match="negative values"):
        aligned_ppml(panel, outcome="registry", **COLS)


def test_t0_own_without_t0_rows_estimates_arm_x_post_alone(panel):
    no_t0 = panel[panel["year"] != panel["intake"]]
    own = aligned_did(no_t0, outcome="registry", t0="own", **COLS, robustness=())
    drop = aligned_did(panel, outcome="registry", t0="drop", **COLS, robustness=())
    assert own.t0_effect is None
    assert (own.att, own.se) == pytest.approx((drop.att, drop.se), abs=1e-12)


def test_event_study_without_the_reference_year_is_a_panel_error(panel):
    df = panel[panel["year"] - panel["intake"] != -1]
    with pytest.raises(PanelError, match="reference year T-1 of the event study is not observed"):
        aligned_event_study(df, outcome="registry", **COLS)
