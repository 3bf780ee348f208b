"""The multiplicity adjustment of a run's answers against hand-computed numbers: Holm within each
question's primary outcomes, Benjamini-Hochberg across all secondary outcomes of the run."""

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


def test_holm_within_a_question_and_bh_across_the_secondaries():
    answers = _answers()
    adjust(answers)
    got = _by_code(answers)
    # Holm on A's primaries 0.01, 0.04, 0.03: sorted 0.01, 0.03, 0.04 times 3, 2, 1 is
    # 0.03, 0.06, 0.04; running maximum 0.03, 0.06, 0.06.
    assert got["a1"]["p_adjusted"] == pytest.approx(0.03)
    assert got["a3"]["p_adjusted"] == pytest.approx(0.06)
    assert got["a2"]["p_adjusted"] == pytest.approx(0.06)
    # B has one primary outcome: Holm leaves it as it is (A's primaries are another family).
    assert got["b1"]["p_adjusted"] == pytest.approx(0.02)
    # BH over the run's three secondaries 0.01, 0.04, 0.03: sorted times 3/1, 3/2, 3/3 is
    # 0.03, 0.045, 0.04; running minimum from the top 0.03, 0.04, 0.04.
    assert got["a_sec"]["p_adjusted"] == pytest.approx(0.03)
    assert got["b_sec2"]["p_adjusted"] == pytest.approx(0.04)
    assert got["b_sec1"]["p_adjusted"] == pytest.approx(0.04)
    assert {got[c]["adjustment"] for c in ("a1", "a2", "a3", "b1")} == {HOLM_PRIMARY}
    assert {got[c]["adjustment"] for c in ("a_sec", "b_sec1", "b_sec2")} == {BH_SECONDARY}


def test_an_outcome_without_a_p_value_takes_no_part():
    answers = _answers()
    adjust(answers)
    none = _by_code(answers)["b_none"]
    assert none["p_adjusted"] is None and "adjustment" not in none
    assert none["verdict"] == "niet aangetoond" and none["improved"] is None


def test_verdicts_follow_the_adjusted_p_and_the_sign_of_the_effect():
    answers = _answers()
    adjust(answers)
    got = _by_code(answers)
    assert (got["a1"]["verdict"], got["a1"]["improved"]) == ("afgenomen", True)
    assert got["a2"]["verdict"] == "niet aangetoond"  # raw 0.04, Holm 0.06
    assert got["a3"]["verdict"] == "niet aangetoond"
    assert (got["b1"]["verdict"], got["b1"]["improved"]) == ("toegenomen", False)  # worse
    assert (got["b_sec2"]["verdict"], got["b_sec2"]["improved"]) == ("afgenomen", True)


def test_verdict_and_improved_on_their_own():
    assert verdict(-0.2, 0.049, "decrease") == "afgenomen"
    assert verdict(0.2, 0.049, "decrease") == "toegenomen"
    assert verdict(-0.2, 0.05, "decrease") == "niet aangetoond"
    assert verdict(-0.2, float("nan"), "decrease") == "niet aangetoond"
    assert verdict(None, 0.01, "decrease") == "niet aangetoond"
    assert improved("toegenomen", "increase") is True
    assert improved("afgenomen", "increase") is False
