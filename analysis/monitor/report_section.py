"""The monitor's section in the effect report, and its answers to the municipal questions.

Only PUBLISHED monitor reports are used: the effect report is published to the gemeente, so it
may show nothing the gemeente could not already see on the monitor pages. The figures are the
stored, suppressed ones (counts 1-9 are "*"). The effect report is written in Dutch, so the
answers are too (like the report template's own text).
"""

from __future__ import annotations

from typing import Any

from django.utils import translation

from analysis.monitor.costing import cost_note
from analysis.monitor.selectors import latest_published

#: Municipal research questions answered by the monitor: question code -> figure.
MONITOR_QUESTIONS = {"G1": "mpg", "G2": "cost"}


def _number(value: Any, digits: int = 0) -> str:
    """Dutch number format: 1.234 and 0,95."""
    if isinstance(value, str):
        return value
    text = f"{float(value):,.{digits}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def _dutch_note(cost: dict[str, Any]) -> str:
    """The cost note in Dutch, the effect report's language, whatever language is active."""
    with translation.override("nl"):
        return cost_note(cost)


def monitor_section(study) -> dict[str, Any] | None:
    """The latest published monitor figures of the study's municipality, or None."""
    municipality = getattr(study, "municipality", "") or ""
    report = latest_published(municipality) if municipality else None
    if report is None:
        return None
    summary = report.summary or {}
    trend = report.trend or {}
    cost = report.cost or {}
    hidden = trend.get("trend") == "*"
    per_year = [] if hidden else list(trend.get("per_year") or [])
    section = {
        "report_id": report.pk,
        "municipality": report.municipality,
        "year": report.year,
        "published_at": report.published_at,
        "households_with_child": summary.get("households_with_child"),
        "mvp": summary.get("mvp"),
        "mpg": summary.get("mpg"),
        "mpg_total_cost_eur": summary.get("mpg_total_cost_eur"),
        "cost_per_mpg_eur": cost.get("cost_per_mpg_eur"),
        "cost_source": cost.get("source"),
        "cost_note": _dutch_note(cost),
        "cost_price_year": cost.get("price_year"),
        "per_year": per_year,
        "mpg_trend": None if hidden else trend.get("mpg_trend"),
        "cost_trend": None if hidden else trend.get("cost_trend"),
        "trend_hidden": hidden,
    }
    section["answers"] = {
        code: _answer(figure, section) for code, figure in MONITOR_QUESTIONS.items()
    }
    return section


def _trend_text(result: dict | None, what: str, *, plural: bool = False) -> str:
    if not result:
        return "Een trend vraagt ten minste twee jaren in de monitor."
    if result.get("decreasing"):
        verdict = "nemen af" if plural else "neemt af"
    else:
        verdict = "zijn niet aantoonbaar afgenomen" if plural else "is niet aantoonbaar afgenomen"
    return (
        f"Verandering per jaar: factor {_number(result['rate_ratio_per_year'], 3)} "
        f"(95%-interval {_number(result['ci_low'], 3)} tot {_number(result['ci_high'], 3)}, "
        f"p = {_number(result['p_value'], 3)}); {what} {verdict}."
    )


def _answer(figure: str, section: dict[str, Any]) -> str:
    where = f"Gemeentelijke monitor {section['municipality']} {section['year']}"
    if section["trend_hidden"]:
        trend = "Geen trend getoond: het aantal MPG ligt in minstens één jaar tussen 1 en 9."
    elif figure == "mpg":
        trend = _trend_text(section["mpg_trend"], "het aantal MPG")
    else:
        trend = _trend_text(section["cost_trend"], "de totale kosten van MPG", plural=True)
    if figure == "mpg":
        years = ", ".join(f"{r['year']}: {_number(r['mpg'])}" for r in section["per_year"])
        return (
            f"{where}: {_number(section['mpg'])} multiprobleemgezinnen"
            + (f" (per jaar {years})" if years else "")
            + f". {trend}"
        )
    source = (
        "volgens het kostenmodel"
        if section["cost_source"] == "cost_engine"
        else "standaardbedrag uit de nulmeting"
    )
    total = section["mpg_total_cost_eur"]
    return (
        f"{where}: EUR {_number(section['cost_per_mpg_eur'])} per multiprobleemgezin per jaar "
        f"({source}), in totaal EUR {_number(total) if total != '*' else '*'}. {trend}"
    )


def answer_question(question: dict[str, Any], section: dict[str, Any] | None) -> dict[str, Any]:
    """The report's question entry with the monitor's answer instead of "not yet answered"."""
    answer = (section or {}).get("answers", {}).get(question.get("code"))
    if not answer or question.get("outcomes"):
        return question
    return {**question, "not_answered_reason": answer, "answered_by_monitor": True}
