"""Run diagnostics follow the plan: its HonestDiD settings, its pre-registered MDE, and
randomisation inference within the matched pairs recorded at set-up (pure; few draws)."""

import numpy as np
import pytest

from analysis.did.aligned_panel import prepare_aligned
from analysis.did.design_sim import CrisisDesign, simulate_study
from analysis.did.diagnostics_robust import aligned_ri
from analysis.effects import run_diagnostics as rd


@pytest.fixture(scope="module")
def panel():
    df = simulate_study(CrisisDesign(effect="constant"), np.random.default_rng(4)).frame()
    df = df.rename(
        columns={"family": "family_id", "intake": "intake_year", "registry": "child_protection"}
    )
    # Pairs within an intake year: the k-th intervention and the k-th comparison family.
    fam = df.groupby("family_id")[["arm", "intake_year"]].first().reset_index()
    fam["rank"] = fam.groupby(["intake_year", "arm"]).cumcount()
    fam["pair"] = "P-" + fam["intake_year"].astype(str) + "-" + fam["rank"].astype(str)
    df = df.merge(fam[["family_id", "pair"]], on="family_id").rename(columns={"pair": rd.BLOCK})
    df["arm"] = np.where(df["arm"] == 1, "intervention", "comparison")
    return df


def _results():
    row = {
        "code": "child_protection",
        "primary": True,
        "design": "aligned",
        "outcome_design": "pre_period",
        "model": "linear",
        "effect": 1.0,
    }
    return {
        "questions": [{"outcomes": [row]}],
        "multiplicity": {"primary": {"method": "Holm", "m": 2}, "alpha": 0.05},
    }


def test_ri_permutes_within_intake_year_and_matched_pair(panel):
    out = rd.add_diagnostics(
        panel,
        _results(),
        params={"draws": 99, "seed": 5},
        parts={p: p == "robustness" for p in rd.PARTS},
        randomised=False,
    )
    (row,) = out["questions"][0]["outcomes"]
    ri = next(r for r in row["robustness"] if r["method"] == "ri")
    assert "match_set" in ri["line"] and "permutation check" in ri["line"]
    pairs = panel.groupby(["intake_year", rd.BLOCK]).ngroups
    assert ri["cells"] == pairs
    data = panel.assign(arm01=(panel["arm"] == "intervention").astype(float))
    p = prepare_aligned(
        data,
        unit="family_id",
        time="year",
        arm="arm01",
        intake="intake_year",
        outcome="child_protection",
    )
    per = p.data.groupby(p.unit)["family_id"].first()
    groups = data.groupby("family_id")[rd.BLOCK].first().reindex(per.to_numpy()).to_numpy()
    direct = aligned_ri(p, t0="own", groups=groups, draws=99, seed=5)
    assert ri["p_value"] == pytest.approx(direct["p_value"])
    # Permuting within pairs keeps each pair's one intervention family: a different
    # distribution from permuting within intake years only.
    loose = aligned_ri(p, t0="own", groups=None, draws=99, seed=5)
    assert loose["cells"] < direct["cells"]


def test_honest_follows_the_plan_and_the_plan_mde_is_shown_not_simulated(panel):
    planned = {
        "outcomes": {"child_protection": {"mde": 1.25, "unit": "eenheden", "computed": True}}
    }
    out = rd.add_diagnostics(
        panel,
        _results(),
        params={"draws": 19, "seed": 1, "honest": {"restrictions": ["rm"], "target": "first"}},
        parts={"robustness": False, "ipw": False, "ci_width": False},
        planned_mde=planned,
    )
    (row,) = out["questions"][0]["outcomes"]
    assert row["honest"]["computed"] and "rm" in row["honest"] and "sd" not in row["honest"]
    assert row["honest"]["target_weights"]["T1"] == 1.0
    assert sum(row["honest"]["target_weights"].values()) == 1.0
    assert row["mde_planned"] == {**planned["outcomes"]["child_protection"], "source": "plan"}


@pytest.mark.parametrize("plan_sd, label", [(None, "FLCI"), ("C-LF", "C-LF")])
def test_smoothness_uses_flci_unless_the_plan_chose_c_lf(panel, plan_sd, label):
    honest = {"restrictions": ["sd"], "target": "first"}
    if plan_sd:
        honest["sd_method"] = plan_sd
    out = rd.add_diagnostics(
        panel,
        _results(),
        params={"draws": 19, "seed": 1, "honest": honest},
        parts={p: p == "honest" for p in rd.PARTS},
    )
    (row,) = out["questions"][0]["outcomes"]
    assert row["honest"]["sd"]["method"].startswith(label)
    assert row["honest"]["sd"]["intervals"][0]["value"] == 0.0


def test_without_a_plan_mde_the_run_simulates_one_and_says_so(panel):
    out = rd.add_diagnostics(
        panel,
        _results(),
        params={"draws": 19, "seed": 1, "mde_reps": 50},
        parts={p: p == "mde_planned" for p in rd.PARTS},
    )
    (row,) = out["questions"][0]["outcomes"]
    assert row["mde_planned"]["source"] == "run" and row["mde_planned"]["mde"] > 0


def test_ri_permutes_within_intake_year_and_allocation_block(panel):
    # A randomised study: blocks of four families in family order (the allocation log's
    # stratum and block), beside a stratum column; the blocks win and the line names them.
    fam = panel.groupby("family_id").size().index.to_series()
    block = {f: f"noord#{i // 4 + 1}" for i, f in enumerate(fam)}
    data = panel.drop(columns=rd.BLOCK).assign(
        **{rd.ALLOCATION_BLOCK: panel["family_id"].map(block), rd.STRATUM: "noord"}
    )
    out = rd.add_diagnostics(
        data,
        _results(),
        params={"draws": 99, "seed": 5},
        parts={p: p == "robustness" for p in rd.PARTS},
        randomised=True,
    )
    (row,) = out["questions"][0]["outcomes"]
    ri = next(r for r in row["robustness"] if r["method"] == "ri")
    assert ri["within"] == rd.ALLOCATION_BLOCK and "permutation check" not in ri["line"]
    # The number of cells (and so of blocks drawn) stays out of the run's JSON; so does the
    # number of assignments of an exact test (here: blocks of four give few enough).
    assert "cells" not in ri and ri["exact"] is True and ri["draws"] is None
    arm = data.assign(arm01=(data["arm"] == "intervention").astype(float))
    p = prepare_aligned(
        arm,
        unit="family_id",
        time="year",
        arm="arm01",
        intake="intake_year",
        outcome="child_protection",
    )
    per = p.data.groupby(p.unit)["family_id"].first()
    groups = np.array([block[f] for f in per.to_numpy()])
    direct = aligned_ri(p, t0="own", groups=groups, draws=99, seed=5)
    assert ri["p_value"] == pytest.approx(direct["p_value"])
    assert direct["cells"] == data.groupby(["intake_year", rd.ALLOCATION_BLOCK]).ngroups
    assert direct["exact"] is True and direct["draws"] <= 99
    # Without blocks (minimisation) the stratum is used, with the note on the line.
    out = rd.add_diagnostics(
        data.drop(columns=rd.ALLOCATION_BLOCK),
        _results(),
        params={"draws": 99, "seed": 5},
        parts={p: p == "robustness" for p in rd.PARTS},
        randomised=True,
        ri_note="minimisatie kent geen blokken",
    )
    (row,) = out["questions"][0]["outcomes"]
    ri = next(r for r in row["robustness"] if r["method"] == "ri")
    assert ri["within"] == rd.STRATUM and ri["note"] == "minimisatie kent geen blokken"
