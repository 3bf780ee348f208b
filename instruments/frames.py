"""Instrument scores as an analysis frame (pure: pandas, no Django): one row per family, wave
and score, with the version it was entered with and its comparability group (the earliest
version it is declared score-comparable with, through `comparable_with` chains)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from instruments.definition import Definition, text_in
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


def versions_in_group(definitions: Iterable[Definition], code: str, group: int) -> list[int]:
    """The versions of an instrument in one comparability group, in order."""
    defs = [d for d in definitions if d.code == code]
    groups = comparable_groups(defs)
    return sorted(v for (c, v), g in groups.items() if c == code and g == group)


def item_changes_nl(old: Definition, new: Definition) -> str:
    """Which items changed from one version to another, in plain Dutch (the report's break)."""

    def names(codes) -> str:
        return ", ".join(f"'{text_in(new_or_old(c).text)}'" for c in codes)

    def new_or_old(code: str):
        return new.item(code) if code in new.item_codes else old.item(code)

    added = [c for c in new.item_codes if c not in old.item_codes]
    dropped = [c for c in old.item_codes if c not in new.item_codes]
    reworded = [
        c for c in new.item_codes if c in old.item_codes and old.item(c).text != new.item(c).text
    ]
    parts = []
    if added:
        parts.append(f"nieuw in v{new.version}: {names(added)}")
    if dropped:
        parts.append(f"vervallen: {names(dropped)}")
    if reworded:
        parts.append(f"anders geformuleerd: {names(reworded)}")
    if not parts:
        parts.append("dezelfde vragen, maar de versies zijn niet score-vergelijkbaar verklaard")
    return "; ".join(parts)


def break_text_nl(
    definitions: Iterable[Definition],
    scores: pd.DataFrame,
    code: str,
    main_group: int,
    group: int,
) -> str:
    """The report's sentence naming a version break in plain Dutch: from when the versions of
    `group` were used (the first year they were recorded) and which items changed against the
    main group's latest version."""
    defs = {d.version: d for d in definitions if d.code == code}
    versions = versions_in_group(defs.values(), code, group)
    main = versions_in_group(defs.values(), code, main_group)
    name = text_in(defs[versions[0]].name) if versions and versions[0] in defs else code
    used = scores[(scores["instrument"] == code) & (scores["group"] == group)]
    since = int(used["year"].min()) if not used.empty and used["year"].notna().any() else None
    these = " en ".join(f"v{v}" for v in versions) or f"v{group}"
    earlier = " en ".join(f"v{v}" for v in main) or f"v{main_group}"
    when = f"vanaf {since} " if since is not None else ""
    sentence = (
        f"Versiebreuk: {name} {these} is {when}gebruikt en niet score-vergelijkbaar verklaard met "
        f"{earlier}, dus niet samengevoegd maar apart geschat"
    )
    if versions and main and versions[0] in defs and main[-1] in defs:
        sentence += f" (gewijzigd: {item_changes_nl(defs[main[-1]], defs[versions[0]])})"
    return sentence + "."
