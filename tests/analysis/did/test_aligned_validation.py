"""The intake-aligned estimators against independent computations with explicit dummies.

* The aligned arm x post effect against numpy least squares and statsmodels OLS on the explicit
  all-dummies design (family, year and years-since-intake dummies), to 1e-8; its CR2 standard
  error and Satterthwaite df against the validated CR2 routine (``Robust(fit_linear(...))``,
  itself checked against R clubSandwich in test_did_validation.py) applied to that explicit
  design with no absorbed effects, to 1e-8.
* The stacked estimate against an explicit weighted dummy regression on the stacked data; the
  imputation estimate against pyfixest's ``did2s`` with the same first-stage effects and against
  an explicit first-stage OLS; the Poisson PML against ``pyfixest.fepois`` with the same fixed
  effects; the ANCOVA against statsmodels OLS with dummies.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from aligned_panels import COLS, crisis_panel, dummies, explicit_design

from analysis.did import pyfixest_order
from analysis.did.aligned import aligned_did, aligned_lpm
from analysis.did.aligned_alt import corrective_weights, imputation_did, stacked_did
from analysis.did.aligned_checks import ancova_t0, level_comparison
from analysis.did.aligned_panel import prepare_aligned
from analysis.did.aligned_ppml import aligned_ppml
from analysis.did.inference import Robust, fit_linear

TOL = 1e-8


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return crisis_panel(n=14, seed=3, drop_share=0.08)  # unbalanced


def _explicit_cr2(y: pd.Series, X: pd.DataFrame, unit: np.ndarray, w=None) -> tuple:
    fit = fit_linear(
        y.to_numpy(), X.to_numpy(), unit=None, time=None, cluster=unit, weights=w, names=list(X)
    )
    r = Robust(fit).coef(0, "cr2")
    return r.estimate, r.se, r.df


@pytest.mark.parametrize("t0", ["own", "drop"])
def test_aligned_effect_equals_least_squares_with_explicit_dummies(panel, t0):
    r = aligned_did(panel, outcome="registry", t0=t0, **COLS, robustness=())
    y, X, _ = explicit_design(panel, "registry", t0=t0)
    coef = np.linalg.lstsq(X.to_numpy(), y.to_numpy(), rcond=None)[0]
    ols = sm.OLS(y, X).fit()
    assert r.att == pytest.approx(coef[0], abs=TOL)
    assert r.att == pytest.approx(ols.params["arm_post"], abs=TOL)
    assert r.dropped_event_times == [-1, -2]
    assert r.n_obs == len(y)
    if t0 == "own":
        assert r.t0_effect["estimate"] == pytest.approx(ols.params["arm_t0"], abs=TOL)
    else:
        assert r.t0_effect is None


@pytest.mark.parametrize("t0", ["own", "drop"])
def test_aligned_cr2_and_satterthwaite_df_equal_cr2_on_the_all_dummies_design(panel, t0):
    r = aligned_did(panel, outcome="registry", t0=t0, **COLS, robustness=())
    y, X, unit = explicit_design(panel, "registry", t0=t0)
    est, se, df = _explicit_cr2(y, X, unit)
    assert r.inference == "cr2"
    assert (r.att, r.se, r.df) == pytest.approx((est, se, df), abs=TOL)


def test_weighted_aligned_cr2_equals_cr2_on_the_all_dummies_design(panel):
    df = panel.assign(w=np.random.default_rng(1).uniform(0.5, 2.0, len(panel)))
    r = aligned_did(df, outcome="registry", weights="w", **COLS, robustness=())
    y, X, unit = explicit_design(df, "registry")
    est, se, dfree = _explicit_cr2(y, X, unit, w=df.loc[y.index, "w"].to_numpy())
    assert r.weighted
    assert (r.att, r.se, r.df) == pytest.approx((est, se, dfree), abs=TOL)


def test_aligned_lpm_is_the_linear_fit_of_the_binary_outcome_in_percentage_points(panel):
    lpm = aligned_lpm(panel, outcome="binary", **COLS, robustness=("cr1",))
    y, X, unit = explicit_design(panel, "binary")
    est, se, dfree = _explicit_cr2(y, X, unit)
    assert lpm.scale == "percentage points"
    assert (lpm.att, lpm.se, lpm.df) == pytest.approx((100 * est, 100 * se, dfree), abs=1e-6)
    assert lpm.robustness["cr1"]["se"] == pytest.approx(100 * _cr1(y, X, unit), rel=1e-8)


def _cr1(y: pd.Series, X: pd.DataFrame, unit: np.ndarray) -> float:
    """CR1 of the first coefficient by hand, fixest K (family dummies not counted)."""
    ols = sm.OLS(y, X).fit()
    bread = np.linalg.pinv(X.T.to_numpy() @ X.to_numpy())
    scores = pd.DataFrame(X.to_numpy() * ols.resid.to_numpy()[:, None]).groupby(unit).sum()
    meat = scores.T.to_numpy() @ scores.to_numpy()
    G, n = len(np.unique(unit)), len(y)
    K = X.shape[1] - G + 1  # the year dummies plus the dropped one count, families do not
    V = bread @ meat @ bread * G / (G - 1) * (n - 1) / (n - K)
    return float(np.sqrt(V[0, 0]))


# --------------------------------------------------------------------------------------------
# Stacked and imputation


def test_stacked_effect_equals_weighted_dummy_regression_on_the_stacked_data(panel):
    r = stacked_did(panel, outcome="registry", **COLS)
    d = panel.copy()
    e = d["year"] - d["intake"]
    X = pd.DataFrame({"arm_post": d["arm"] * (e >= 1), "arm_t0": d["arm"] * (e == 0)}, dtype=float)
    cohort_year = d["intake"].astype(int).astype(str) + "x" + d["year"].astype(int).astype(str)
    first = d.groupby("intake")["year"].transform("min") == d["year"]
    sy = dummies(cohort_year, "sy")
    sy = sy.loc[:, ~sy[first].any()]  # one year per intake cohort is absorbed by its families
    X = pd.concat([X, dummies(d["family"], "f"), sy], axis=1)
    prep = prepare_aligned(d, outcome="registry", **COLS)
    w = corrective_weights(prep)
    wls = sm.WLS(d["registry"], X, weights=w).fit()
    assert r.att == pytest.approx(wls.params["arm_post"], abs=TOL)
    assert r.t0_effect["estimate"] == pytest.approx(wls.params["arm_t0"], abs=TOL)
    est, se, dfree = _explicit_cr2(d["registry"], X, prep.unit, w=w)
    assert (r.se, r.df) == pytest.approx((se, dfree), abs=TOL)


def test_corrective_weights_give_comparison_rows_the_intervention_share_of_their_intake(panel):
    prep = prepare_aligned(panel, outcome="registry", **COLS)
    w = corrective_weights(prep)
    fam = panel.groupby("family")[["arm", "intake"]].first()
    n_d, n_c = (fam.arm == 1).sum(), (fam.arm == 0).sum()
    for s, g in fam.groupby("intake"):
        expected = ((g.arm == 1).sum() / n_d) / ((g.arm == 0).sum() / n_c)
        rows = ((panel.intake == s) & (panel.arm == 0)).to_numpy()
        assert w[rows] == pytest.approx(expected)
    assert (w[(panel.arm == 1).to_numpy()] == 1).all()


def _did2s(df: pd.DataFrame, outcome: str, monkeypatch: pytest.MonkeyPatch):
    """pyfixest's did2s with its first-stage tolerances tightened from ~1e-6 to 1e-14.

    did2s recovers the first-stage fixed effects with ``Feols.fixef`` (scipy lsqr, atol = btol =
    1e-6 by default) after demeaning to ``fixef_tol``; at those defaults the imputations agree to
    about 1e-7 only.
    """
    import functools
    import importlib

    import pyfixest as pf
    from pyfixest.estimation.models.feols_ import Feols

    did2s_module = importlib.import_module("pyfixest.did.did2s")  # the name is also a function

    pyfixest_order.install()
    fixef = Feols.fixef
    monkeypatch.setattr(
        Feols, "fixef", lambda self, atol=1e-14, btol=1e-14: fixef(self, atol, btol)
    )
    monkeypatch.setattr(
        did2s_module, "feols", functools.partial(did2s_module.feols, fixef_tol=1e-14)
    )
    d = df[["family", "year", "arm", "intake", outcome]].copy()
    d["e"] = d["year"] - d["intake"]
    d["treat"] = (d["arm"] == 1) & (d["e"] >= 0)
    d["arm_post"] = ((d["arm"] == 1) & (d["e"] >= 1)).astype(float)
    d["arm_t0"] = ((d["arm"] == 1) & (d["e"] == 0)).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.did2s(
            d,
            yname=outcome,
            first_stage="~ 0 | family + year + e",
            second_stage="~ arm_post + arm_t0",
            treatment="treat",
            cluster="family",
        )


def test_imputation_equals_pyfixest_did2s_with_the_same_first_stage(monkeypatch):
    # balanced: pyfixest drops families with one untreated row (singletons) and cannot impute them
    panel = crisis_panel(n=14, seed=4)
    r = imputation_did(panel, outcome="registry", **COLS)
    fit = _did2s(panel, "registry", monkeypatch)
    assert r.att == pytest.approx(float(fit.coef()["arm_post"]), abs=TOL)
    assert r.t0_effect["estimate"] == pytest.approx(float(fit.coef()["arm_t0"]), abs=TOL)
    assert r.se == pytest.approx(float(fit.se()["arm_post"]), rel=1e-6)
    assert r.inference == "gmm" and r.df == r.n_clusters - 1


def test_imputation_averages_residuals_of_an_explicit_untreated_fit(panel):
    r = imputation_did(panel, outcome="registry", **COLS)
    d = panel.copy()
    e = d["year"] - d["intake"]
    ev = dummies(e.astype(int), "e")
    X = pd.concat(
        [
            dummies(d["family"], "f"),
            dummies(d["year"], "y", True),
            ev.drop(columns=["e_-1", "e_-2"]),
        ],
        axis=1,
    )
    untreated = ~((d["arm"] == 1) & (e >= 0))
    coef = np.linalg.lstsq(X[untreated].to_numpy(), d.loc[untreated, "registry"], rcond=None)[0]
    resid = d["registry"] - X.to_numpy() @ coef
    assert r.att == pytest.approx(resid[(d["arm"] == 1) & (e >= 1)].mean(), abs=TOL)


# --------------------------------------------------------------------------------------------
# Poisson PML, ANCOVA and level comparison


def test_aligned_ppml_equals_pyfixest_fepois_with_the_same_fixed_effects(panel):
    import pyfixest as pf

    pyfixest_order.install()
    r = aligned_ppml(panel, outcome="count", **COLS)
    y, X, _ = explicit_design(panel, "count", with_fe=False)
    frame = X.rename(columns=lambda c: c.replace("-", "m")).assign(
        y=y, u=panel.loc[y.index, "family"], t=panel.loc[y.index, "year"]
    )
    rhs = " + ".join(c for c in frame.columns if c not in ("y", "u", "t"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.fepois(
            f"y ~ {rhs} | u + t", data=frame, vcov={"CRV1": "u"}, iwls_tol=1e-14, fixef_tol=1e-14
        )
    assert r.coef == pytest.approx(float(fit.coef()["arm_post"]), abs=TOL)
    assert r.inference == "cr1"
    assert r.se == pytest.approx(float(fit.se()["arm_post"]), rel=1e-7)
    assert r.effect == pytest.approx(np.expm1(r.coef))
    assert r.t0_effect["estimate"] == pytest.approx(float(fit.coef()["arm_t0"]), abs=TOL)


def test_ppml_glm_cr2_equals_cr2_of_the_explicit_working_regression(panel):
    r = aligned_ppml(panel, outcome="count", **COLS)
    y, X, unit = explicit_design(panel, "count")
    keep = pd.Series(y.to_numpy()).groupby(unit).transform("sum").to_numpy() > 0
    y, X, unit = y[keep], X[keep], pd.factorize(unit[keep])[0]
    X = X.loc[:, X.abs().sum() > 0]
    mu = np.exp(X.to_numpy() @ sm.GLM(y, X, family=sm.families.Poisson()).fit(tol=1e-14).params)
    z = np.log(mu) + (y.to_numpy() - mu) / mu
    s = np.sqrt(mu)
    fit = fit_linear(s * z, X.to_numpy() * s[:, None], unit=None, time=None, cluster=unit)
    ref = Robust(fit).coef(0, "cr2")  # unit weights: the inverse-variance working model
    cr2 = r.robustness["cr2"]
    assert (cr2["estimate"], cr2["se"], cr2["df"]) == pytest.approx(
        (ref.estimate, ref.se, ref.df), abs=1e-7
    )


def test_ppml_reports_the_effect_at_the_comparison_arms_post_intake_mean(panel):
    r = aligned_ppml(panel, outcome="count", level_unit="euros", **COLS)
    e = panel["year"] - panel["intake"]
    base = panel.loc[(panel["arm"] == 0) & (e >= 1), "count"].mean()
    assert r.comparison_post_mean == pytest.approx(base)
    assert r.level_effect == pytest.approx(r.effect * base)
    assert (r.level_ci_low, r.level_ci_high) == pytest.approx((r.ci_low * base, r.ci_high * base))
    assert r.level_unit == "euros"


def test_ancova_on_t0_equals_ols_with_the_t0_level_and_dummies(panel):
    r = ancova_t0(panel, outcome="survey", **COLS)
    d = panel.copy()
    d["e"] = d["year"] - d["intake"]
    t0 = d[d["e"] == 0].set_index("family")["survey"]
    post = d[(d["e"] >= 1) & d["survey"].notna()].copy()
    post["t0_level"] = post["family"].map(t0)
    post = post[post["t0_level"].notna()]
    X = pd.concat(
        [
            post[["arm", "t0_level"]],
            dummies(post["e"].astype(int), "e", True),
            dummies(post["year"], "y"),
        ],
        axis=1,
    )
    ols = sm.OLS(post["survey"], X).fit()
    assert r.att == pytest.approx(ols.params["arm"], abs=TOL)
    assert r.details["t0_coefficient"] == pytest.approx(ols.params["t0_level"], abs=TOL)
    est, se, dfree = _explicit_cr2(post["survey"], X, pd.factorize(post["family"])[0])
    assert (r.se, r.df) == pytest.approx((se, dfree), abs=TOL)


def test_level_comparison_is_the_difference_of_the_arms_post_intake_means(panel):
    r = level_comparison(panel, outcome="survey", **COLS)
    e = panel["year"] - panel["intake"]
    post = panel[(e >= 1) & panel["survey"].notna()]
    diff = post.loc[post.arm == 1, "survey"].mean() - post.loc[post.arm == 0, "survey"].mean()
    assert r.att == pytest.approx(diff, abs=TOL)
    assert r.design == "level comparison (not a DiD)"
    assert r.warnings[0].startswith("not a DiD")
