"""Scoring of every shipped instrument against hand-scored examples, the reverse items, the
missing-item rule, and the version rules (pure: no database)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from django.utils import translation

from instruments.definition import (
    DefinitionError,
    changes_between,
    parse_definition,
    read_definition_file,
    version_problems,
)
from instruments.exporting import change_words
from instruments.library import read_directory, shipped, shipped_definition
from instruments.scoring import AnswerError, check_answers, score_answers

DATA = Path(__file__).parent / "data"
MANSA = {
    "life": 4, "work": 3, "finances": 2, "friends": 5, "leisure": 4, "housing": 6, "safety": 5,
    "household": 5, "sex_life": None, "family": 6, "physical_health": 3, "mental_health": 4,
}  # fmt: skip


def test_every_shipped_definition_reads_and_names_its_source_and_licence():
    codes = {(d.code, d.version) for d in shipped()}
    assert {
        ("participatieladder", 1),
        ("mansa12", 1),
        ("clientervaring_wmo", 1),
        ("clientervaring_jeugd", 1),
        ("survey_satisfaction", 1),
        ("survey_qol_rating", 1),
        ("survey_reachability", 1),
    } <= codes
    assert all(d.source and d.licence for d in shipped())
    assert not any(d.code.startswith("zrm") for d in shipped())  # all rights reserved: not shipped


def test_mansa_mean_of_eleven_answered_items_by_hand():
    scores = score_answers(shipped_definition("mansa12", 1), MANSA, {"sex_life": "refused"})
    assert scores["mean"] == pytest.approx(47 / 11, abs=1e-4)


def test_mansa_is_scored_with_ten_of_twelve_items_and_not_with_nine():
    mansa = shipped_definition("mansa12", 1)
    ten = {**MANSA, "family": None}
    assert score_answers(mansa, ten)["mean"] == pytest.approx(41 / 10)
    nine = {**ten, "work": None}
    assert score_answers(mansa, nine)["mean"] is None


def test_reverse_items_are_mirrored_and_a_sum_is_prorated():
    fixture = read_definition_file(DATA / "reverse_fixture.v1.yaml")
    full = score_answers(fixture, {"a": 4, "b": 1, "c": 3, "d": 2})
    assert full == {"total": 14.0, "positive": 3.5}  # b: 1 -> 4, d: 2 -> 3
    three = score_answers(fixture, {"a": 4, "b": 1, "c": 3}, {"d": "unknown"})
    assert three["total"] == pytest.approx(11 / 3 * 4, abs=1e-4)
    assert score_answers(fixture, {"a": 4, "b": 1})["total"] is None


def test_participatieladder_step_is_its_score():
    assert score_answers(shipped_definition("participatieladder", 1), {"step": 3}) == {"step": 3.0}


def test_client_experience_wmo_total_and_subscales_by_hand():
    wmo = shipped_definition("clientervaring_wmo", 1)
    answers = dict.fromkeys(wmo.item_codes, 4) | {"quickly_helped": 2}
    assert score_answers(wmo, answers) == {
        "mean": pytest.approx(34 / 9, abs=1e-4),
        "access": 3.5,
        "effect": 4.0,
    }
    fewer = answers | {"do_what_i_want": None, "cope_better": None}
    scores = score_answers(wmo, fewer)
    assert scores["effect"] is None and scores["mean"] == pytest.approx(26 / 7, abs=1e-4)


def test_client_experience_jeugd_mean_by_hand():
    jeugd = shipped_definition("clientervaring_jeugd", 1)
    answers = dict(zip(jeugd.item_codes, [5, 4, 3, 2, 1], strict=True))
    assert score_answers(jeugd, answers) == {"mean": 3.0}


def test_single_survey_questions_are_one_item_instruments():
    for code in ("satisfaction", "qol_rating", "reachability"):
        definition = shipped_definition(f"survey_{code}", 1)
        assert definition.item_codes == (code,)
        assert score_answers(definition, {code: 7}) == {code: 7.0}
        assert score_answers(definition, {code: 0}) == {code: 0.0}


def test_zrm_format_mean_threshold_share_and_parenting_supplement():
    zrm = read_definition_file(DATA / "zrm_fixture.v2.yaml")
    values = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 3, 3, 3]
    answers = {f"domain_{i:02d}": v for i, v in enumerate(values, start=1)} | {"parenting": 2}
    scores = score_answers(zrm, answers)
    assert scores["mean"] == 3.0
    assert scores["acute_share"] == pytest.approx(4 / 13, abs=1e-4)
    assert scores["parenting"] == 2.0


def test_answers_off_the_scale_or_beside_a_missing_code_are_refused():
    mansa = shipped_definition("mansa12", 1)
    with pytest.raises(AnswerError) as error:
        check_answers(
            mansa, {"life": 8, "work": 3, "nonsense": 1}, {"work": "refused", "finances": "why"}
        )
    assert set(error.value.problems) == {"life", "work", "nonsense", "finances"}


def test_a_definition_with_problems_lists_them_all():
    with pytest.raises(DefinitionError) as error:
        parse_definition(
            {
                "code": "x",
                "version": 0,
                "scales": {"s": {"values": {1: "a"}}},
                "items": [{"code": "q", "scale": "s"}],
                "scores": [{"code": "m", "method": "median", "items": "all"}],
            }
        )
    text = str(error.value)
    assert "version" in text and "scale s" in text and "item q" in text


def test_a_version_is_never_edited_in_place():
    mansa = shipped_definition("mansa12", 1)
    edited = parse_definition({**mansa.raw, "changes": "typo fixed"})
    assert version_problems(edited, [mansa]) and "in place" in version_problems(edited, [mansa])[0]
    assert version_problems(mansa, [mansa]) == []


def test_a_kept_item_code_whose_values_change_is_refused():
    mansa = shipped_definition("mansa12", 1)
    raw = {**mansa.raw, "version": 2, "comparable_with": [1]}
    raw["scales"] = {
        "sat7": {
            "values": {k: v for k, v in mansa.raw["scales"]["sat7"]["values"].items() if k != 7}
        }
    }
    problems = version_problems(parse_definition(raw), [mansa])
    assert any("item life" in p and "new code" in p for p in problems)


def test_zrm_2017_is_a_new_version_not_comparable_and_its_changes_are_listed():
    v1, v2 = (d for d in read_directory(DATA) if d.code == "zrm_fixture")
    assert (v1.code, v1.version, v2.version) == ("zrm_fixture", 1, 2)
    assert version_problems(v2, [v1]) == []
    assert v2.comparable_with == ()
    changes = changes_between(v1, v2)
    assert ("domain_12", "new", 2) in changes and ("parenting", "new", 2) in changes
    with translation.override("en"):
        assert change_words("new", 2) == "new in v2"
    with translation.override("nl"):
        assert change_words("new", 2) == "nieuw in v2"
        assert change_words("wording", 3) == "formulering gewijzigd in v3"
        assert change_words("dropped", 2) == "vervallen in v2"


def test_definitions_are_frozen_values():
    mansa = shipped_definition("mansa12", 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        mansa.version = 2  # type: ignore[misc]
