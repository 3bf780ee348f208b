"""Household balance and the matched design's diagnostics (analysis/did/matching.py), by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from analysis.did.matching import NO_POOL, household_balance, matching_diagnostics


def _families():
    # Four 1:1 pairs (P1 ... P4), one 1:2 set (S5), one comparison family outside any set, one
    # intervention family whose set has no comparison family (P6).
    rows = [
        # family, arm, intake, adults, children, set
        (1, "intervention", 2020, 1, 2, "P1"),
        (2, "comparison", 2020, 2, 2, "P1"),
        (3, "intervention", 2020, 1, 3, "P2"),
        (4, "comparison", 2020, 1, 1, "P2"),
        (5, "intervention", 2021, 2, 1, "P3"),
        (6, "comparison", 2021, 2, 2, "P3"),
        (7, "intervention", 2021, 1, 4, "P4"),
        (8, "comparison", 2022, 1, 2, "P4"),
        (9, "intervention", 2022, 2, 1, "S5"),
        (10, "comparison", 2022, 2, 3, "S5"),
        (11, "comparison", 2022, 1, 1, "S5"),
        (12, "comparison", 2021, 2, 2, ""),
        (13, "intervention", 2022, 1, 5, "P6"),
    ]
    return pd.DataFrame(
        rows, columns=["family_id", "arm", "intake_year", "n_adult", "n_child", "match_set"]
    )


def _smd(t, c):
    t, c = np.asarray(t, float), np.asarray(c, float)
    return (t.mean() - c.mean()) / math.sqrt((t.var(ddof=1) + c.var(ddof=1)) / 2)


def test_household_balance_equals_a_hand_computation():
    fam = _families()
    rows = {r["variable"]: r for r in household_balance(fam)}
    assert set(rows) == {"n_adult", "n_child", "single_adult", "intake_year"}
    t = fam.loc[fam.arm == "intervention"]
    c = fam.loc[fam.arm == "comparison"]
    assert rows["n_child"]["smd"] == pytest.approx(_smd(t.n_child, c.n_child))
    assert rows["single_adult"]["smd"] == pytest.approx(_smd(t.n_adult == 1, c.n_adult == 1))
    assert rows["n_child"]["period"] == "intake"
    assert (rows["n_child"]["n_intervention"], rows["n_child"]["n_comparison"]) == (6, 7)


def test_matching_diagnostics_say_how_the_sets_were_formed_and_balance_after_matching():
    fam = _families()
    t1 = pd.DataFrame({"family_id": fam.family_id, "bijstand T-1": np.arange(13) % 3})
    out = matching_diagnostics(fam, match_variables="wijk, gezinsgrootte", outcomes=t1)
    assert out["variables"] == "wijk, gezinsgrootte"
    assert (out["n_sets"], out["n_complete_sets"]) == (6, 5)
    assert out["set_sizes"] == {"1:0": 1, "1:1": 4, "1:2": 1}
    assert out["families_in_complete_sets"] == 11
    assert out["families_outside_sets"] == 2  # family 12 (no set) and 13 (P6 has no comparison)
    assert out["sets_across_intake_years"] == 1  # P4
    after = {r["variable"]: r for r in out["after"]}
    matched = fam.loc[fam.match_set.isin(["P1", "P2", "P3", "P4", "S5"])]
    t = matched.loc[matched.arm == "intervention"]
    c = matched.loc[matched.arm == "comparison"]
    assert after["n_child"]["smd"] == pytest.approx(_smd(t.n_child, c.n_child))
    # within-set difference: mean over sets of (intervention mean - comparison mean) / pooled SD
    diffs = [2 - 2, 3 - 1, 1 - 2, 4 - 2, 1 - (3 + 1) / 2]
    assert after["n_child"]["within_set_smd"] == pytest.approx(
        np.mean(diffs) / fam.n_child.std(ddof=1)
    )
    assert "bijstand T-1" in after and after["n_child"]["period"] == "after matching"
    assert out["before"] == {"computed": False, "reason": NO_POOL}


def test_balance_before_matching_compares_the_intervention_families_with_the_pool():
    fam = _families()
    pool = pd.DataFrame(
        {
            "candidate_key": [f"k{i}" for i in range(8)],
            "intake_year": [2024, 2024, 2025, 2025, 2024, 2025, 2024, 2025],
            "n_child": [1, 4, 2, 5, 3, 1, 2, 6],
            "bijstand": [0, 1, 1, 1, 0, 1, 1, 0],
            "selected": [True, False, True, False, True, False, False, True],
            "match_set": ["P1", "", "P2", "", "P3", "", "", "P4"],
        }
    )
    outcomes = fam[["family_id"]].assign(**{"bijstand T-1": (fam.family_id % 2).astype(float)})
    out = matching_diagnostics(fam, candidates=pool, outcomes=outcomes)
    before = {r["variable"]: r for r in out["before"]}
    t = fam.loc[fam.arm == "intervention"]
    assert before["n_child"]["smd"] == pytest.approx(_smd(t.n_child, pool.n_child))
    assert before["n_child"]["n_comparison"] == 8
    assert before["intake_year"]["smd"] == pytest.approx(_smd(t.intake_year, pool.intake_year))
    t_bij = outcomes.loc[outcomes.family_id.isin(t.family_id), "bijstand T-1"]
    assert before["bijstand T-1"]["smd"] == pytest.approx(_smd(t_bij, pool.bijstand))
    assert out["pool"] == {"n_candidates": 8, "n_selected": 4}
    after = {r["variable"]: r for r in out["after"]}
    assert after["n_child"]["smd_before"] == before["n_child"]["smd"]
    assert after["n_child"]["n_candidates"] == 8


def test_no_sets_recorded_is_not_computed():
    fam = _families().assign(match_set="")
    assert matching_diagnostics(fam)["computed"] is False


def test_the_report_prints_matching_counts_through_the_disclosure_rule():
    from analysis.effects.disclosure import suppress_count
    from analysis.reporting.diagnostics import balance_context, matching_context

    fam = _families()
    results = {
        "questions": [],
        "matching": matching_diagnostics(fam, match_variables="wijk"),
        "balance": household_balance(fam),
    }
    shown = matching_context(results)
    assert shown["families_outside_sets"] == suppress_count(2)
    assert shown["families_in_complete_sets"] == suppress_count(11)
    assert shown["pool"] is False and shown["before_reason"] == NO_POOL
    assert {r["variable"] for r in shown["after"]} >= {"kinderen in het huishouden"}
    rows = balance_context(results)["rows"]
    assert {r["period"] for r in rows} == {"bij de intake"}
    assert all(r["n_intervention"] == suppress_count(6) for r in rows)
    assert matching_context({"questions": []}) is None


def test_the_report_shows_before_matching_columns_only_when_a_pool_was_recorded():
    from django.template.loader import render_to_string

    from analysis.reporting.diagnostics import matching_context

    fam = pd.concat([_families()] * 3, ignore_index=True)  # enough families to show SMDs
    fam["family_id"] = range(1, len(fam) + 1)
    fam["match_set"] = fam["match_set"].where(fam["match_set"] == "", fam["match_set"] + "x")
    fam["match_set"] = [f"{s}{i // 14}" if s else "" for i, s in enumerate(fam["match_set"])]
    pool = pd.DataFrame(
        {
            "candidate_key": [f"k{i}" for i in range(30)],
            "intake_year": [2020 + i % 3 for i in range(30)],
            "n_child": [1 + i % 5 for i in range(30)],
            "selected": [i < 10 for i in range(30)],
            "match_set": [f"P{i}" if i < 10 else "" for i in range(30)],
        }
    )
    with_pool = matching_context(
        {"questions": [], "matching": matching_diagnostics(fam, candidates=pool)}
    )
    without = matching_context({"questions": [], "matching": matching_diagnostics(fam)})
    assert with_pool["pool"] is True
    row = next(r for r in with_pool["after"] if r["variable"] == "kinderen in het huishouden")
    t = fam.loc[fam.arm == "intervention"]
    assert row["smd_before"] == f"{_smd(t.n_child, pool.n_child):.2f}".replace(".", ",")
    html = render_to_string("analysis/report_body.html", {"matching": with_pool})
    assert "SMD voor matching" in html and "kandidatenpool van" in html
    html = render_to_string("analysis/report_body.html", {"matching": without})
    assert "SMD voor matching" not in html and "geen kandidatenpool vastgelegd" in html
