"""Per-version estimation of an instrument outcome (issue 22): versions not declared
score-comparable are never pooled; each gets its own estimate with the main one's estimator and
inference, labelled "<instrument> v<version>" with the break in plain Dutch; a family measured
under both versions contributes to both segments; a small segment gets no estimate and says why.

The simulated panel: the true effect of the approach on MANSA-12 is +0,5; version 2 reads two
points higher than version 1 for the same person (a shifted scale), and the intervention team
switched to v2 a year before the comparison organisations. Pooling the versions then attributes
part of the shift to the approach; each version on its own recovers the effect."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.effects import derive
from analysis.effects.estimate import MIN_SEGMENT_FAMILIES, answer_questions
from analysis.effects.questions import Outcome, Question
from instruments.definition import parse_definition
from instruments.frames import SCORE_COLUMNS
from instruments.library import shipped

EFFECT, SHIFT = 0.5, 2.0
SWITCH = {"intervention": 2023, "comparison": 2025}  # first calendar year measured with v2


def _definitions():
    v1 = next(d for d in shipped() if d.code == "mansa12" and d.version == 1)
    raw = dict(v1.raw, version=2, comparable_with=[], changes="")
    items = [dict(i) for i in raw["items"]]
    items[0]["text"] = {"nl": "Hoe tevreden bent u over uw leven als geheel, alles bij elkaar?"}
    raw["items"] = items
    return [v1, parse_definition(raw)]


def _simulated(seed: int = 7, per_cell: int = 20, switch: dict | None = None):
    """(base panel, scores frame): 6 intake years x 2 arms x `per_cell` families, T0-T4."""
    switch = switch or SWITCH
    rng = np.random.default_rng(seed)
    rows, scores = [], []
    family = 0
    for intake in range(2021, 2027):
        for arm in ("intervention", "comparison"):
            for _ in range(per_cell):
                family += 1
                level = rng.normal(4.0, 0.6)
                for wave in range(5):
                    year = intake + wave
                    treated = arm == "intervention" and wave >= 1
                    y = level + 0.05 * (year - 2021) + EFFECT * treated + rng.normal(0, 0.3)
                    version = 2 if year >= switch[arm] else 1
                    value = y + SHIFT * (version == 2)
                    rows.append(
                        {
                            "family_id": family,
                            "year": year,
                            "wave": wave,
                            "arm": arm,
                            "intake_year": intake,
                            "status": "active",
                            "cohort": intake + 1 if arm == "intervention" else 0,
                        }
                    )
                    scores.append((family, wave, year, "mansa12", version, version, "mean", value))
    return pd.DataFrame(rows), pd.DataFrame(scores, columns=SCORE_COLUMNS)


F5 = Question(
    "F5",
    "family",
    "Neemt de ervaren kwaliteit van leven toe?",
    (Outcome("qol_mansa12", "kwaliteit van leven: MANSA-12 v1", "score", "increase"),),
)


def _answer(panel):
    result = answer_questions(panel, pd.DataFrame(), (F5,), inference="cr2", draws=0, seed=1)
    return result["questions"][0]["outcomes"][0]


def test_pooling_shifted_versions_is_biased_and_each_version_recovers_the_effect():
    """Four simulated studies: every naive pooled interval misses the true effect (biased by
    the shifted scale); the per-version estimates average to it (each version on its own)."""
    naive, v1, v2 = [], [], []
    for seed in (1, 2, 3, 4):
        base, scores = _simulated(seed=seed)
        # the naive estimate: every version pooled into one column, as if comparable
        pooled = _answer(derive.instrument_outcomes(base, scores.assign(group=1), _definitions()))
        assert not pooled["ci_low"] <= EFFECT <= pooled["ci_high"], pooled
        naive.append(pooled["effect"])
        row = _answer(derive.instrument_outcomes(base, scores, _definitions()))
        v1.append(row["effect"])
        v2.append(row["version_segments"][0]["effect"])
    assert EFFECT - np.mean(naive) > 0.15, naive
    assert abs(np.mean(v1) - EFFECT) < 0.1, v1
    assert abs(np.mean(v2) - EFFECT) < 0.1, v2


def test_a_segment_is_labelled_and_estimated_like_the_main_estimate():
    base, scores = _simulated(seed=1)
    row = _answer(derive.instrument_outcomes(base, scores, _definitions()))
    (segment,) = row["version_segments"]
    assert segment["label"] == "MANSA-12 v2" and segment["code"] == "qol_mansa12__v2"
    assert segment["ci_low"] <= EFFECT <= segment["ci_high"]
    # the same estimator and inference as the main estimate
    assert segment["estimator"] == row["estimator"] and segment["inference"] == row["inference"]
    assert segment["design"] == row["design"] == "aligned"
    assert segment["outcome_design"] == "t0_only"
    # the break in plain Dutch: when, and which items changed
    assert "vanaf 2023" in segment["break"] and "niet score-vergelijkbaar" in segment["break"]
    assert (
        "anders geformuleerd: 'Hoe tevreden bent u over uw leven als geheel" in (segment["break"])
    )
    assert any("per versie apart geschat" in w for w in row["warnings"])


def test_a_family_measured_under_both_versions_counts_in_both_segments():
    base, scores = _simulated(per_cell=2)
    panel = derive.instrument_outcomes(base, scores, _definitions())
    both = panel.groupby("family_id").agg(
        v1=("qol_mansa12", lambda s: s.notna().any()),
        v2=("qol_mansa12__v2", lambda s: s.notna().any()),
    )
    assert (both["v1"] & both["v2"]).sum() > 0
    # a row belongs to exactly one segment: never both, never pooled
    assert not (panel["qol_mansa12"].notna() & panel["qol_mansa12__v2"].notna()).any()
    assert (panel["qol_mansa12"].notna() | panel["qol_mansa12__v2"].notna()).all()


def test_a_small_segment_gets_no_estimate_and_says_why():
    # v2 only in the last calendar year: few families of each arm measured under it
    base, scores = _simulated(per_cell=4, switch={"intervention": 2029, "comparison": 2029})
    panel = derive.instrument_outcomes(base, scores, _definitions())
    assert panel["qol_mansa12__v2"].notna().sum() > 0
    (segment,) = _answer(panel)["version_segments"]
    assert segment["effect"] is None
    assert min(segment["n_intervention"], segment["n_comparison"]) < MIN_SEGMENT_FAMILIES
    assert "te weinig gezinnen" in segment["reason"]


def test_versions_declared_comparable_are_pooled_without_a_segment():
    base, scores = _simulated(per_cell=3)
    v1, v2 = _definitions()
    v2 = parse_definition(dict(v2.raw, comparable_with=[1]))
    panel = derive.instrument_outcomes(base, scores.assign(group=1), [v1, v2])
    assert "qol_mansa12__v2" not in panel
    assert panel.attrs["instrument_segments"] == {}
    assert panel["qol_mansa12"].notna().all()
