"""Cross-checks of the linear DiD machinery against independent computations.

* TWFE against statsmodels OLS with explicit unit and period dummies (coefficient, CR1 by
  hand from statsmodels' cluster scores with the fixest K).
* The restricted wild cluster bootstrap against a brute-force loop that refits statsmodels OLS
  for every one of the 2^G Rademacher draws (full enumeration, so the p-values must agree
  exactly).
* Randomisation inference on a panel with no effect gives a p-value that is not small, and on
  a panel with a large effect a small one.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.did.inference import (
    Robust,
    codes,
    fit_linear,
    wild_cluster_bootstrap,
)
from analysis.did.randomization import randomization_inference
from analysis.did.twfe import twfe


def _panel(n_units=12, n_periods=5, effect=0.0, seed=0, cohort=3, staggered=False):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_units):
        if i < n_units // 2:
            g = cohort + (i % 2 if staggered else 0)
        else:
            g = 0
        a = rng.normal()
        for t in range(1, n_periods + 1):
            d = 1.0 if g and t >= g else 0.0
            rows.append(
                {
                    "u": f"u{i}",
                    "t": t,
                    "g": g,
                    "x": rng.normal(),
                    "y": a + 0.3 * t + effect * d + rng.normal(),
                }
            )
    return pd.DataFrame(rows)


def _dummies_ols(df):
    d = ((df["g"] > 0) & (df["t"] >= df["g"])).astype(float)
    X = pd.concat(
        [
            d.rename("d"),
            df[["x"]],
            pd.get_dummies(df["u"], dtype=float),
            pd.get_dummies(df["t"], prefix="t", dtype=float).iloc[:, 1:],
        ],
        axis=1,
    )
    return sm.OLS(df["y"], X).fit(), X


def test_twfe_coefficient_equals_ols_with_unit_and_period_dummies():
    df = _panel(staggered=True, effect=1.0).sample(frac=0.9, random_state=1)  # unbalanced
    ols, _ = _dummies_ols(df)
    r = twfe(df, unit="u", time="t", cohort="g", outcome="y", covariates=["x"], robustness=())
    assert r.att == pytest.approx(ols.params["d"], rel=1e-10)


def test_cr1_is_cluster_score_sum_with_fixest_small_sample_factor():
    df = _panel(staggered=True, effect=1.0).sample(frac=0.9, random_state=2)
    ols, X = _dummies_ols(df)
    bread = np.linalg.pinv(X.T.to_numpy() @ X.to_numpy())
    scores = X.to_numpy() * ols.resid.to_numpy()[:, None]
    S = pd.DataFrame(scores).groupby(df["u"].to_numpy()).sum().to_numpy()
    cr0 = bread @ S.T @ S @ bread
    G, n = df["u"].nunique(), len(df)
    K = 2 + df["t"].nunique()  # d, x and every period level; unit effects nested in clusters
    expected = np.sqrt(cr0[0, 0] * G / (G - 1) * (n - 1) / (n - K))
    r = twfe(
        df,
        unit="u",
        time="t",
        cohort="g",
        outcome="y",
        covariates=["x"],
        inference="cr1",
        robustness=(),
    )
    assert r.se == pytest.approx(expected, rel=1e-8)


def _brute_force_wild_p(df):
    """WCR by refitting statsmodels OLS with dummies for each of the 2^G Rademacher draws."""
    ols, X = _dummies_ols(df)
    restricted = sm.OLS(df["y"], X.drop(columns="d")).fit()
    fitted, resid = restricted.fittedvalues.to_numpy(), restricted.resid.to_numpy()
    cl = codes(df["u"])
    G = cl.max() + 1

    def t_cr1(y):
        fit = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": cl, "use_correction": False})
        return fit.params["d"] / fit.bse["d"]

    t_obs = abs(t_cr1(df["y"].to_numpy()))
    hits = [
        abs(t_cr1(fitted + resid * np.array(v)[cl])) >= t_obs - 1e-10
        for v in itertools.product([-1.0, 1.0], repeat=G)
    ]
    return float(np.mean(hits))


def test_wild_bootstrap_p_value_equals_brute_force_refit_loop_under_full_enumeration():
    df = _panel(n_units=8, n_periods=4, effect=0.8, seed=3)
    fit = fit_linear(
        df["y"].to_numpy(),
        np.column_stack([((df["g"] > 0) & (df["t"] >= df["g"])).astype(float), df["x"]]),
        unit=codes(df["u"]),
        time=codes(df["t"]),
        cluster=codes(df["u"]),
    )
    ours = wild_cluster_bootstrap(fit, 0, draws=9999, weights="rademacher")
    assert ours.enumerated and ours.draws == 2**8
    assert ours.p_value == pytest.approx(_brute_force_wild_p(df), abs=1e-12)


def test_wild_bootstrap_interval_is_where_the_p_value_crosses_alpha():
    df = _panel(n_units=20, effect=1.0, seed=4)
    fit = fit_linear(
        df["y"].to_numpy(),
        ((df["g"] > 0) & (df["t"] >= df["g"])).to_numpy(float)[:, None],
        unit=codes(df["u"]),
        time=codes(df["t"]),
        cluster=codes(df["u"]),
    )
    w = wild_cluster_bootstrap(fit, 0, draws=1999, seed=7)
    inner_lo = wild_cluster_bootstrap(fit, 0, draws=1999, seed=7, null=w.ci_low + 0.02)
    outer_lo = wild_cluster_bootstrap(fit, 0, draws=1999, seed=7, null=w.ci_low - 0.02)
    assert w.ci_low < w.estimate < w.ci_high
    assert inner_lo.p_value >= 0.05 > outer_lo.p_value


def test_wild_bootstrap_is_reproducible_with_a_seed():
    df = _panel(n_units=30, effect=0.5, seed=5)
    fit = fit_linear(
        df["y"].to_numpy(),
        ((df["g"] > 0) & (df["t"] >= df["g"])).to_numpy(float)[:, None],
        unit=codes(df["u"]),
        time=codes(df["t"]),
        cluster=codes(df["u"]),
    )
    a = wild_cluster_bootstrap(fit, 0, draws=999, seed=11)
    b = wild_cluster_bootstrap(fit, 0, draws=999, seed=11)
    assert (a.p_value, a.ci_low, a.ci_high) == (b.p_value, b.ci_low, b.ci_high)


def test_webb_weights_are_used_under_twelve_clusters():
    df = _panel(n_units=10, effect=0.5, seed=6)
    fit = fit_linear(
        df["y"].to_numpy(),
        ((df["g"] > 0) & (df["t"] >= df["g"])).to_numpy(float)[:, None],
        unit=codes(df["u"]),
        time=codes(df["t"]),
        cluster=codes(df["u"]),
    )
    assert wild_cluster_bootstrap(fit, 0, draws=999, seed=1).weights == "webb"


def test_randomization_inference_p_value_is_not_small_on_a_null_panel():
    df = _panel(n_units=40, effect=0.0, seed=8, staggered=True)
    r = randomization_inference(df, unit="u", time="t", cohort="g", outcome="y", draws=499, seed=1)
    assert r.p_value > 0.1


def test_randomization_inference_p_value_is_small_with_a_large_effect():
    df = _panel(n_units=40, effect=3.0, seed=9, staggered=True)
    r = randomization_inference(df, unit="u", time="t", cohort="g", outcome="y", draws=499, seed=1)
    assert r.p_value <= 0.01


def test_randomization_inference_keeps_the_observed_statistic_equal_to_twfe():
    df = _panel(n_units=20, effect=1.0, seed=10, staggered=True)
    ri = randomization_inference(df, unit="u", time="t", cohort="g", outcome="y", draws=9, seed=1)
    assert ri.statistic == pytest.approx(
        twfe(df, unit="u", time="t", cohort="g", outcome="y", robustness=()).att
    )


def test_cv3_equals_delete_one_cluster_jackknife_by_refitting():
    df = _panel(n_units=10, effect=0.5, seed=12)
    ols, X = _dummies_ols(df)
    b = ols.params["d"]
    drops = []
    for u in df["u"].unique():
        keep = (df["u"] != u).to_numpy()
        Xk = X.loc[keep].loc[:, X.loc[keep].abs().sum() > 0]
        drops.append(sm.OLS(df["y"][keep], Xk).fit().params["d"])
    G = len(drops)
    expected = np.sqrt((G - 1) / G * np.sum((np.array(drops) - b) ** 2))
    fit = fit_linear(
        df["y"].to_numpy(),
        X[["d", "x"]].to_numpy(),
        unit=codes(df["u"]),
        time=codes(df["t"]),
        cluster=codes(df["u"]),
    )
    assert np.sqrt(Robust(fit).vcov("cv3")[0, 0]) == pytest.approx(expected, rel=1e-8)


def test_importing_the_did_package_does_not_load_django():
    code = "import sys, analysis.did, analysis.did.twfe, analysis.did.event_study; print('django' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert out.stdout.strip() == "False"
