"""Instrument scores in the analysis panel (pure): pooled across versions only when declared
score-comparable, otherwise the later version is a named break; the demo's MANSA-12 items."""

from __future__ import annotations

import pandas as pd

from analysis.effects import derive
from instruments.definition import parse_definition
from instruments.frames import comparable_groups, scores_from_answers
from instruments.library import shipped, shipped_definition
from study.demo_data import MANSA_ITEMS


def _answers(version: int, value: int) -> dict:
    return {
        "instrument": "mansa12",
        "version": version,
        "answers": dict.fromkeys(MANSA_ITEMS, value),
    }


def _panel(definitions, rows) -> pd.DataFrame:
    answers = pd.DataFrame(rows).assign(wave=0)
    scores = scores_from_answers(answers, definitions)
    base = answers[["family_id", "year"]].assign(wave=0)
    return derive.instrument_outcomes(base, scores)


def _v2(comparable: bool):
    v1 = shipped_definition("mansa12", 1)
    raw = {**v1.raw, "version": 2, "comparable_with": [1] if comparable else []}
    return [v1, parse_definition(raw)]


def test_the_demo_uses_the_shipped_mansa_items():
    assert MANSA_ITEMS == shipped_definition("mansa12", 1).item_codes


def test_comparable_versions_are_pooled_into_one_outcome():
    rows = [
        {"family_id": 1, "year": 2021, **_answers(1, 3)},
        {"family_id": 1, "year": 2022, **_answers(2, 5)},
    ]
    panel = _panel(_v2(comparable=True), rows)
    assert list(panel["qol_mansa12"]) == [3.0, 5.0]
    assert panel.attrs["instrument_breaks"] == {}


def test_a_version_not_declared_comparable_is_a_break_not_pooled():
    rows = [
        {"family_id": 1, "year": 2021, **_answers(1, 3)},
        {"family_id": 1, "year": 2022, **_answers(2, 5)},
    ]
    panel = _panel(_v2(comparable=False), rows)
    assert panel["qol_mansa12"].tolist()[0] == 3.0 and pd.isna(panel["qol_mansa12"].tolist()[1])
    assert panel.attrs["instrument_breaks"] == {"qol_mansa12": [2]}


def test_comparability_follows_chains():
    v1, v2 = _v2(comparable=True)
    v3 = parse_definition({**v1.raw, "version": 3, "comparable_with": [2]})
    v4 = parse_definition({**v1.raw, "version": 4})
    groups = comparable_groups([v1, v2, v3, v4])
    assert groups == {("mansa12", 1): 1, ("mansa12", 2): 1, ("mansa12", 3): 1, ("mansa12", 4): 4}


def test_every_shipped_definition_scores_an_all_minimum_answer_set():
    for d in shipped():
        rows = pd.DataFrame(
            [{"family_id": 1, "wave": 0, "year": 2021, "instrument": d.code, "version": d.version,
              "answers": {i.code: i.scale.minimum for i in d.items}}]
        )  # fmt: skip
        scores = scores_from_answers(rows)
        assert scores["value"].notna().all(), d.code
        assert set(scores["score"]) == {s.code for s in d.scores}


def test_an_empty_score_frame_leaves_the_outcome_missing():
    base = pd.DataFrame({"family_id": [1], "year": [2021], "wave": [0]})
    panel = derive.instrument_outcomes(base, None)
    assert panel["qol_mansa12"].isna().all() and panel.attrs["instrument_breaks"] == {}


def test_the_report_names_a_version_break_with_the_outcome_label():
    rows = [
        {"family_id": 1, "year": 2021, **_answers(1, 3)},
        {"family_id": 1, "year": 2022, **_answers(2, 5)},
    ]
    panel = _panel(_v2(comparable=False), rows)
    text = derive.instrument_break_warning(panel, "qol_mansa12", "MANSA-12 v1")
    assert text.startswith("versiebreuk: MANSA-12 v1") and "v2 niet vergelijkbaar" in text
    assert derive.instrument_break_warning(panel, "satisfaction", "x") == ""
