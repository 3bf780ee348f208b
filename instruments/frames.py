"""Instrument scores as an analysis frame (pure: pandas, no Django): one row per family, wave
and score, with the version it was entered with and its comparability group (the earliest
version it is declared score-comparable with, through `comparable_with` chains)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from instruments.definition import Definition
from instruments.library import shipped
from instruments.scoring import score_all

SCORE_COLUMNS = ["family_id", "wave", "year", "instrument", "version", "group", "score", "value"]


def comparable_groups(definitions: Iterable[Definition]) -> dict[tuple[str, int], int]:
    """(code, version) -> the earliest version its scores are declared comparable with."""
    declared = {(d.code, d.version): d.comparable_with for d in definitions}
    groups: dict[tuple[str, int], int] = {}
    for code, version in sorted(declared):
        earlier = [groups[(code, v)] for v in declared[(code, version)] if (code, v) in groups]
        groups[(code, version)] = min(earlier, default=version)
    return groups


def scores_from_answers(
    answers: pd.DataFrame, definitions: Iterable[Definition] | None = None
) -> pd.DataFrame:
    """Score a frame of item answers (family_id, wave, year, instrument, version, answers) with
    the definitions (default: the shipped ones)."""
    known = {(d.code, d.version): d for d in (definitions or shipped())}
    groups = comparable_groups(known.values())
    rows = []
    for row in answers.itertuples(index=False):
        key = (row.instrument, int(row.version))
        for score, value in score_all(known[key], row.answers).items():
            rows.append((row.family_id, row.wave, row.year, *key, groups[key], score, value))
    frame = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    return frame


def score_outcome(scores: pd.DataFrame, instrument: str, score: str, group: int) -> pd.DataFrame:
    """One outcome column's values (family_id, year, value): the score of the versions in one
    comparability group only; versions outside it are a break, never pooled."""
    if scores is None or scores.empty:
        return pd.DataFrame(columns=["family_id", "year", "value"])
    chosen = scores[
        (scores["instrument"] == instrument)
        & (scores["score"] == score)
        & (scores["group"] == group)
    ]
    return chosen[["family_id", "year", "value"]]


def version_breaks(scores: pd.DataFrame, instrument: str, group: int) -> list[int]:
    """Versions of an instrument recorded outside the comparability group an outcome uses."""
    if scores is None or scores.empty:
        return []
    rows = scores[(scores["instrument"] == instrument) & (scores["group"] != group)]
    return sorted({int(v) for v in rows["version"]})
