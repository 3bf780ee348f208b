"""The research-question registry: each question of the domain brief as data (no if-chains).

An outcome names the derived panel column (analysis/derive.py), its type (which picks the
estimator), the direction that counts as improvement, and whether it is primary within its
question (Holm) or secondary (Benjamini-Hochberg across the run).
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
        (_o("quality_of_life", "kwaliteit van leven (0-10)", "score", "increase"),),
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


def question_list() -> tuple[Question, ...]:
    return QUESTIONS


def verdict(
    effect: float | None, p_adjusted: float | None, better: str, alpha: float = 0.05
) -> str:
    """Plain-language verdict: 'afgenomen', 'toegenomen' or 'niet aangetoond'."""
    if effect is None or p_adjusted is None or p_adjusted != p_adjusted or p_adjusted >= alpha:
        return "niet aangetoond"
    return "afgenomen" if effect < 0 else "toegenomen"


def improved(verdict_text: str, better: str) -> bool | None:
    if verdict_text == "niet aangetoond":
        return None
    return (verdict_text == "afgenomen") == (better == "decrease")
