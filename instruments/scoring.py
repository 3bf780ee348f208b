"""Scoring an administration from its item answers (pure: no Django).

Reverse items are mirrored on their scale before any score uses them. A score is computed only
when at least `min_items` of its items are answered (an item with a missing-data code or no
answer does not count); a sum is then prorated to all its items (the mean of the answered items
times their number), so a sum with one item missing stays on the scale of the full sum."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from instruments.definition import Definition, ScoreRule


class AnswerError(ValueError):
    """Answers that do not fit the definition: item code -> problem."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class ScoreResult:
    value: float | None
    answered: int
    needed: int

    @property
    def computed(self) -> bool:
        return self.value is not None


def check_answers(
    definition: Definition, answers: Mapping[str, object], missing: Mapping[str, str]
) -> dict[str, int]:
    """The answers as whole numbers on their scales; AnswerError names every item that does not
    fit (unknown item, value off its scale, a value beside a missing code, an unknown code)."""
    problems: dict[str, str] = {}
    known = set(definition.item_codes)
    for code in sorted((set(answers) | set(missing)) - known):
        problems[code] = "not an item of this instrument version"
    clean: dict[str, int] = {}
    for item in definition.items:
        value, code = answers.get(item.code), missing.get(item.code, "")
        if value in (None, ""):
            if code and code not in definition.missing_codes:
                problems[item.code] = f"unknown missing-data code {code!r}"
            continue
        if code:
            problems[item.code] = "an answer and a missing-data code: give one of them"
            continue
        try:
            number = int(str(value))
        except ValueError:
            problems[item.code] = f"{value!r} is not one of the scale's values"
            continue
        if number not in item.scale.values:
            problems[item.code] = f"{number} is not one of the scale's values"
            continue
        clean[item.code] = number
    if problems:
        raise AnswerError(problems)
    return clean


def score_rule(definition: Definition, rule: ScoreRule, answers: Mapping[str, int]) -> ScoreResult:
    """One score from checked answers (see the module docstring for the rules)."""
    values = [definition.item(code).scored(answers[code]) for code in rule.items if code in answers]
    result = ScoreResult(None, len(values), rule.min_items)
    if len(values) < rule.min_items:
        return result
    if rule.method == "value":
        value = float(values[0])
    elif rule.method == "mean":
        value = sum(values) / len(values)
    elif rule.method == "sum":
        value = sum(values) / len(values) * len(rule.items)
    else:  # share_at_most
        value = sum(v <= (rule.threshold or 0) for v in values) / len(values)
    return ScoreResult(round(value, 4), len(values), rule.min_items)


def score_all(definition: Definition, answers: Mapping[str, int]) -> dict[str, float | None]:
    """Every score of the definition from checked answers (None: not enough items answered)."""
    return {rule.code: score_rule(definition, rule, answers).value for rule in definition.scores}


def score_answers(
    definition: Definition, answers: Mapping[str, object], missing: Mapping[str, str] | None = None
) -> dict[str, float | None]:
    """Check and score in one call (AnswerError when the answers do not fit)."""
    return score_all(definition, check_answers(definition, answers, missing or {}))
