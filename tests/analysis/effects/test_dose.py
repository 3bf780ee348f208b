"""Dose-response within the intervention arm (pure function on a synthetic panel)."""

import numpy as np
import pandas as pd
import pytest

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
    assert res["p"] < 0.001 and res["df"] == 39


def test_no_gradient_gives_an_interval_around_zero():
    res = dose_slope(_panel(slope_per_hour=0.0), "score")
    assert res["ci_low"] < 0 < res["ci_high"]
    assert abs(res["slope"]) < 0.2


def test_comparison_families_do_not_enter():
    with_cmp = dose_slope(_panel(comparison=20), "score")
    panel = _panel(comparison=20)
    panel.loc[panel["arm"] == "comparison", "score"] += 100.0
    assert dose_slope(panel, "score")["slope"] == pytest.approx(with_cmp["slope"])


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
