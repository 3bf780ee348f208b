"""Published wording of an effect report (pure, no Django): Dutch numbers, effects with their
unit, estimators in words, and free text with its numbers taken out.

Both renderings print from the context (analysis/reporting/context.py), which formats through
this module: a decimal comma, a thousands point, every effect with its unit, no code names.
"""

from __future__ import annotations

import math
import re

MINUS = "-"


def fmt(value: float | None, digits: int = 2, *, sign: bool = False) -> str:
    """A number the Dutch way: 1.234,56 (thousands point, decimal comma); "—" for nothing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    text = f"{abs(value):,.{digits}f}".replace(",", "_").replace(".", ",").replace("_", ".")
    if round(value, digits) < 0:
        return MINUS + text
    return ("+" + text) if sign and round(value, digits) > 0 else text


#: An outcome's scale as published: the group its effects are plotted in, the factor from the
#: estimate to the printed number, the unit word and the decimals.
UNITS = {
    "procentpunten": ("procentpunten", 1.0, "procentpunt", 1),
    "relatieve verandering (exp(b) - 1)": ("procent", 100.0, "%", 0),
    "eenheden van de uitkomst": ("punten", 1.0, "punt", 2),
}
UNIT_GROUP_TITLES = {
    "procentpunten": "Ja/nee-uitkomsten: verschil in procentpunten",
    "procent": "Tellingen en kosten: relatieve verandering in procenten",
    "punten": "Schaaluitkomsten: verschil in punten op de schaal van de uitkomst",
}


def _scale_word(label: str) -> str:
    """The unit of a continuous outcome, from its label: "(uren)" hours, "aantal X" X, else a
    point on the outcome's scale."""
    if re.search(r"\(uren\)", label):
        return "uur"
    if label.startswith("aantal "):
        return label.split(" ", 1)[1].split(" (")[0]
    return "punt"


def plural_word(word: str) -> str:
    """The unit word an axis or heading uses: punt -> punten, uur -> uren; words taken from an
    "aantal X" label (hulpverleners, contacten) are plural already."""
    return {"punt": "punten", "uur": "uren", "%": "procent"}.get(word, word)


def forest_groups(rows: list[dict]) -> list[tuple[str, str, str, list[dict]]]:
    """The summary's forest plots: (key, title, unit word, rows), one per unit group and, within
    the scale outcomes, one per unit word, so one axis never mixes points on a scale with hours
    or a number of care workers."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        group, _, word, _ = unit_of(row)
        groups.setdefault((group, word if group == "punten" else ""), []).append(row)
    out = []
    for group, title in UNIT_GROUP_TITLES.items():
        words = sorted(w for g, w in groups if g == group)
        for word in words:
            key = group if not word or word == "punt" else f"{group}-{word}"
            heading = title
            if group == "punten" and word != "punt":
                heading = f"Overige uitkomsten: verschil in {plural_word(word)}"
            out.append((key, heading, word, groups[(group, word)]))
    return out


def unit_of(outcome: dict) -> tuple[str, float, str, int]:
    scale = outcome.get("scale") or ""
    group, factor, word, digits = UNITS.get(scale, ("punten", 1.0, "punt", 2))
    if group == "punten":
        word = _scale_word(outcome.get("label") or "")
    return group, factor, word, digits


def effect_text(outcome: dict, key: str = "effect") -> str:
    """The effect with its unit: "-42,0 procentpunt", "-64 %", "+0,45 punt"."""
    value = outcome.get(key)
    if value is None:
        return "—"
    _, factor, word, digits = unit_of(outcome)
    sep = "" if word == "%" else " "
    return f"{fmt(value * factor, digits, sign=True)}{sep}{word}"


def interval_text(outcome: dict, low: str = "ci_low", high: str = "ci_high") -> str:
    if outcome.get(low) is None or outcome.get(high) is None:
        return "—"
    _, factor, word, digits = unit_of(outcome)
    sep = "" if word == "%" else " "
    return (
        f"{fmt(outcome[low] * factor, digits)} tot {fmt(outcome[high] * factor, digits)}{sep}{word}"
    )


def estimator_text(outcome: dict) -> str:
    """The estimator in words (no "Poisson PML (unit + year effects)")."""
    design = outcome.get("design")
    model = outcome.get("model") or ""
    if outcome.get("outcome_design") == "none":
        return "niveauvergelijking van de groepen na de start (geen verschil-in-verschillen)"
    base = (
        "verschil-in-verschillen, uitgelijnd op de intake"
        if design == "aligned"
        else "verschil-in-verschillen in kalendertijd"
    )
    if "ppml" in model or "Poisson" in (outcome.get("estimator") or ""):
        return base + ", Poisson-regressie (relatieve verandering)"
    if model == "lpm":
        return base + ", lineair kansmodel (procentpunten)"
    return base


#: Warnings of the statistics, as published: in Dutch and without the family counts they carry.
WARNINGS_NL = (
    (
        re.compile(r"famil\w* with only zeros", re.I),
        "gezinnen die op deze uitkomst alleen nullen hebben dragen geen informatie bij en zijn "
        "weggelaten",
    ),
    (
        re.compile(r"unit\(s\) with only zeros", re.I),
        "eenheden die op deze uitkomst alleen nullen hebben dragen geen informatie bij en zijn "
        "weggelaten",
    ),
    (
        re.compile(r"only one period precedes treatment", re.I),
        "er gaat maar één meting aan de aanpak vooraf: parallelle trends zijn voor deze uitkomst "
        "niet te toetsen",
    ),
    (
        re.compile(r"only the intake measurement \(T0\) precedes", re.I),
        "alleen de meting bij de intake (T0) gaat aan de aanpak vooraf: parallelle trends zijn "
        "niet te toetsen",
    ),
    (
        re.compile(r"^not a DiD: nothing was measured before the start", re.I),
        "geen verschil-in-verschillen: er is niets gemeten vóór de start, dus de groepen worden "
        "na de intake op hun niveau vergeleken en een verschil bij de intake zit in de schatting",
    ),
    (
        re.compile(r"singleton", re.I),
        "eenheden met één waarneming in een vast effect zijn weggelaten",
    ),
)
TERMS = (
    (re.compile(r"coëfficiënt van Poisson PML"), "coëfficiënt van de Poisson-regressie"),
    (re.compile(r"Poisson PML"), "Poisson-regressie"),
    (re.compile(r"\bunit\(s\)"), "eenheden"),
    (re.compile(r"relatieve verandering \(exp\(b\) - 1\)"), "relatieve verandering"),
)


def terms_text(text: str) -> str:
    """The statistics' own terms in published words (numbers left alone)."""
    for pattern, word in TERMS:
        text = pattern.sub(word, text)
    return text


#: A free-standing whole number of one to three digits (not a year, not part of a decimal,
#: not a T-label such as T-2).
LOOSE_COUNT = re.compile(r"(?<![\w,.\-^])\d{1,3}(?![\w,.%])")


def published_text(text: str) -> str:
    """Free text (a warning, a note, a reason) as published: a known English warning in Dutch,
    every loose whole number (a family count) taken out."""
    text = str(text)
    for pattern, dutch in WARNINGS_NL:
        if pattern.search(text):
            return dutch
    text = LOOSE_COUNT.sub("enkele", terms_text(text))
    return re.sub(r"\s+", " ", text).strip()


def number_word(n: int) -> str:
    """Small whole numbers that are not counts of families (outcomes, waves) in words."""
    words = ["nul", "één", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen", "tien"]
    return words[n] if 0 <= n < len(words) else fmt(n, 0)


MONTHS = (
    "januari februari maart april mei juni juli augustus september oktober november december"
).split()


def date_text(value) -> str:
    """A date the Dutch way: 1 december 2026."""
    if value is None:
        return "—"
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"
