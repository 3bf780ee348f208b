"""The effect report as a PDF: the verdict table, the plots and the analysis plan, compiled with
Typst (a pinned pip package, no system libraries) from the report's one context."""

from __future__ import annotations

import tempfile
from pathlib import Path

from analysis.reporting.context import report_context
from analysis.reporting.plots import means_plot, plot_once


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
                png = plot_once(run, "means", q, o, means_plot) if o.get("means") else None
                if png:
                    counter += 1
                    name = f"plot{counter}.png"
                    Path(tmp, name).write_bytes(png)
                    lines.append(f'#image("{name}", width: 70%)')
        lines += _pdf_plan_lines(context.get("plan"))
        Path(tmp, "report.typ").write_text("\n".join(lines), encoding="utf-8")
        return typst.compile(str(Path(tmp, "report.typ")))
