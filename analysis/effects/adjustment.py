"""The multiplicity adjustment of a run's answers and the plain-language verdicts (pure).

**Multiplicity over the whole plan.** All primary outcomes of the plan form one declared family
(Holm by default, or Bonferroni): its size ``m`` is counted before estimation, so an outcome that
failed to estimate, and an outcome reported as a level comparison (no DiD verdict), still count,
as if their p-value were 1. Benjamini-Hochberg runs across all secondary outcomes of the run, on
the same footing. (Correcting within each question only lets the chance of at least one false
verdict under a global null grow to about one half with the registry's 18 primary outcomes.)

**Verdicts.** The direction words: "afgenomen" / "toegenomen" when the adjusted p-value is below
alpha, else "niet aangetoond"; ``improved`` says whether a shown change is favourable given the
question's expected direction. A verdict becomes "onzeker", with the reasons in
``uncertain_reasons``, when the aligned event study's joint pre-test rejects at alpha, or (for a
shown change) when the stacked or the imputation estimate of the same aligned comparison has
the opposite sign or its unadjusted 95 % interval lies entirely on the other side of zero.
Outcomes reported as a level comparison (nothing measured before the start) get
"geen oordeel (geen meting vóór de start)". The calendar-time estimate shown beside an aligned
one never changes the verdict.
"""

from __future__ import annotations

import math
from typing import Any

from analysis.did.multiplicity import benjamini_hochberg, holm

HOLM_PRIMARY = "Holm (alle primaire uitkomsten van het plan)"
BONFERRONI_PRIMARY = "Bonferroni (alle primaire uitkomsten van het plan)"
ROMANO_WOLF_PRIMARY = (
    "Romano-Wolf (wild bootstrap, lineaire uitkomsten) en Holm (overige), samen alle primaire "
    "uitkomsten van het plan"
)
BH_SECONDARY = "Benjamini-Hochberg (secundair)"
NOT_SHOWN = "niet aangetoond"
UNCERTAIN = "onzeker"
NO_VERDICT = "geen oordeel (geen meting vóór de start)"
DECREASED, INCREASED = "afgenomen", "toegenomen"


def verdict(
    effect: float | None, p_adjusted: float | None, better: str, alpha: float = 0.05
) -> str:
    """Direction words: 'afgenomen', 'toegenomen' or 'niet aangetoond'."""
    if effect is None or p_adjusted is None or p_adjusted != p_adjusted or p_adjusted >= alpha:
        return NOT_SHOWN
    return DECREASED if effect < 0 else INCREASED


def improved(verdict_text: str, better: str) -> bool | None:
    """Whether a shown change is in the direction that counts as improvement (None: not shown)."""
    if verdict_text not in (DECREASED, INCREASED):
        return None
    return (verdict_text == DECREASED) == (better == "decrease")


def _num(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def uncertain_reasons(row: dict, shown: bool, alpha: float = 0.05) -> list[str]:
    """Why the verdict of an aligned outcome is uncertain (empty: it is not)."""
    reasons = []
    pre = _num((row.get("event_study") or {}).get("pretest_p"))
    if pre is not None and pre < alpha:
        reasons.append(
            f"de voortoets op de jaren vóór de intake verwerpt gelijke trends (p = {pre:.3f})"
        )  # nl
    effect = _num(row.get("effect"))
    if not shown or effect is None or effect == 0:
        return reasons
    # The main estimate of a count is a ratio, its companions linear: compare signs only.
    sign = 1.0 if effect > 0 else -1.0
    names = {"stacked": "gestapelde schatting", "imputation": "imputatieschatting"}
    for key, name in names.items():
        alt = (row.get("alternatives") or {}).get(key) or {}
        est, lo, hi = _num(alt.get("estimate")), _num(alt.get("ci_low")), _num(alt.get("ci_high"))
        if est is None or est * sign >= 0:
            continue
        beyond = lo is not None and hi is not None and (hi < 0 if sign > 0 else lo > 0)
        reasons.append(
            f"de {name} heeft het tegengestelde teken ({est:.3g})"
            + (", met het 95%-interval geheel aan de andere kant van 0" if beyond else "")
        )  # nl
    return reasons


def _counts_as_level(o: dict) -> bool:
    return o.get("outcome_design") == "none" and o.get("design") == "aligned"


def _p_for_family(o: dict) -> float:
    """The p-value an outcome brings into its multiplicity family (1: no claim possible)."""
    p = _num(o.get("p"))
    if p is None or _counts_as_level(o):
        return 1.0
    return min(max(p, 0.0), 1.0)


def adjust(
    questions: list[dict],
    *,
    method: str = "holm",
    alpha: float = 0.05,
    romano_wolf: dict[str, float] | None = None,
) -> dict:
    """Adjust every outcome's p-value and give it a verdict; returns the family's description.

    ``questions`` are the run's answers (each a dict with ``outcomes``); every outcome listed
    is counted in its family whether or not it was estimated. ``method`` "romano-wolf" takes
    the Romano-Wolf p-values of the linear outcomes sharing the family cluster
    (``romano_wolf``: code -> step-down p over those ``m_rw`` outcomes) and Holm for the other
    ``m_h`` primary outcomes, the family's alpha split between the two parts by their sizes
    (Bonferroni across the parts: p x m / m_rw and p_Holm x m / m_h), so the error rate over
    all m primary outcomes stays at most alpha.
    """
    outcomes = [o for q in questions for o in q["outcomes"]]
    primary = [o for o in outcomes if o["primary"]]
    secondary = [o for o in outcomes if not o["primary"]]
    if method == "romano-wolf" and romano_wolf:
        adj_p = _romano_wolf_split(primary, romano_wolf)
        label = ROMANO_WOLF_PRIMARY
    elif method == "bonferroni":
        adj_p = [min(1.0, len(primary) * _p_for_family(o)) for o in primary]
        label = BONFERRONI_PRIMARY
    else:
        adj_p = holm([_p_for_family(o) for o in primary]) if primary else []
        label = HOLM_PRIMARY
    for o, p_adj in zip(primary, adj_p, strict=True):
        o["p_adjusted"], o["adjustment"] = p_adj, label
    bh = benjamini_hochberg([_p_for_family(o) for o in secondary]) if secondary else []
    for o, p_adj in zip(secondary, bh, strict=True):
        o["p_adjusted"], o["adjustment"] = p_adj, BH_SECONDARY
    for o in outcomes:
        if _num(o.get("p")) is None:  # not estimated: counted in m, but no adjusted p of its own
            o["p_adjusted"] = None
        _give_verdict(o, alpha)
    return {
        "primary": {"method": label, "m": len(primary)},
        "secondary": {"method": BH_SECONDARY, "m": len(secondary)},
        "alpha": alpha,
    }


def _romano_wolf_split(primary: list[dict], rw: dict[str, float]) -> list[float]:
    m = len(primary)
    in_rw = [o["code"] in rw for o in primary]
    m_rw = sum(in_rw)
    others = [o for o, inside in zip(primary, in_rw, strict=True) if not inside]
    holm_p = iter(holm([_p_for_family(o) for o in others]) if others else [])
    out = []
    for o, inside in zip(primary, in_rw, strict=True):
        if inside:
            out.append(min(1.0, rw[o["code"]] * m / m_rw))
        else:
            out.append(min(1.0, next(holm_p) * m / (m - m_rw)))
    return out


def _give_verdict(o: dict, alpha: float) -> None:
    if _counts_as_level(o):
        o["verdict"], o["direction"], o["improved"] = NO_VERDICT, None, None
        o["uncertain_reasons"] = []
        return
    direction = verdict(o.get("effect"), o.get("p_adjusted"), o["better"], alpha)
    shown = direction != NOT_SHOWN
    reasons = uncertain_reasons(o, shown, alpha) if o.get("design") == "aligned" else []
    o["direction"] = direction
    o["uncertain_reasons"] = reasons
    o["verdict"] = UNCERTAIN if reasons else direction
    o["improved"] = improved(direction, o["better"]) if not reasons else None
