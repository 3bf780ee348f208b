"""The one context of an effect report, already disclosure-controlled: the HTML and the PDF
renderings (analysis/reporting/html.py, pdf.py) both print from it.

Privacy follows the statistics office's output rule: no family-level data, every count 1-9 as
"*", means and intervals resting on fewer than 10 families left out of tables and plots.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from analysis.effects.disclosure import SUPPRESSED, suppress_count, suppression_mask
from analysis.effects.estimate import CRISIS_ENTRY_WARNING
from analysis.monitor.report_section import answer_question, monitor_section
from analysis.reporting.diagnostics import (
    balance_context,
    matching_context,
    outcome_diagnostics_context,
)
from analysis.reporting.plots import (
    ARM_LABELS,
    MIN_FAMILIES_FOR_MEAN,
    data_uri,
    event_plot,
    means_plot,
    plot_once,
)


def _fmt(value, digits=2):
    if value is None:
        return "—"
    return f"{value:,.{digits}f}".replace(",", "_").replace(".", ",").replace("_", ".")


def report_context(*, run, version: int, previous=None) -> dict:
    """Everything the report shows, already disclosure-controlled."""
    results = run.results
    questions = []
    for q in results.get("questions", []):
        outcomes = []
        for o in q["outcomes"]:
            shown = dict(o)
            shown["n_families_shown"], shown["n_treated_shown"] = unit_counts(o)
            shown["effect_txt"] = _fmt(o.get("effect"))
            shown["ci_txt"] = (
                f"{_fmt(o.get('ci_low'))} tot {_fmt(o.get('ci_high'))}"
                if o.get("ci_low") is not None
                else "—"
            )
            p_adj = o.get("p_adjusted")
            shown["p_txt"] = "< 0,001" if p_adj is not None and p_adj < 0.001 else _fmt(p_adj, 3)
            shown["means_png"] = (
                data_uri(plot_once(run, "means", q, o, means_plot)) if o.get("means") else None
            )
            shown["event_png"] = (
                data_uri(plot_once(run, "event", q, o, event_plot))
                if o.get("event_study")
                else None
            )
            event = o.get("event_study") or {}
            pre = event.get("pretest_p", event.get("pretrend_p"))
            shown["pretrend_txt"] = _fmt(pre, 3)
            shown.update(design_context(o))
            shown.update(outcome_diagnostics_context(o))
            outcomes.append(shown)
        questions.append({**q, "outcomes": outcomes})
    monitor = monitor_section(run.study)  # published municipal monitor figures, or None
    questions = [answer_question(q, monitor) for q in questions]
    attrition = attrition_table(results.get("attrition", []))
    changes = _changes_since(previous, results) if previous is not None else []
    costs = results.get("costs") or {}
    by_domain = [
        {**r, "mean_txt": _fmt(r["mean_eur"], 0) if r["n"] >= MIN_FAMILIES_FOR_MEAN else "*"}
        for r in costs.get("by_domain", [])
    ]
    return {
        "run": run,
        "study": run.study,
        "version": version,
        "questions": questions,
        "design": results.get("design", "calendar"),
        "multiplicity": results.get("multiplicity"),
        "attrition": attrition,
        "dose": [
            {
                **d,
                "contacts_per_year": d["contacts_per_year"]
                if d.get("families", 0) >= MIN_FAMILIES_FOR_MEAN
                else None,
                "hours_per_year": d["hours_per_year"]
                if d.get("families", 0) >= MIN_FAMILIES_FOR_MEAN
                else None,
            }
            for d in results.get("dose", [])
        ],
        "costs": costs,
        "cost_domains": by_domain,
        "changes": changes,
        "previous": previous,
        "baseline": costs.get("baseline"),
        "n_families_shown": attrition["grand"]
        if attrition["rows"]
        else suppress_count(int(results.get("n_families") or 0)),
        "plan": _plan_context(results.get("plan")),
        "dose_response": _dose_response_context(results.get("dose_response")),
        "monitor": monitor,
        "balance": balance_context(results),
        "matching": matching_context(results),
        "diagnostics": results.get("diagnostics"),
    }


FAVOURABLE = {True: "gunstig", False: "ongunstig"}
OUTCOME_DESIGN_TEXT = {
    "pre_period": "uitgelijnd op de intake van beide groepen; registergegevens van de twee jaren "
    "vóór de intake zijn de vergelijkingsbasis",
    "t0_only": "uitgelijnd op de intake; alleen de meting bij de intake (T0) gaat aan de aanpak "
    "vooraf, dus parallelle trends kunnen niet worden getoetst",
    "none": "niveauvergelijking van de groepen na de start; er is niets gemeten vóór de start, "
    "dus dit is geen verschil-in-verschillen en er volgt geen oordeel",
    "calendar": "kalendertijd: de nieuwe werkwijze begon voor alle professionals op één datum",
}


def _interval(row: dict) -> str:
    return f"{_fmt(row.get('ci_low'))} tot {_fmt(row.get('ci_high'))}"


def design_context(o: dict) -> dict:
    """The design lines of one outcome: its design, the estimates beside the verdict (stacked,
    imputation, ANCOVA on T0, the calendar-time TWFE, euros for costs) and why it is uncertain."""
    out: dict = {
        "favourable_txt": FAVOURABLE.get(o.get("improved"), ""),
        "design_txt": OUTCOME_DESIGN_TEXT.get(o.get("outcome_design") or "", ""),
        "beside": [],
    }
    for key, name in (("stacked", "gestapeld per intakejaar"), ("imputation", "imputatie (BJS)")):
        alt = (o.get("alternatives") or {}).get(key) or {}
        if alt.get("estimate") is not None:
            out["beside"].append(f"{name}: {_fmt(alt['estimate'])} (95%-interval {_interval(alt)})")
    ancova = (o.get("checks") or {}).get("ancova") or {}
    if ancova.get("estimate") is not None:
        flagged = ((o.get("checks") or {}).get("bracket") or {}).get("flagged")
        out["beside"].append(
            f"ANCOVA op T0 (controle): {_fmt(ancova['estimate'])} (95%-interval {_interval(ancova)})"
            + ("; DiD en ANCOVA komen tot een ander oordeel" if flagged else "")
        )
    if o.get("level_effect") is not None:
        out["beside"].append(
            f"in {o.get('level_unit', 'eenheden')} bij het gemiddelde van de vergelijkingsgroep na "
            f"de intake ({_fmt(o.get('comparison_post_mean'), 0)}): {_fmt(o['level_effect'], 0)} "
            f"({_fmt(o.get('level_ci_low'), 0)} tot {_fmt(o.get('level_ci_high'), 0)})"
        )
    calendar = o.get("calendar") or {}
    if o.get("design") == "aligned" and calendar.get("effect") is not None:
        out["calendar_txt"] = (
            f"Kalenderschatting ter vergelijking (bepaalt het oordeel niet): "
            f"{_fmt(calendar['effect'])} (95%-interval {_interval(calendar)})."
        )
        out["crisis_warning"] = CRISIS_ENTRY_WARNING
    aligned = o.get("aligned") or {}
    if o.get("design") == "calendar" and aligned.get("effect") is not None:
        out["aligned_txt"] = (
            f"Uitgelijnde schatting (de aanbevolen opzet): {_fmt(aligned['effect'])} "
            f"(95%-interval {_interval(aligned)}, ongecorrigeerde p = {_fmt(aligned.get('p'), 3)})."
        )
        out["crisis_warning"] = CRISIS_ENTRY_WARNING
    return out


def _dose_response_context(dr: dict | None) -> dict | None:
    """Dose slopes as printed: rows resting on fewer than 10 families show no numbers."""
    if not dr:
        return None
    rows = []
    for r in dr.get("outcomes", []):
        enough = int(r.get("n_families") or 0) >= MIN_FAMILIES_FOR_MEAN
        p = r.get("p")
        rows.append(
            {
                "label": r.get("label", r["outcome"]),
                "unit": r.get("unit", ""),
                "shown": enough and r.get("slope") is not None,
                "slope_txt": _fmt(r.get("slope")),
                "ci_txt": f"{_fmt(r.get('ci_low'))} tot {_fmt(r.get('ci_high'))}",
                "p_txt": "< 0,001" if p is not None and p < 0.001 else _fmt(p, 3),
                "n_shown": suppress_count(int(r.get("n_families") or 0)),
                "note": r.get("note", ""),
            }
        )
    return {"per_hours": _fmt(dr.get("per_hours"), 0), "caveat": dr.get("caveat", ""), "rows": rows}


STATUS_LABELS = {
    "active": "in onderzoek",
    "completed": "follow-up afgerond",
    "dropped_out": "uitgevallen",
    "moved_away": "verhuisd",
    "deceased": "overleden",
    "withdrawn": "toestemming ingetrokken",
}


def _shown(values: np.ndarray, mask: np.ndarray) -> list:
    return [SUPPRESSED if hidden else int(v) for v, hidden in zip(values, mask, strict=True)]


def unit_counts(outcome: dict) -> tuple:
    """Units and treated units of an outcome as printed. The comparison count is their difference,
    so the line (treated, comparison, total) is suppressed as a whole: one hidden cell never
    stands alone next to the total (secondary suppression)."""
    total = int(outcome.get("n_units") or 0)
    treated = int(outcome.get("n_treated") or 0)
    line = np.array([[treated, max(total - treated, 0), total]])
    mask = suppression_mask(line, totals="rows")[0]
    shown = _shown(line[0], mask)
    return shown[2], shown[0]


def attrition_table(rows: list[dict]) -> dict:
    """Families per arm (rows) and status (columns) with row, column and grand totals, primary
    and secondary suppression applied to the table with its margins: no hidden cell can be
    recomputed from a shown total and the shown cells of its row or column."""
    arms = sorted({r["arm"] for r in rows})
    statuses = [s for s in STATUS_LABELS if any(r["status"] == s for r in rows)]
    statuses += sorted({r["status"] for r in rows} - set(statuses))
    if not arms:
        return {"statuses": [], "rows": [], "totals": [], "grand": 0}
    counts = np.zeros((len(arms), len(statuses)), dtype=np.int64)
    for r in rows:
        counts[arms.index(r["arm"]), statuses.index(r["status"])] += int(r["n"])
    full = np.zeros((len(arms) + 1, len(statuses) + 1), dtype=np.int64)
    full[:-1, :-1] = counts
    full[:-1, -1] = counts.sum(axis=1)
    full[-1, :-1] = counts.sum(axis=0)
    full[-1, -1] = counts.sum()
    mask = suppression_mask(full, totals="both")
    shown = [_shown(full[i], mask[i]) for i in range(full.shape[0])]
    return {
        "statuses": [{"code": s, "label": STATUS_LABELS.get(s, s)} for s in statuses],
        "rows": [
            {
                "arm": arm,
                "label": ARM_LABELS.get(arm, arm),
                "cells": shown[i][:-1],
                "total": shown[i][-1],
            }
            for i, arm in enumerate(arms)
        ],
        "totals": shown[-1][:-1],
        "grand": shown[-1][-1],
    }


def _plan_context(plan: dict | None) -> dict | None:
    """The registered plan a run followed, with its deviations, for the methods section."""
    if not plan:
        return None
    frozen = plan.get("frozen_at")
    return {
        **plan,
        "frozen_date": datetime.fromisoformat(frozen).strftime("%d-%m-%Y") if frozen else "—",
    }


def _changes_since(previous, results) -> list[dict]:
    before = {o["code"]: o for q in previous.results.get("questions", []) for o in q["outcomes"]}
    changes = []
    for q in results.get("questions", []):
        for o in q["outcomes"]:
            old = before.get(o["code"])
            if old and old.get("verdict") != o.get("verdict"):
                changes.append(
                    {"label": o["label"], "before": old.get("verdict"), "now": o.get("verdict")}
                )
    return changes
