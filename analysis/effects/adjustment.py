"""The multiplicity adjustment of a run's answers and the plain-language verdicts (pure).

Holm within each question's primary outcomes (the family-wise error rate of a question), Benjamini-
Hochberg across all secondary outcomes of the run (the false discovery rate); outcomes without a
p-value (not estimated) take no part and get no adjusted p-value.
"""

from __future__ import annotations

from analysis.did.multiplicity import benjamini_hochberg, holm

HOLM_PRIMARY = "Holm (primair)"
BH_SECONDARY = "Benjamini-Hochberg (secundair)"
NOT_SHOWN = "niet aangetoond"


def verdict(
    effect: float | None, p_adjusted: float | None, better: str, alpha: float = 0.05
) -> str:
    """Plain-language verdict: 'afgenomen', 'toegenomen' or 'niet aangetoond'."""
    if effect is None or p_adjusted is None or p_adjusted != p_adjusted or p_adjusted >= alpha:
        return NOT_SHOWN
    return "afgenomen" if effect < 0 else "toegenomen"


def improved(verdict_text: str, better: str) -> bool | None:
    """Whether a shown change is in the direction that counts as improvement (None: not shown)."""
    if verdict_text == NOT_SHOWN:
        return None
    return (verdict_text == "afgenomen") == (better == "decrease")


def adjust(questions: list[dict]) -> None:
    """Holm within each question's primary outcomes, BH across all secondary outcomes."""
    secondary = [
        o for q in questions for o in q["outcomes"] if not o["primary"] and o.get("p") is not None
    ]
    for question in questions:
        primary = [o for o in question["outcomes"] if o["primary"] and o.get("p") is not None]
        for o, p_adj in zip(
            primary, holm([o["p"] for o in primary]) if primary else [], strict=True
        ):
            o["p_adjusted"], o["adjustment"] = p_adj, HOLM_PRIMARY
    for o, p_adj in zip(
        secondary,
        benjamini_hochberg([o["p"] for o in secondary]) if secondary else [],
        strict=True,
    ):
        o["p_adjusted"], o["adjustment"] = p_adj, BH_SECONDARY
    for question in questions:
        for o in question["outcomes"]:
            o.setdefault("p_adjusted", None)
            o["verdict"] = verdict(o.get("effect"), o.get("p_adjusted"), o["better"])
            o["improved"] = improved(o["verdict"], o["better"])
