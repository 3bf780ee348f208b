"""Dose-response anchored on the comparison arm (pure function on a synthetic panel)."""

import numpy as np
import pandas as pd

from analysis.effects.dose import PER_HOURS, dose_response, dose_slope, primary_family_outcomes


def _panel(n_families=40, slope_per_hour=-0.05, seed=3, comparison=20):
    """Intake 2020; years 2018-2023. Post-intake change = slope * yearly hours + noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for f in range(n_families + comparison):
        arm = "intervention" if f < n_families else "comparison"
        hours = rng.uniform(5, 60) if arm == "intervention" else rng.uniform(0, 2)
        base = rng.normal(5, 1)
        for year in range(2018, 2024):
            post = year > 2020
            effect = slope_per_hour * hours if (post and arm == "intervention") else 0.0
            rows.append(
                {
                    "family_id": f,
                    "arm": arm,
                    "year": year,
                    "intake_year": 2020,
                    "contact_hours": hours if year >= 2020 else 0.0,
                    "score": base + effect + 0.1 * (year - 2018) + rng.normal(0, 0.3),
                }
            )
    return pd.DataFrame(rows)


def test_slope_recovers_the_dose_gradient():
    res = dose_slope(_panel(), "score")
    true = -0.05 * PER_HOURS
    assert res["n_families"] == 40
    assert res["ci_low"] < true < res["ci_high"]
    assert res["p"] < 0.001 and res["df"] == 59  # all families of both arms are clusters


def test_no_gradient_gives_an_interval_around_zero():
    res = dose_slope(_panel(slope_per_hour=0.0), "score")
    assert res["ci_low"] < 0 < res["ci_high"]
    assert abs(res["slope"]) < 0.2


def _rtm_panel(seed=5, n=60):
    """No dose effect at all; families enter at a crisis (a temporary shock at T0 that fades)
    and the intervention families with the deepest crisis get the most contact hours."""
    rng = np.random.default_rng(seed)
    rows = []
    for f in range(2 * n):
        arm = "intervention" if f < n else "comparison"
        level, crisis = rng.normal(5, 1), rng.exponential(2.0)
        hours = 5 + 20 * crisis + rng.normal(0, 2) if arm == "intervention" else 0.0
        for year in range(2018, 2024):
            shock = crisis * (year == 2019 or year == 2020)  # the two years before entry
            rows.append(
                {
                    "family_id": f,
                    "arm": arm,
                    "year": year,
                    "intake_year": 2020,
                    "contact_hours": max(hours, 0.0) if year >= 2020 else 0.0,
                    "score": level + shock + rng.normal(0, 0.3),
                }
            )
    return pd.DataFrame(rows)


def _within_arm_slope(panel):
    """The old estimate: within the intervention arm, change on dose (what the fix replaces)."""
    import statsmodels.api as sm

    data = panel.loc[panel["arm"] == "intervention"]
    base = data.loc[data["year"] <= data["intake_year"]].groupby("family_id")["score"].mean()
    post = data.loc[data["year"] > data["intake_year"]].copy()
    post["change"] = post["score"] - post["family_id"].map(base)
    dose = data.loc[data["year"] >= data["intake_year"]].groupby("family_id")["contact_hours"]
    post["dose"] = post["family_id"].map(dose.mean()) / PER_HOURS
    fit = sm.OLS(post["change"], sm.add_constant(post[["dose"]])).fit(
        cov_type="cluster", cov_kwds={"groups": post["family_id"]}
    )
    return fit.params["dose"], fit.pvalues["dose"]


def test_regression_to_the_mean_does_not_pass_for_a_dose_effect():
    panel = _rtm_panel()
    naive, naive_p = _within_arm_slope(panel)
    assert naive < 0 and naive_p < 0.001  # within the arm, recovery looks like a dose effect
    res = dose_slope(panel, "score")
    assert res["ci_low"] < 0 < res["ci_high"], res
    assert res["n_comparison"] == 60 and res["df"] == 119
    assert res["baseline_terms"]["pre_T0"] < -0.2  # the comparison arm carries the recovery


def test_too_few_comparison_families_cannot_anchor_the_dose():
    res = dose_slope(_panel(comparison=4), "score")
    assert res["slope"] is None and "vergelijkingsgezinnen" in res["note"]


def test_too_few_families_are_not_estimated():
    res = dose_slope(_panel(n_families=6), "score")
    assert res["slope"] is None and "te weinig" in res["note"]


def test_dose_response_scales_binary_outcomes_and_carries_the_caveat():
    panel = _panel()
    panel["flag"] = (panel["score"] > 5).astype(float)
    out = dose_response(
        panel,
        [
            {"code": "flag", "label": "vlag", "kind": "binary"},
            {"code": "missing_col", "label": "x", "kind": "score"},
        ],
    )
    assert [r["outcome"] for r in out["outcomes"]] == ["flag"]
    assert out["outcomes"][0]["unit"] == "procentpunten"
    assert "niet door loting" in out["caveat"]


def test_primary_family_outcomes_skip_counts_secondary_and_professionals():
    questions = [
        {
            "group": "family",
            "outcomes": [
                {"code": "a", "primary": True, "kind": "binary"},
                {"code": "b", "primary": False, "kind": "binary"},
                {"code": "c", "primary": True, "kind": "count"},
            ],
        },
        {"group": "professional", "outcomes": [{"code": "d", "primary": True, "kind": "score"}]},
    ]
    assert [o["code"] for o in primary_family_outcomes(questions)] == ["a"]
