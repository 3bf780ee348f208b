"""Render an analysis run as the Dutch effect report: HTML with embedded plots, and a PDF (Typst).

Privacy follows the statistics office's output rule: no family-level data, every count 1-9 as
"*", means and intervals resting on fewer than 10 families left out of tables and plots.
"""

from __future__ import annotations

import base64
import io
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402

from analysis.disclosure import SUPPRESSED, suppress_count, suppression_mask  # noqa: E402
from analysis.monitor.report_section import answer_question, monitor_section  # noqa: E402

MIN_FAMILIES_FOR_MEAN = 10
ARM_LABELS = {
    "intervention": "interventiegroep",
    "comparison": "vergelijkingsgroep",
    "new": "nieuwe werkwijze",
    "usual": "zoals gebruikelijk",
}
ARM_COLOURS = {
    "intervention": "#0b5cad",
    "new": "#0b5cad",
    "comparison": "#b3541e",
    "usual": "#b3541e",
}


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def means_plot(outcome: dict) -> bytes | None:
    """Arm means over the years since intake with 95% intervals (n >= 10 only)."""
    rows = [
        r
        for r in outcome.get("means", [])
        if r["n"] >= MIN_FAMILIES_FOR_MEAN and r["mean"] is not None
    ]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(5.2, 2.8))
    for arm in sorted({r["arm"] for r in rows}):
        pts = sorted((r for r in rows if r["arm"] == arm), key=lambda r: r["rel"])
        xs = [p["rel"] for p in pts]
        ax.plot(
            xs,
            [p["mean"] for p in pts],
            marker="o",
            label=ARM_LABELS.get(arm, arm),
            color=ARM_COLOURS.get(arm),
        )
        lo = [p["ci_low"] if p["ci_low"] is not None else p["mean"] for p in pts]
        hi = [p["ci_high"] if p["ci_high"] is not None else p["mean"] for p in pts]
        ax.fill_between(xs, lo, hi, alpha=0.15, color=ARM_COLOURS.get(arm))
    unit = "jaar" if outcome.get("unit") == "professional" else "jaren sinds intake"
    ax.set_xlabel(unit)
    ax.set_title(outcome["label"], fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def event_plot(outcome: dict) -> bytes | None:
    study = outcome.get("event_study") or {}
    points = [e for e in study.get("event", []) if e.get("att") is not None]
    if not points:
        return None
    fig, ax = plt.subplots(figsize=(5.2, 2.6))
    es = [p["e"] for p in points]
    ax.errorbar(
        es,
        [p["att"] for p in points],
        yerr=[
            [p["att"] - (p["ci_low"] if p["ci_low"] is not None else p["att"]) for p in points],
            [(p["ci_high"] if p["ci_high"] is not None else p["att"]) - p["att"] for p in points],
        ],
        fmt="o",
        color="#123",
        capsize=3,
    )
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(-0.5, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("jaren ten opzichte van de start van de aanpak (referentie -1)")
    ax.set_title(f"Eventstudie: {outcome['label']}", fontsize=10)
    ax.grid(alpha=0.3)
    return _png(fig)


def _plot(run, kind: str, question: dict, outcome: dict, draw) -> bytes | None:
    """A plot of a run drawn once: the HTML and the PDF of one rendering share the PNG bytes."""
    cache = run.__dict__.setdefault("_report_pngs", {})
    key = (kind, question["code"], outcome["code"])
    if key not in cache:
        cache[key] = draw(outcome)
    return cache[key]


def _data_uri(png: bytes | None) -> str | None:
    return None if png is None else "data:image/png;base64," + base64.b64encode(png).decode()


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
            shown["n_families_shown"], shown["n_treated_shown"] = _unit_counts(o)
            shown["effect_txt"] = _fmt(o.get("effect"))
            shown["ci_txt"] = (
                f"{_fmt(o.get('ci_low'))} tot {_fmt(o.get('ci_high'))}"
                if o.get("ci_low") is not None
                else "—"
            )
            p_adj = o.get("p_adjusted")
            shown["p_txt"] = "< 0,001" if p_adj is not None and p_adj < 0.001 else _fmt(p_adj, 3)
            shown["means_png"] = (
                _data_uri(_plot(run, "means", q, o, means_plot)) if o.get("means") else None
            )
            shown["event_png"] = (
                _data_uri(_plot(run, "event", q, o, event_plot)) if o.get("event_study") else None
            )
            shown["pretrend_txt"] = _fmt((o.get("event_study") or {}).get("pretrend_p"), 3)
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
        "mde": results.get("mde", []),
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
    }


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


def _unit_counts(outcome: dict) -> tuple:
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
    from datetime import datetime

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


def report_html(*, run, version: int, previous=None) -> str:
    return render_to_string(
        "analysis/report_body.html", report_context(run=run, version=version, previous=previous)
    )


def _typst_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "#$*_@<>`[]\\" else ch for ch in str(text))


def _pdf_plan_lines(plan: dict | None) -> list[str]:
    """The registered analysis plan and the deviations from it, for the PDF's methods part."""
    lines = ["", "== Analyseplan"]
    if not plan:
        return [*lines, "Voor deze analyse is geen vooraf geregistreerd analyseplan vastgelegd."]
    lines.append(
        f"Analyseplan versie {plan['version']}, vastgelegd op {_typst_escape(plan['frozen_date'])}"
        f" (SHA-256 {_typst_escape(plan['sha256'])})."
    )
    if not plan.get("deviations"):
        return [*lines, "Er zijn geen afwijkingen van het geregistreerde plan."]
    lines.append("Afwijkingen van het geregistreerde plan:")
    lines += [
        f"- {_typst_escape(d['what'])}: gepland {_typst_escape(d['planned'])}, "
        f"gebruikt {_typst_escape(d['used'])}"
        for d in plan["deviations"]
    ]
    return lines


def report_pdf(*, run, version: int) -> bytes | None:
    """A PDF of the verdict table and the plots, compiled with Typst (pip package, no system libs)."""
    try:
        import typst
    except ImportError:  # pragma: no cover - typst is a pinned dependency
        return None
    context = report_context(run=run, version=version)
    with tempfile.TemporaryDirectory() as tmp:
        lines = [
            '#set page(paper: "a4", margin: 2cm)',
            '#set text(lang: "nl", size: 10pt)',
            f"= Effectrapportage {_typst_escape(run.study.name)}",
            f"Versie {version} · run {run.pk} · {run.finished_at:%d-%m-%Y} · {context['n_families_shown']} gezinnen",
            "",
            "Aantallen 1-9 staan als \\*; gemiddelden op minder dan 10 gezinnen zijn weggelaten.",
            "",
        ]
        counter = 0
        for q in context["questions"]:
            lines.append(f"== {_typst_escape(q['code'])}: {_typst_escape(q['text'])}")
            if q.get("not_answered_reason"):
                lines.append(_typst_escape(q["not_answered_reason"]))
            for o in q["outcomes"]:
                verdict = o.get("verdict") or "niet geschat"
                detail = (
                    (
                        f"effect {_typst_escape(o['effect_txt'])} ({_typst_escape(o.get('scale', ''))}), "
                        f"95%-interval {_typst_escape(o['ci_txt'])}, gecorrigeerde p {_typst_escape(o['p_txt'])}, "
                        f"gezinnen {_typst_escape(o['n_families_shown'])}"
                    )
                    if o.get("effect") is not None
                    else _typst_escape(o.get("error", ""))
                )
                lines.append(f"- *{_typst_escape(o['label'])}*: {_typst_escape(verdict)}. {detail}")
                png = _plot(run, "means", q, o, means_plot) if o.get("means") else None
                if png:
                    counter += 1
                    name = f"plot{counter}.png"
                    Path(tmp, name).write_bytes(png)
                    lines.append(f'#image("{name}", width: 70%)')
        lines += _pdf_plan_lines(context.get("plan"))
        Path(tmp, "report.typ").write_text("\n".join(lines), encoding="utf-8")
        return typst.compile(str(Path(tmp, "report.typ")))
