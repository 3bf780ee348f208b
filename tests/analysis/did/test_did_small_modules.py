"""Multiplicity, attrition, power and outcome-type estimators, each against a hand computation.

Holm (1979) and Benjamini & Hochberg (1995) values are worked by hand below and match
statsmodels' ``multipletests``. PPML is compared with statsmodels' Poisson GLM with unit and
period dummies (same pseudo-likelihood, so the same coefficient).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from did_panels import make_panel

from analysis.did.attrition import attrition_table, stay_weights
from analysis.did.inference import fit_linear
from analysis.did.multiplicity import benjamini_hochberg, holm
from analysis.did.outcomes import logit_twfe, lpm_twfe, ppml_twfe
from analysis.did.panel import PanelError
from analysis.did.power import did_se, mde_analytic, mde_simulated, power_simulated
from analysis.did.twfe import twfe

COLS = {"unit": "family", "time": "wave", "cohort": "intake"}
P = [0.01, 0.04, 0.03, 0.005]


def test_holm_adjusts_step_down_in_input_order():
    # sorted 0.005, 0.01, 0.03, 0.04 -> 4x, 3x, 2x, 1x = 0.02, 0.03, 0.06, 0.04 -> running max
    assert holm(P) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_benjamini_hochberg_adjusts_step_up_in_input_order():
    # p * m / rank = 0.02, 0.02, 0.04, 0.04 -> running min from the top
    assert benjamini_hochberg(P) == pytest.approx([0.02, 0.04, 0.04, 0.02])


def test_adjusted_p_values_never_exceed_one():
    assert max(holm([0.5, 0.6, 0.7])) == 1.0
    assert benjamini_hochberg([]) == []


def test_p_value_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        holm([0.2, 1.5])


def _with_dropout():
    df = make_panel(seed=21)
    gone = (df["family"].isin(["f000", "f001", "f025"])) & (df["wave"] >= 5)
    return df.loc[~gone].copy()


def test_attrition_table_counts_enrolled_and_observed_per_arm_and_wave():
    df = _with_dropout()
    df["arm"] = np.where(df["intake"] > 0, "intervention", "comparison")
    t = attrition_table(df, "family", "wave", "arm").set_index(["arm", "wave"])
    assert t.loc[("intervention", 4), "observed"] == 20
    assert t.loc[("intervention", 5), "observed"] == 18
    assert t.loc[("comparison", 6), "lost"] == 1
    assert t.loc[("comparison", 6), "retention"] == pytest.approx(19 / 20)


def test_stay_weights_are_one_at_baseline_and_average_one_per_wave():
    df = _with_dropout()
    df["treated"] = (df["intake"] > 0).astype(float)
    w = stay_weights(df, unit="family", time="wave", predictors=["treated"])
    assert (w[df["wave"] == 1] == 1).all()
    assert w[df["wave"] == 6].mean() == pytest.approx(1.0)
    # 2 of 20 intervention families left versus 1 of 20: the stayers of that arm weigh more
    later = df["wave"] == 6
    assert w[later & (df["treated"] == 1)].iloc[0] > w[later & (df["treated"] == 0)].iloc[0]


def test_twfe_accepts_stay_weights_as_analytic_weights():
    df = _with_dropout()
    df["treated"] = (df["intake"] > 0).astype(float)
    df["w"] = stay_weights(df, unit="family", time="wave", predictors=["treated"])
    r = twfe(df, **COLS, outcome="y", weights="w", robustness=("cr1",))
    assert r.weighted and np.isfinite(r.se) and r.df > 0


def test_analytic_did_variance_matches_the_exact_ols_variance_under_compound_symmetry():
    n_t, n_c, pre, post, icc, sd = 6, 9, 3, 4, 0.4, 2.0
    unit = np.repeat(np.arange(n_t + n_c), pre + post)
    time = np.tile(np.arange(pre + post), n_t + n_c)
    d = ((unit < n_t) & (time >= pre)).astype(float)
    fit = fit_linear(np.zeros(d.size), d[:, None], unit=unit, time=time, cluster=unit)
    exact = np.sqrt(sd**2 * (1 - icc) * fit.bread[0, 0])
    assert did_se(n_t, n_c, pre, post, icc, sd) == pytest.approx(exact, rel=1e-10)


def test_analytic_mde_uses_t_quantiles_for_alpha_and_power():
    r = mde_analytic(40, 40, 3, 4, icc=0.5, sd=1.0)
    from scipy import stats

    mult = stats.t.ppf(0.975, 78) + stats.t.ppf(0.8, 78)
    assert r.mde == pytest.approx(mult * did_se(40, 40, 3, 4, 0.5, 1.0))
    assert json.dumps(r.to_dict(), allow_nan=False)


def test_simulated_mde_is_close_to_the_analytic_one():
    a = mde_analytic(40, 40, 3, 4, icc=0.5, sd=1.0)
    s = mde_simulated(40, 40, 3, 4, icc=0.5, sd=1.0, reps=300, seed=3)
    assert s.mde == pytest.approx(a.mde, rel=0.1)


def test_cr2_test_keeps_its_size_without_an_effect():
    rate = power_simulated(0.0, 40, 40, 3, 4, icc=0.5, sd=1.0, reps=2000, seed=4)
    assert 0.035 <= rate <= 0.065  # 5 % +- 3 Monte Carlo SE


def test_design_with_one_family_per_arm_is_refused():
    with pytest.raises(ValueError, match="at least 2 families per arm"):
        mde_analytic(1, 40, 3, 4, icc=0.5, sd=1.0)


def _counts(seed=31):
    rng = np.random.default_rng(seed)
    df = make_panel(seed=seed)
    mu = np.exp(0.5 + 0.1 * df["wave"] + 0.3 * ((df["intake"] > 0) & (df["wave"] >= df["intake"])))
    df["visits"] = rng.poisson(mu * rng.gamma(2, 0.5, size=len(df)))
    return df


def test_ppml_coefficient_equals_poisson_glm_with_dummies_and_reports_exp_minus_one():
    df = _counts()
    r = ppml_twfe(df, **COLS, outcome="visits")
    d = ((df["intake"] > 0) & (df["wave"] >= df["intake"])).astype(float).rename("d")
    X = pd.concat(
        [
            d,
            pd.get_dummies(df["family"], dtype=float),
            pd.get_dummies(df["wave"], dtype=float).iloc[:, 1:],
        ],
        axis=1,
    )
    glm = sm.GLM(df["visits"], X, family=sm.families.Poisson()).fit()
    assert r.coef == pytest.approx(glm.params["d"], rel=1e-5)
    assert r.effect == pytest.approx(np.expm1(r.coef))
    assert r.ci_low < r.effect < r.ci_high


def test_ppml_refuses_negative_counts():
    df = _counts()
    df.loc[3, "visits"] = -1
    with pytest.raises(PanelError, match="negative"):
        ppml_twfe(df, **COLS, outcome="visits")


def _binary(seed=41):
    rng = np.random.default_rng(seed)
    df = make_panel(seed=seed, n_treated=30, n_control=30)
    treated = (df["intake"] > 0) & (df["wave"] >= df["intake"])
    df["job"] = (rng.uniform(size=len(df)) < 0.3 + 0.2 * treated).astype(int)
    return df


def test_lpm_reports_the_twfe_estimate_in_percentage_points():
    df = _binary()
    lpm = lpm_twfe(df, **COLS, outcome="job", robustness=())
    plain = twfe(df, **COLS, outcome="job", robustness=())
    assert lpm.att == pytest.approx(100 * plain.att)
    assert lpm.scale == "percentage points"


def test_lpm_refuses_a_non_binary_outcome():
    with pytest.raises(PanelError, match="must be 0 or 1"):
        lpm_twfe(make_panel(seed=1), **COLS, outcome="y")


def test_logit_sensitivity_gives_odds_ratio_and_marginal_effect_in_points():
    r = logit_twfe(_binary(), **COLS, outcome="job")
    assert r.effect == pytest.approx(np.exp(r.coef))
    assert r.effect > 1 and r.ame_pp > 0
    assert r.ci_low < r.effect < r.ci_high
