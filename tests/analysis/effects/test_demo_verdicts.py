"""The report's verdicts on the shipped demo seed, through the run's pure pipeline (no database):
every documented effect is found (its direction, favourable, not "onzeker") and no documented null
is called; the demo generator selects both arms at a crisis and needs no Django."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.effects import derive, estimate
from analysis.effects.questions import QUESTIONS
from instruments.frames import scores_from_answers
from study.demo_data import (
    DEMO_SEED,
    NULL_OUTCOMES,
    TRUE_EFFECTS,
    demo_frames,
    generate_demo,
    treated_share,
)

ROOT = Path(__file__).resolve().parents[3]


def _panels(seed: int = DEMO_SEED):
    frames = demo_frames(generate_demo(seed))
    family = derive.family_year_panel(
        frames["families"],
        frames["wide"],
        frames["surveys"],
        frames["involvements"],
        frames["contacts"],
        None,
        scores_from_answers(frames["instrument_answers"]),
    )
    return family, derive.professional_panel(frames["professionals"], start_year=2020)


@pytest.fixture(scope="module")
def shipped():
    family, professional = _panels()
    results = estimate.answer_questions(family, professional, QUESTIONS)
    return {o["code"]: o for q in results["questions"] for o in q["outcomes"]}, results


@pytest.mark.parametrize("code", sorted(TRUE_EFFECTS))
def test_every_documented_effect_is_found_favourable_and_certain(shipped, code):
    row = shipped[0][code]
    want = "afgenomen" if TRUE_EFFECTS[code]["direction"] == "decrease" else "toegenomen"
    assert row["verdict"] == want, (row["verdict"], row.get("uncertain_reasons"))
    assert row["improved"] is True and row["uncertain_reasons"] == []


@pytest.mark.parametrize("code", sorted(NULL_OUTCOMES))
def test_no_documented_null_is_called(shipped, code):
    assert shipped[0][code]["verdict"] not in ("afgenomen", "toegenomen")


def test_family_outcomes_use_the_aligned_design_their_data_allow(shipped):
    rows, results = shipped
    assert results["design"] == "aligned"
    assert (rows["receives_bijstand"]["outcome_design"], rows["receives_bijstand"]["model"]) == (
        "pre_period",
        "lpm",
    )
    assert rows["youth_care_ambulant"]["model"] == "ppml"
    assert rows["satisfaction"]["outcome_design"] == "t0_only"
    assert any("parallel trends cannot" in w for w in rows["satisfaction"]["warnings"])
    assert "ancova" in rows["satisfaction"]["checks"]
    assert rows["job_satisfaction"]["design"] == "calendar"  # professionals: one start date
    level = rows["response_hours"]
    assert level["outcome_design"] == "none"
    assert level["verdict"] == "geen oordeel (geen meting vóór de start)"


def test_the_aligned_row_carries_event_study_bands_companions_and_the_calendar_line(shipped):
    row = shipped[0]["receives_bijstand"]
    es = row["event_study"]
    assert es["ref"] == -1 and es["pretest_p"] is not None
    leads = [e for e in es["event"] if e["e"] == -2][0]
    assert leads["band_low"] <= leads["ci_low"] <= leads["ci_high"] <= leads["band_high"]
    assert {"stacked", "imputation"} <= set(row["alternatives"])
    assert np.sign(row["alternatives"]["stacked"]["estimate"]) == np.sign(row["effect"])
    assert row["calendar"]["effect"] is not None
    assert row["t0_effect"] is not None  # the partly treated registry year, on its own
    assert row["dropped_event_times"]  # collinear event-time dummies are listed


def test_multiplicity_counts_every_primary_outcome_of_the_plan(shipped):
    _, results = shipped
    n_primary = sum(o.primary for q in QUESTIONS for o in q.outcomes)
    assert results["multiplicity"]["primary"]["m"] == n_primary == 18
    # cost_per_family has no data here (no price catalogue) and still counts
    assert shipped[0]["cost_per_family"]["p_adjusted"] is None


def test_a_calendar_plan_keeps_its_verdict_and_shows_the_aligned_estimate_beside():
    family, professional = _panels()
    results = estimate.answer_questions(family, professional, QUESTIONS, design="calendar")
    row = next(o for q in results["questions"] for o in q["outcomes"] if o["code"] == "any_police")
    assert row["design"] == "calendar" and row["aligned"]["design"] == "aligned"
    assert "crisispunt" in row["crisis_entry_warning"]


def test_both_arms_enter_at_a_crisis_that_passes_by_itself():
    data = generate_demo(DEMO_SEED)
    for arm in ("intervention", "comparison"):
        fams = [f for f in data.families if f.arm == arm]
        level = {e: np.mean([np.mean(f.problems[e]) for f in fams]) for e in (-1, 0, 2)}
        assert min(min(f.problems[0]) for f in fams) > 1.0  # three domains at T0
        assert level[0] > level[-1] and level[0] > level[2] + 0.5  # a peak at intake
    assert treated_share("intervention", generate_demo(DEMO_SEED).families[0].intake, 1) == 1.0
    assert treated_share("comparison", data.families[-1].intake, 3) == 0.0


def test_the_generator_is_pure_and_reproducible():
    code = (
        "import sys; from study.demo_data import generate_demo; generate_demo(3); "
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    a, b = generate_demo(5), generate_demo(5)
    assert [f.intake for f in a.families] == [f.intake for f in b.families]
    assert a.families[3].indicators == b.families[3].indicators


def test_romano_wolf_shares_one_weight_per_family_across_outcomes():
    from analysis.did.romano_wolf import joint_wild_t
    from analysis.effects.aligned_estimate import wild_inputs

    family, _ = _panels()
    family = family.assign(arm01=(family["arm"] == "intervention").astype(float))
    cols = ["family_id", "year", "arm01", "intake_year", "receives_bijstand"]
    data = family[cols].dropna()
    one = wild_inputs(data, "receives_bijstand", outcome_design="pre_period")
    # the same outcome twice, the second on a subset of families: same weight for a family
    fewer = data.loc[data["family_id"] != data["family_id"].iloc[0]]
    two = wild_inputs(fewer, "receives_bijstand", outcome_design="pre_period")
    t_obs, t_star = joint_wild_t([one, one, two], draws=199, seed=4)
    assert t_star.shape == (3, 199)
    assert np.array_equal(t_star[0], t_star[1]) and not np.array_equal(t_star[0], t_star[2])
    assert np.corrcoef(t_star[0], t_star[2])[0, 1] > 0.9  # nearly the same families


def test_a_romano_wolf_plan_adjusts_the_linear_outcomes_jointly(shipped):
    family, professional = _panels()
    results = estimate.answer_questions(
        family, professional, QUESTIONS, multiplicity="romano-wolf", draws=499, seed=1
    )
    rows = {o["code"]: o for q in results["questions"] for o in q["outcomes"]}
    assert rows["receives_bijstand"]["adjustment"].startswith("Romano-Wolf")
    assert rows["youth_care_ambulant"]["model"] == "ppml"  # not linear: in the Holm part
    assert results["multiplicity"]["primary"]["m"] == 18
    for code in ("receives_bijstand", "satisfaction", "n_care_workers", "reachability"):
        assert rows[code]["verdict"] == shipped[0][code]["verdict"]


def test_quality_of_life_is_answered_from_the_mansa_score_and_stays_a_null(shipped):
    rows, results = shipped
    row = rows["qol_mansa12"]
    assert row["label"] == "kwaliteit van leven: MANSA-12 v1, gemiddelde tevredenheid (1-7)"
    assert (row["outcome_design"], row["n_units"], row["primary"]) == ("t0_only", 80, True)
    assert row["verdict"] == "niet aangetoond" and row["ci_low"] < 0 < row["ci_high"]
    (f5,) = [q for q in results["questions"] if q["code"] == "F5"]
    assert [o["code"] for o in f5["outcomes"]] == ["qol_mansa12", "quality_of_life"]
