"""The multiplicity adjustment of a run's answers against hand-computed numbers (Holm over all
primary outcomes of the plan, m counted before estimation; Benjamini-Hochberg across the
secondary outcomes) and the verdict rule (onzeker, geen oordeel)."""

import pytest

from analysis.effects.adjustment import BH_SECONDARY, HOLM_PRIMARY, adjust, improved, verdict


def _outcome(code, p, *, primary=True, effect=-1.0, better="decrease"):
    return {"code": code, "p": p, "primary": primary, "effect": effect, "better": better}


def _answers():
    return [
        {
            "code": "A",
            "outcomes": [
                _outcome("a1", 0.01),
                _outcome("a2", 0.04),
                _outcome("a3", 0.03, effect=2.0, better="increase"),
                _outcome("a_sec", 0.01, primary=False),
            ],
        },
        {
            "code": "B",
            "outcomes": [
                _outcome("b1", 0.02, effect=1.5),
                _outcome("b_sec1", 0.04, primary=False),
                _outcome("b_sec2", 0.03, primary=False),
                _outcome("b_none", None, primary=False, effect=None),
            ],
        },
    ]


def _by_code(answers):
    return {o["code"]: o for q in answers for o in q["outcomes"]}


def test_holm_over_all_primary_outcomes_of_the_plan_and_bh_across_the_secondaries():
    answers = _answers()
    family = adjust(answers)
    got = _by_code(answers)
    # One Holm family of the plan's four primaries 0.01, 0.04, 0.03, 0.02: sorted times
    # 4, 3, 2, 1 is 0.04, 0.06, 0.06, 0.04; running maximum 0.04, 0.06, 0.06, 0.06.
    assert got["a1"]["p_adjusted"] == pytest.approx(0.04)
    assert got["b1"]["p_adjusted"] == pytest.approx(0.06)
    assert got["a3"]["p_adjusted"] == pytest.approx(0.06)
    assert got["a2"]["p_adjusted"] == pytest.approx(0.06)
    # BH over the run's four secondaries, the one not estimated counted with p = 1:
    # 0.01, 0.04, 0.03, 1 sorted times 4/1, 4/2, 4/3, 4/4 is 0.04, 0.06, 0.0533, 1; running
    # minimum from the top 0.04, 0.0533, 0.0533, 1.
    assert got["a_sec"]["p_adjusted"] == pytest.approx(0.04)
    assert got["b_sec2"]["p_adjusted"] == pytest.approx(0.16 / 3)
    assert got["b_sec1"]["p_adjusted"] == pytest.approx(0.16 / 3)
    assert {got[c]["adjustment"] for c in ("a1", "a2", "a3", "b1")} == {HOLM_PRIMARY}
    assert {got[c]["adjustment"] for c in ("a_sec", "b_sec1", "b_sec2")} == {BH_SECONDARY}
    assert family["primary"]["m"] == 4 and family["secondary"]["m"] == 4


def test_an_outcome_that_failed_to_estimate_still_counts_in_m():
    answers = _answers()
    answers[1]["outcomes"].append(_outcome("b_failed", None, effect=None))
    adjust(answers)
    got = _by_code(answers)
    # Five primaries now (the failed one as p = 1): a1's 0.01 becomes 0.05, no longer shown.
    assert got["a1"]["p_adjusted"] == pytest.approx(0.05)
    assert got["a1"]["verdict"] == "niet aangetoond"
    assert got["b_failed"]["p_adjusted"] is None
    assert got["b_failed"]["verdict"] == "niet aangetoond" and got["b_failed"]["improved"] is None


def test_an_outcome_without_a_p_value_gets_no_adjusted_p():
    answers = _answers()
    adjust(answers)
    none = _by_code(answers)["b_none"]
    assert none["p_adjusted"] is None
    assert none["verdict"] == "niet aangetoond" and none["improved"] is None


def test_verdicts_follow_the_adjusted_p_and_the_sign_of_the_effect():
    answers = _answers()
    adjust(answers)
    got = _by_code(answers)
    assert (got["a1"]["verdict"], got["a1"]["improved"]) == ("afgenomen", True)
    assert got["a2"]["verdict"] == "niet aangetoond"  # raw 0.04, Holm 0.06
    assert got["b1"]["verdict"] == "niet aangetoond"  # raw 0.02, Holm over the plan 0.06
    assert (got["a_sec"]["verdict"], got["a_sec"]["improved"]) == ("afgenomen", True)


def _aligned(code, p, effect, *, pretest=0.5, stacked=None, imputation=None, design="pre_period"):
    row = _outcome(code, p, effect=effect)
    row.update(design="aligned", outcome_design=design, model="linear")
    row["event_study"] = {"pretest_p": pretest}
    row["alternatives"] = {
        "stacked": stacked or {"estimate": effect, "ci_low": effect - 1, "ci_high": effect + 1},
        "imputation": imputation
        or {"estimate": effect, "ci_low": effect - 1, "ci_high": effect + 1},
    }
    return row


def _one(row):
    answers = [{"code": "Q", "outcomes": [row]}]
    adjust(answers)
    return answers[0]["outcomes"][0]


def test_a_clear_aligned_effect_with_agreeing_companions_is_shown_and_favourable():
    got = _one(_aligned("x", 0.001, -1.0))
    assert (got["verdict"], got["improved"], got["uncertain_reasons"]) == ("afgenomen", True, [])


def test_a_rejected_pre_test_makes_the_verdict_uncertain_with_the_reason():
    got = _one(_aligned("x", 0.001, -1.0, pretest=0.01))
    assert got["verdict"] == "onzeker" and got["improved"] is None
    assert got["direction"] == "afgenomen"
    assert "voortoets" in got["uncertain_reasons"][0]
    # ... also when nothing would have been shown
    assert _one(_aligned("x", 0.6, -0.1, pretest=0.01))["verdict"] == "onzeker"


def test_a_companion_of_the_opposite_sign_makes_a_shown_change_uncertain():
    other = {"estimate": 0.4, "ci_low": 0.1, "ci_high": 0.7}
    got = _one(_aligned("x", 0.001, -1.0, imputation=other))
    assert got["verdict"] == "onzeker"
    assert "imputatieschatting" in got["uncertain_reasons"][0]
    assert "geheel aan de andere kant" in got["uncertain_reasons"][0]
    # Not shown in the first place: the companions' signs do not matter.
    assert _one(_aligned("x", 0.6, -0.1, stacked=other))["verdict"] == "niet aangetoond"


def test_a_level_comparison_gets_no_verdict_but_counts_in_the_family():
    level = _aligned("contacts", 1e-9, 5.0, design="none")
    other = _aligned("x", 0.02, -1.0)
    answers = [{"code": "Q", "outcomes": [level, other]}]
    adjust(answers)
    assert level["verdict"] == "geen oordeel (geen meting vóór de start)"
    assert level["improved"] is None
    # m = 2 with the level comparison as p = 1: x's 0.02 becomes 0.04, still shown.
    assert other["p_adjusted"] == pytest.approx(0.04) and other["verdict"] == "afgenomen"


def test_bonferroni_when_the_plan_names_it():
    answers = _answers()
    adjust(answers, method="bonferroni")
    assert _by_code(answers)["a1"]["p_adjusted"] == pytest.approx(0.04)
    assert _by_code(answers)["a2"]["p_adjusted"] == pytest.approx(0.16)


def test_verdict_and_improved_on_their_own():
    assert verdict(-0.2, 0.049, "decrease") == "afgenomen"
    assert verdict(0.2, 0.049, "decrease") == "toegenomen"
    assert verdict(-0.2, 0.05, "decrease") == "niet aangetoond"
    assert verdict(-0.2, float("nan"), "decrease") == "niet aangetoond"
    assert verdict(None, 0.01, "decrease") == "niet aangetoond"
    assert improved("toegenomen", "increase") is True
    assert improved("afgenomen", "increase") is False


def test_romano_wolf_uses_its_p_values_for_the_linear_part_and_holm_for_the_rest():
    answers = _answers()  # primaries a1 .01, a2 .04, a3 .03, b1 .02
    adjust(answers, method="romano-wolf", romano_wolf={"a1": 0.012, "a2": 0.03})
    got = _by_code(answers)
    # m = 4, two in the Romano-Wolf part: p x 4 / 2
    assert got["a1"]["p_adjusted"] == pytest.approx(0.024)
    assert got["a2"]["p_adjusted"] == pytest.approx(0.06)
    # Holm over a3 .03 and b1 .02 (0.04, 0.04) times 4 / 2
    assert got["a3"]["p_adjusted"] == pytest.approx(0.08)
    assert got["b1"]["p_adjusted"] == pytest.approx(0.08)
    assert got["a1"]["adjustment"].startswith("Romano-Wolf")


def test_romano_wolf_step_down_against_a_hand_computed_case():
    import numpy as np

    from analysis.did.romano_wolf import romano_wolf_pvalues

    t_obs = np.array([3.0, 1.0, 2.0])
    star = np.array(
        [[0.5, 3.5, 1.0, 0.2], [2.5, 0.1, 0.3, 1.5], [1.0, 0.5, 2.5, 0.1]]
    )  # draws in columns
    # largest |t| 3.0: max over all rows per draw 2.5, 3.5, 2.5, 1.5 -> 1 of 4 >= 3.0: 0.25
    # next 2.0 (rows 3, 2): max 2.5, 0.5, 2.5, 1.5 -> 2 of 4: 0.5
    # last 1.0 (row 2): 2.5, 0.1, 0.3, 1.5 -> 2 of 4: 0.5, monotone: 0.5
    assert romano_wolf_pvalues(t_obs, star).tolist() == [0.25, 0.5, 0.5]
