"""The threshold outcome of an ordinal instrument (issue 22): a `threshold` field of the
definition format ({label, max_score, items, min_items}), scored per administration as the share
of its domains at or below max_score (the ZRM's "acuut/niet zelfredzaam", 1-2), and estimated
as an extra outcome when a study records such an instrument. Tested on the invented-text ZRM
fixtures (v1: 11 domains; v2: 13 domains, not declared comparable)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.effects import derive
from analysis.effects.estimate import answer_questions
from instruments.definition import DefinitionError, parse_definition, read_definition_file
from instruments.frames import scores_from_answers
from instruments.scoring import score_answers

DATA = Path(__file__).parent / "data"
V1 = read_definition_file(DATA / "zrm_fixture.v1.yaml")
V2 = read_definition_file(DATA / "zrm_fixture.v2.yaml")


def test_the_threshold_is_a_field_of_the_definition_and_a_score_of_each_administration():
    assert V1.threshold is not None and V1.threshold.max_score == 2
    assert V1.threshold.code == "acute_share" and V1.threshold.range_text == "score 1-2"
    rule = V2.score("acute_share")
    assert rule.method == "share_at_most" and "parenting" not in rule.items
    values = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 3]
    answers = {f"domain_{i:02d}": v for i, v in enumerate(values, start=1)}
    assert score_answers(V1, answers)["acute_share"] == pytest.approx(4 / 11, abs=1e-4)
    # the missing-item rule: 8 of 11 domains answered is below min_items 9
    fewer = dict(list(answers.items())[:8])
    assert score_answers(V1, fewer)["acute_share"] is None
    # hand-scored with two domains refused: 3 of the 9 answered at 1-2
    refused = answers | {"domain_01": None, "domain_10": None}
    missing = {"domain_01": "refused", "domain_10": "refused"}
    assert score_answers(V1, refused, missing)["acute_share"] == pytest.approx(3 / 9, abs=1e-4)


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"ordinal": False}, "only an ordinal instrument"),
        ({"threshold": {"label": "x", "max_score": 5}}, "below its top"),
        ({"threshold": {"label": "x", "max_score": "two"}}, "whole number"),
        ({"threshold": {"label": "x", "max_score": 2, "items": ["nope"]}}, "unknown items"),
    ],
)
def test_a_threshold_that_does_not_fit_the_instrument_is_refused(change, problem):
    with pytest.raises(DefinitionError, match=problem):
        parse_definition(dict(V1.raw) | change)


def _answers(seed: int = 3, per_cell: int = 15) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Families at T0-T3, intake 2021-2024; a domain is at 1-2 with chance 0,45 (comparison,
    and the intervention before the approach) or 0,25 (the intervention after): the true
    effect on the share is -20 percentage points. v2 (13 domains) from 2024 on."""
    rng = np.random.default_rng(seed)
    base, answered = [], []
    family = 0
    for intake in range(2021, 2025):
        for arm in ("intervention", "comparison"):
            for _ in range(per_cell):
                family += 1
                for wave in range(4):
                    year = intake + wave
                    treated = arm == "intervention" and wave >= 1
                    version = 2 if year >= 2024 else 1
                    n = 13 if version == 2 else 11
                    acute = rng.random(n) < (0.25 if treated else 0.45)
                    low, high = rng.integers(1, 3, n), rng.integers(3, 6, n)
                    values = np.where(acute, low, high)
                    items = {f"domain_{i:02d}": int(v) for i, v in enumerate(values, start=1)}
                    answered.append((family, wave, year, "zrm_fixture", version, items))
                    base.append((family, year, wave, arm, intake, "active", 0))
    panel = pd.DataFrame(
        base, columns=["family_id", "year", "wave", "arm", "intake_year", "status", "cohort"]
    )
    panel["cohort"] = np.where(panel["arm"] == "intervention", panel["intake_year"] + 1, 0)
    frame = pd.DataFrame(
        answered, columns=["family_id", "wave", "year", "instrument", "version", "answers"]
    )
    return panel, frame


def test_a_study_with_an_ordinal_instrument_gets_the_threshold_as_an_extra_outcome():
    panel, answered = _answers()
    scores = scores_from_answers(answered, [V1, V2])
    derived = derive.instrument_outcomes(panel, scores, [V1, V2])
    (threshold,) = derived.attrs["threshold_outcomes"]
    assert threshold["column"] == "threshold__zrm_fixture" and threshold["group"] == 1
    assert threshold["label"].startswith("ZRM-formaat (testfixture, 11 domeinen) v1: aandeel")
    assert "'acuut/niet zelfredzaam' (score 1-2)" in threshold["label"]
    result = answer_questions(derived, pd.DataFrame(), (), inference="cr2", draws=0, seed=1)
    (question,) = result["questions"]
    assert question["code"] == "D1" and "acuut/niet zelfredzaam" in question["text"]
    (outcome,) = question["outcomes"]
    assert outcome["code"] == "threshold__zrm_fixture" and not outcome["primary"]
    assert outcome["scale"] == "procentpunten" and outcome["outcome_design"] == "t0_only"
    assert any("geen vraag uit het analyseplan" in w for w in outcome["warnings"])
    # the true effect is -20 percentage points on v1; v2 (not comparable) is its own segment
    assert outcome["ci_low"] <= -20 <= outcome["ci_high"] and outcome["effect"] < -10
    (segment,) = outcome["version_segments"]
    assert segment["label"] == "ZRM-formaat (testfixture, 13 domeinen) v2"
    assert "vanaf 2024" in segment["break"]
    assert "nieuw in v2: 'Verzonnen domein 12', 'Verzonnen domein 13'" in segment["break"]
    assert segment["ci_low"] <= -20 <= segment["ci_high"]
    assert result["multiplicity"]["secondary"]["m"] == 1


def test_a_study_without_an_ordinal_instrument_has_no_threshold_question():
    panel, answered = _answers(per_cell=2)
    result = answer_questions(
        derive.instrument_outcomes(panel, None, []), pd.DataFrame(), (), draws=0
    )
    assert result["questions"] == []
