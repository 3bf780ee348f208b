"""An instrument's definition as data, read from a YAML/JSON file (pure: no Django).

A definition is one *version* of an instrument: its items, response scales with value labels,
reverse-scored items, scores (total and subscales) with their missing-item rule, the missing-data
codes an item may carry, and the earlier versions whose scores it is declared comparable with.
Versions are added, never edited in place (`version_problems` says what a new version may not do).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: Missing-data codes an item may carry unless the definition names its own (the study's codes,
#: study.models.MissingCode, without the registry-only "not delivered").
DEFAULT_MISSING_CODES = ("unknown", "refused", "not_applicable")
METHODS = ("mean", "sum", "value", "share_at_most")


class DefinitionError(ValueError):
    """A definition file that cannot be used (with every problem found)."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


Text = dict[str, str]  # language code -> text


def text_in(text: Text, language: str = "nl") -> str:
    """The text in a language, else Dutch, else English, else any."""
    for lang in (language, "nl", "en"):
        if text.get(lang):
            return text[lang]
    return next(iter(text.values()), "")


@dataclass(frozen=True)
class Scale:
    code: str
    values: dict[int, Text]  # value -> label per language

    @property
    def minimum(self) -> int:
        return min(self.values)

    @property
    def maximum(self) -> int:
        return max(self.values)


@dataclass(frozen=True)
class Item:
    code: str
    text: Text
    scale: Scale
    reverse: bool = False

    def scored(self, value: int) -> int:
        """The value as it counts in a score (reverse items mirrored on their scale)."""
        if self.reverse:
            return self.scale.minimum + self.scale.maximum - value
        return value


@dataclass(frozen=True)
class ScoreRule:
    code: str
    label: Text
    method: str  # mean | sum | value | share_at_most
    items: tuple[str, ...]
    min_items: int
    threshold: int | None = None  # share_at_most: the share of items scored <= threshold

    @property
    def kind(self) -> str:
        return "share" if self.method == "share_at_most" else "score"


#: The score code a definition's threshold is stored under unless it names its own.
THRESHOLD_SCORE = "threshold_share"


@dataclass(frozen=True)
class Threshold:
    """An ordinal instrument's threshold outcome: the share of its items (domains) scored at most
    `max_score`, e.g. the ZRM's "acuut/niet zelfredzaam" (1-2). Scored per administration as the
    score `code` (method share_at_most) and estimated as an extra outcome when a study uses it."""

    code: str
    label: Text
    max_score: int
    min_score: int = 1  # the lowest value of its items' scale

    @property
    def range_text(self) -> str:
        """The scores at the threshold in words: "score 1-2" (or "laagste score")."""
        if self.max_score == self.min_score:
            return "laagste score"
        return f"score {self.min_score}-{self.max_score}"


@dataclass(frozen=True)
class Definition:
    code: str
    version: int
    name: Text
    construct: str  # quality_of_life | participation | satisfaction | self_sufficiency | ...
    source: str
    licence: str
    items: tuple[Item, ...]
    scores: tuple[ScoreRule, ...]
    missing_codes: tuple[str, ...] = DEFAULT_MISSING_CODES
    comparable_with: tuple[int, ...] = ()
    changes: str = ""
    ordinal: bool = False
    threshold: Threshold | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def item(self, code: str) -> Item:
        return next(i for i in self.items if i.code == code)

    @property
    def item_codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.items)

    def score(self, code: str) -> ScoreRule:
        return next(s for s in self.scores if s.code == code)

    @property
    def label(self) -> str:
        return f"{text_in(self.name)} v{self.version}"

    @property
    def checksum(self) -> str:
        return definition_checksum(self.raw)


def definition_checksum(raw: Mapping[str, Any]) -> str:
    """A stable hash of a definition's content (key order and YAML layout do not matter)."""
    blob = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _text(value: Any, where: str, problems: list[str]) -> Text:
    if isinstance(value, str):
        return {"nl": value}
    if isinstance(value, Mapping) and value and all(isinstance(v, str) for v in value.values()):
        return {str(k): str(v) for k, v in value.items()}
    problems.append(f"{where}: a text or a mapping language -> text is needed")
    return {}


def _scales(raw: Mapping[str, Any], problems: list[str]) -> dict[str, Scale]:
    scales = {}
    for code, spec in (raw.get("scales") or {}).items():
        values = {}
        for value, label in ((spec or {}).get("values") or {}).items():
            try:
                number = int(value)
            except (TypeError, ValueError):
                problems.append(f"scale {code}: value {value!r} is not a whole number")
                continue
            values[number] = _text(label, f"scale {code} value {value}", problems)
        if len(values) < 2:
            problems.append(f"scale {code}: at least two values are needed")
            continue
        scales[str(code)] = Scale(str(code), values)
    return scales


def _items(raw: Mapping[str, Any], scales: dict[str, Scale], problems: list[str]) -> list[Item]:
    items: list[Item] = []
    for n, spec in enumerate(raw.get("items") or [], start=1):
        code = str(spec.get("code", ""))
        if not code.isidentifier():
            problems.append(f"item {n}: code {code!r} must be a name (letters, digits, _)")
            continue
        if spec.get("scale") not in scales:
            problems.append(f"item {code}: unknown scale {spec.get('scale')!r}")
            continue
        text = _text(spec.get("text"), f"item {code}", problems)
        items.append(Item(code, text, scales[spec["scale"]], bool(spec.get("reverse", False))))
    codes = [i.code for i in items]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        problems.append(f"item {code}: listed twice")
    if not items:
        problems.append("no items")
    return items


def _score_rule(spec: Mapping[str, Any], items: list[Item], problems: list[str]):
    code = str(spec.get("code", ""))
    method = spec.get("method", "mean")
    codes = [i.code for i in items]
    chosen = spec.get("items", "all")
    chosen = codes if chosen == "all" else [str(c) for c in chosen]
    unknown = [c for c in chosen if c not in codes]
    if not code.isidentifier():
        problems.append(f"score {code!r}: code must be a name")
    elif method not in METHODS:
        problems.append(f"score {code}: method {method!r} is not one of {', '.join(METHODS)}")
    elif unknown or not chosen:
        problems.append(f"score {code}: unknown items {', '.join(unknown) or '(none listed)'}")
    elif method == "value" and len(chosen) != 1:
        problems.append(f"score {code}: method value takes exactly one item")
    elif method == "share_at_most" and not isinstance(spec.get("threshold"), int):
        problems.append(f"score {code}: method share_at_most needs a whole-number threshold")
    else:
        min_items = int(spec.get("min_items", len(chosen)))
        if not 1 <= min_items <= len(chosen):
            problems.append(f"score {code}: min_items must be between 1 and {len(chosen)}")
            return None
        label = _text(spec.get("label", code), f"score {code}", problems)
        return ScoreRule(code, label, method, tuple(chosen), min_items, spec.get("threshold"))
    return None


def _threshold(
    raw: Mapping[str, Any], items: list[Item], problems: list[str]
) -> tuple[Threshold | None, ScoreRule | None]:
    """The `threshold:` field (`{label, max_score, code?, items?, min_items?}`) and the score
    rule it adds (share_at_most over its items)."""
    spec = raw.get("threshold")
    if spec is None:
        return None, None
    if not isinstance(spec, Mapping):
        problems.append("threshold: a mapping with label and max_score is needed")
        return None, None
    if not raw.get("ordinal"):
        problems.append("threshold: only an ordinal instrument (ordinal: true) has one")
    max_score = spec.get("max_score")
    code = str(spec.get("code", THRESHOLD_SCORE))
    if not isinstance(max_score, int) or isinstance(max_score, bool):
        problems.append("threshold: max_score must be a whole number")
        return None, None
    rule_spec = {
        "code": code,
        "label": spec.get("label", code),
        "method": "share_at_most",
        "threshold": max_score,
        "items": spec.get("items", "all"),
    }
    if "min_items" in spec:
        rule_spec["min_items"] = spec["min_items"]
    rule = _score_rule(rule_spec, items, problems)
    if rule is None:
        return None, None
    scales = [i.scale for i in items if i.code in rule.items]
    if not all(scale.minimum <= max_score < scale.maximum for scale in scales):
        problems.append("threshold: max_score must lie on the items' scale, below its top")
        return None, None
    label = _text(spec.get("label", code), "threshold label", problems)
    return Threshold(code, label, max_score, min(s.minimum for s in scales)), rule


def parse_definition(raw: Mapping[str, Any]) -> Definition:
    """A definition from its parsed file; DefinitionError lists every problem."""
    problems: list[str] = []
    code = str(raw.get("code", ""))
    if not code.isidentifier():
        problems.append(f"code {code!r} must be a name (letters, digits, _)")
    version = raw.get("version")
    if not isinstance(version, int) or version < 1:
        problems.append("version must be a whole number from 1")
        version = 0
    scales = _scales(raw, problems)
    items = _items(raw, scales, problems)
    scores = [_score_rule(spec, items, problems) for spec in raw.get("scores") or []]
    threshold, threshold_rule = _threshold(raw, items, problems)
    if threshold_rule is not None:
        scores.append(threshold_rule)
    if not scores:
        problems.append("no scores")
    codes = [s.code for s in scores if s is not None]
    for dup in sorted({c for c in codes if codes.count(c) > 1}):
        problems.append(f"score {dup}: listed twice")
    missing = tuple(str(c) for c in raw.get("missing_codes") or DEFAULT_MISSING_CODES)
    comparable = tuple(int(v) for v in raw.get("comparable_with") or ())
    if any(v >= version for v in comparable):
        problems.append("comparable_with names only earlier versions")
    if problems:
        raise DefinitionError(problems)
    return Definition(
        code=code,
        version=version,
        name=_text(raw.get("name", code), "name", problems),
        construct=str(raw.get("construct", "")),
        source=str(raw.get("source", "")).strip(),
        licence=str(raw.get("licence", "")).strip(),
        items=tuple(items),
        scores=tuple(s for s in scores if s is not None),
        missing_codes=missing,
        comparable_with=comparable,
        changes=str(raw.get("changes", "")).strip(),
        ordinal=bool(raw.get("ordinal", False)),
        threshold=threshold,
        raw=dict(raw),
    )


def read_definition_file(path: Path) -> Definition:
    """A definition from a .yaml/.yml/.json file."""
    text = Path(path).read_text(encoding="utf-8")
    raw = json.loads(text) if Path(path).suffix == ".json" else yaml.safe_load(text)
    if not isinstance(raw, Mapping):
        raise DefinitionError([f"{Path(path).name}: not a mapping"])
    return parse_definition(raw)


def _item_problems(new: Definition, old: Definition) -> list[str]:
    problems = []
    for item in new.items:
        if item.code not in old.item_codes:
            continue
        before = old.item(item.code)
        if before.scale.values != item.scale.values:
            problems.append(
                f"item {item.code}: its values or labels differ from v{old.version}; "
                "a changed item needs a new code"
            )
        elif before.reverse != item.reverse:
            problems.append(f"item {item.code}: reverse scoring differs from v{old.version}")
    return problems


def _comparability_problems(new: Definition, old: Definition) -> list[str]:
    old_scores = {s.code: s for s in old.scores}
    return [
        f"score {rule.code}: method differs from v{old.version}, not comparable"
        for rule in new.scores
        if rule.code in old_scores and old_scores[rule.code].method != rule.method
    ]


def version_problems(new: Definition, earlier: list[Definition]) -> list[str]:
    """Why a new version may not be added beside the stored ones (empty: it may).

    Never in place: a stored version number with other content is refused. An item code kept
    from an earlier version must keep its scale's values and their labels: exports combine the
    versions in one column per item, so a code whose values changed meaning would make data
    entered under the earlier version unreadable (give the changed item a new code). A version
    declared score-comparable must keep each shared score's method."""
    problems = []
    by_version = {d.version: d for d in earlier if d.code == new.code}
    same = by_version.get(new.version)
    if same is not None and same.checksum != new.checksum:
        problems.append(
            f"{new.code} v{new.version} exists with other content: add version "
            f"{max(by_version) + 1} instead of editing it in place"
        )
    for old in by_version.values():
        if old.version != new.version:
            problems += _item_problems(new, old)
    for version in new.comparable_with:
        earlier_one = by_version.get(version)
        if earlier_one is None:
            problems.append(f"comparable_with names v{version}, which is not stored")
        else:
            problems += _comparability_problems(new, earlier_one)
    return sorted(set(problems))


def changes_between(old: Definition, new: Definition) -> list[tuple[str, str, int]]:
    """What changed from one version to the next, item by item, as (item code, "new" | "wording"
    | "dropped", the new version); the codebook puts it in words (`instruments/exporting.py`)."""
    v = new.version
    lines = []
    for code in new.item_codes:
        if code not in old.item_codes:
            lines.append((code, "new", v))
        elif old.item(code).text != new.item(code).text:
            lines.append((code, "wording", v))
    lines += [(code, "dropped", v) for code in old.item_codes if code not in new.item_codes]
    return lines
