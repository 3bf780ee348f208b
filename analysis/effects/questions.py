"""The research-question registry: each question of the domain brief as data (no if-chains).

An outcome names the derived panel column (analysis/effects/derive.py, the one list of them),
its type (which picks the estimator), the direction that counts as improvement, and whether it
is primary within its question (Holm) or secondary (Benjamini-Hochberg across the run). The
registry seeds every new study's questions; a study's researchers edit them as data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from analysis.effects.derive import FAMILY_OUTCOMES, PROFESSIONAL_OUTCOMES


@dataclass(frozen=True)
class Outcome:
    code: str
    label_nl: str
    kind: str  # binary | count | continuous | score
    better: str  # decrease | increase
    primary: bool = True
    unit: str = "family"  # family | professional


@dataclass(frozen=True)
class Question:
    code: str
    group: str  # family | professional | municipality | process
    text_nl: str
    outcomes: tuple[Outcome, ...] = field(default_factory=tuple)
    not_answered_reason: str = ""
    model: str = "auto"  # auto (by outcome type) | linear | lpm | ppml; the design is the plan's


def _o(code, label, kind, better, primary=True, unit="family"):
    return Outcome(code, label, kind, better, primary, unit)


QUESTIONS: tuple[Question, ...] = (
    Question(
        "F1-SE",
        "family",
        "Nemen de sociaaleconomische problemen af?",
        (
            _o("receives_bijstand", "huishouden ontvangt bijstand", "binary", "decrease"),
            _o(
                "below_low_income",
                "inkomen onder de lage-inkomensgrens",
                "binary",
                "decrease",
                False,
            ),
        ),
    ),
    Question(
        "F1-PS",
        "family",
        "Nemen de psychosociale problemen af?",
        (
            _o("any_police", "politieregistratie (verdachte)", "binary", "decrease"),
            _o(
                "parent_mental_health_care", "ouder in GGZ of verslavingszorg", "binary", "decrease"
            ),
            _o("child_youth_care", "kind in jeugdhulp", "binary", "decrease"),
            _o("police_offences", "aantal delicten per jaar", "count", "decrease", False),
            _o("youth_care_ambulant", "trajecten ambulante jeugdhulp", "count", "decrease", False),
        ),
    ),
    Question(
        "F1-UP",
        "family",
        "Nemen de opvoedproblemen af (OTS, andere maatregel, pleegzorg)?",
        (
            _o(
                "child_protection",
                "kind met jeugdbeschermingsmaatregel of pleegzorg",
                "binary",
                "decrease",
            ),
        ),
    ),
    Question(
        "F2",
        "family",
        "Doen gezinnen minder herhaald beroep op zorg?",
        (_o("repeated_care", "herhaald beroep op zorg", "binary", "decrease"),),
    ),
    Question(
        "F3",
        "family",
        "Nemen de kosten per gezin af?",
        (_o("cost_per_family", "kosten per gezin per jaar (euro)", "continuous", "decrease"),),
    ),
    Question(
        "F4",
        "family",
        "Neemt de tevredenheid over de gemeentelijke ondersteuning toe?",
        (_o("satisfaction", "tevredenheid (0-10)", "score", "increase"),),
    ),
    Question(
        "F5",
        "family",
        "Neemt de ervaren kwaliteit van leven toe?",
        (
            _o(
                "qol_mansa12",
                "kwaliteit van leven: MANSA-12 v1, gemiddelde tevredenheid (1-7)",
                "score",
                "increase",
            ),
            _o(
                "quality_of_life",
                "kwaliteit van leven, enkele vraag (0-10)",
                "score",
                "increase",
                False,
            ),
        ),
    ),
    Question(
        "F6",
        "family",
        "Neemt de maatschappelijke participatie toe?",
        (_o("participation_step", "trede participatieladder (1-6)", "score", "increase"),),
    ),
    Question(
        "P1",
        "professional",
        "Neemt de werktevredenheid van professionals toe?",
        (
            _o(
                "job_satisfaction",
                "werktevredenheid (0-10)",
                "score",
                "increase",
                unit="professional",
            ),
        ),
    ),
    Question(
        "P2",
        "professional",
        "Nemen ervaren autonomie, beroepstrots en vakbekwaamheid toe?",
        (
            _o("autonomy", "autonomie (1-5)", "score", "increase", unit="professional"),
            _o("pride", "beroepstrots (1-5)", "score", "increase", unit="professional"),
            _o("competence", "vakbekwaamheid (1-5)", "score", "increase", unit="professional"),
        ),
    ),
    Question(
        "G1",
        "municipality",
        "Neemt het aantal multiprobleemgezinnen in de gemeente af?",
        not_answered_reason="Nog niet beantwoord: vraagt de gemeentelijke monitor over meerdere jaren.",
    ),
    Question(
        "G2",
        "municipality",
        "Nemen de totale kosten van multiprobleemgezinnen af?",
        not_answered_reason="Nog niet beantwoord: vraagt de gemeentelijke monitor over meerdere jaren.",
    ),
    Question(
        "PR1",
        "process",
        "Neemt het gemiddeld aantal hulpverleners per gezin af?",
        (_o("n_care_workers", "aantal hulpverleners", "continuous", "decrease"),),
    ),
    Question(
        "PR2",
        "process",
        "Is de samenwerking tussen organisaties verbeterd?",
        (
            _o(
                "cooperation",
                "samenwerking tussen organisaties (1-5)",
                "score",
                "increase",
                unit="professional",
            ),
        ),
    ),
    Question(
        "PR3",
        "process",
        "Zijn hulpverleners beter bereikbaar?",
        (_o("reachability", "ervaren bereikbaarheid (0-10)", "score", "increase"),),
    ),
    Question(
        "PR4",
        "process",
        "Zijn hulpverleners sneller bereikbaar?",
        (
            _o(
                "response_hours",
                "reactietijd op een vraag van het gezin (uren)",
                "continuous",
                "decrease",
            ),
        ),
    ),
)


# --- questions as data (per study, in the database) --------------------------------------------

KINDS = ("binary", "count", "continuous", "score")
DIRECTIONS = ("decrease", "increase")
MODELS = ("auto", "linear", "lpm", "ppml")
#: A question's old ``estimator`` (before design and model were apart) -> its model.
LEGACY_MODEL = {"auto": "auto", "twfe": "linear", "ppml": "ppml"}
UNITS = ("family", "professional", "municipality", "process")


def question_to_dict(question: Question, order: int = 0) -> dict:
    """A registry question as the plain dict stored per study (StudyQuestion / plan content)."""
    directions = {o.better for o in question.outcomes}
    return {
        "code": question.code,
        "title": question.text_nl,
        "unit": question.group,
        "expected_direction": directions.pop() if len(directions) == 1 else "decrease",
        "model": "auto",
        "primary": any(o.primary for o in question.outcomes) or not question.outcomes,
        "active": True,
        "not_answered_reason": question.not_answered_reason,
        "order": order,
        "outcomes": [
            {
                "code": o.code,
                "label": o.label_nl,
                "kind": o.kind,
                "better": o.better,
                "primary": o.primary,
            }
            for o in question.outcomes
        ],
    }


def registry_dicts() -> list[dict]:
    """The code registry as plain dicts: the seed of every new study's questions."""
    return [question_to_dict(q, order=i) for i, q in enumerate(QUESTIONS)]


def indicators_by_question(indicators: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Question code -> the registry indicators that feed it, from (indicator code, its
    catalogue ``research_questions``, e.g. "F1-PS F3") pairs, in the order given."""
    feeds: dict[str, list[str]] = {}
    for code, questions in indicators:
        for question in (questions or "").split():
            feeds.setdefault(question, []).append(code)
    return feeds


def _outcome_unit(code: str) -> str:
    return "professional" if code in PROFESSIONAL_OUTCOMES else "family"


def validate_outcomes(outcomes: object, default_better: str = "decrease") -> list[dict]:
    """Check an edited outcome list; raises ValueError naming the outcome and field at fault.
    An outcome without ``better`` takes the question's expected direction (``default_better``)."""
    if not isinstance(outcomes, list):
        raise ValueError("outcomes must be a list of objects")
    clean, seen = [], set()
    for i, item in enumerate(outcomes, start=1):
        if not isinstance(item, dict):
            raise ValueError(f"outcome {i}: must be an object with code, label, kind, better")
        code = str(item.get("code", "")).strip()
        if code not in FAMILY_OUTCOMES + PROFESSIONAL_OUTCOMES:
            known = ", ".join(FAMILY_OUTCOMES + PROFESSIONAL_OUTCOMES)
            raise ValueError(f"outcome {i}: code '{code}' is not a derived outcome ({known})")
        if code in seen:
            raise ValueError(f"outcome {i}: code '{code}' appears twice")
        seen.add(code)
        kind = item.get("kind", "continuous")
        if kind not in KINDS:
            raise ValueError(
                f"outcome {i} ({code}): kind '{kind}' must be one of {', '.join(KINDS)}"
            )
        better = item.get("better", default_better)
        if better not in DIRECTIONS:
            raise ValueError(
                f"outcome {i} ({code}): better '{better}' must be decrease or increase"
            )
        primary = item.get("primary", True)
        if not isinstance(primary, bool):
            raise ValueError(f"outcome {i} ({code}): primary must be true or false")
        clean.append(
            {
                "code": code,
                "label": str(item.get("label") or code),
                "kind": kind,
                "better": better,
                "primary": primary,
            }
        )
    return clean


def question_from_dict(data: dict) -> Question:
    """A stored question dict as the runner's Question (inactive questions are the caller's job)."""
    outcomes = tuple(
        Outcome(
            o["code"],
            o.get("label") or o["code"],
            o.get("kind", "continuous"),
            o.get("better", data.get("expected_direction", "decrease")),
            bool(o.get("primary", True)),
            _outcome_unit(o["code"]),
        )
        for o in data.get("outcomes") or []
    )
    return Question(
        data["code"],
        data.get("unit", "family"),
        data.get("title", ""),
        outcomes,
        data.get("not_answered_reason", ""),
        question_model(data),
    )


def question_model(data: dict) -> str:
    """A stored question's model; a question stored before design and model were apart names
    an ``estimator`` instead."""
    if data.get("model") in MODELS:
        return str(data["model"])
    return LEGACY_MODEL.get(str(data.get("estimator", "auto")), "auto")
