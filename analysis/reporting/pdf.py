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


def _pdf_sensitivity(sens: dict | None) -> list[str]:
    e = _typst_escape
    if not sens:
        return []
    if sens.get("reason"):
        return [f"  - Gevoeligheid (HonestDiD): niet berekend, {e(sens['reason'])}."]
    lines = [f"  - Gevoeligheid (HonestDiD), doel {e(sens['target'])} ({e(sens['scale'])}):"]
    for r in sens["restrictions"]:
        if r.get("reason"):
            lines.append(f"    - {e(r['label'])}: niet berekend, {e(r['reason'])}.")
            continue
        grid = "; ".join(f"{e(r['symbol'])} {e(i['value'])}: {e(i['ci'])}" for i in r["rows"])
        lines.append(
            f"    - {e(r['label'])}, methode {e(r['method'])}. {grid}. {e(r['breakdown'])}."
        )
    if sens.get("eligibility_note"):
        lines.append(f"    - {e(sens['eligibility_note'])}")
    return lines


def _pdf_ipw(ipw: dict | None) -> list[str]:
    e = _typst_escape
    if not ipw:
        return []
    if ipw.get("reason"):
        return [f"  - Uitval: gewogen schatting niet berekend, {e(ipw['reason'])}."]
    text = f"  - Uitval: gewogen (IPW) {e(ipw['weighted'])}; ongewogen {e(ipw['unweighted'])}."
    if ipw.get("lee"):
        lee = ipw["lee"]
        text += (
            f" Lee-grenzen {e(lee['range'])}, op {e(lee['n_stayers'])} gezinnen die bleven,"
            f" waarvan {e(lee['n_trimmed'])} weggesneden."
        )
    return [text]


def _pdf_robustness(rob: dict | None) -> list[str]:
    e = _typst_escape
    if not rob:
        return []
    if rob.get("reason"):
        return [f"  - Robuustheid: niet berekend, {e(rob['reason'])}."]
    lines = ["  - Robuustheid (effect, 95%-interval, ongecorrigeerde p):"]
    for r in rob["rows"]:
        if r.get("reason"):
            lines.append(f"    - {e(r['line'])}: niet berekend, {e(r['reason'])}")
        else:
            lines.append(f"    - {e(r['line'])}: {e(r['estimate'])}, {e(r['ci'])}, p {e(r['p'])}")
    return lines


def _pdf_power(power: dict | None) -> list[str]:
    e = _typst_escape
    if not power:
        return []
    mde = (
        f"minimaal aantoonbaar effect {e(power['mde'])} {e(power['mde_scale'])} "
        f"({e(power['source'] or 'gesimuleerd')}) "
        f"({e(power['power'])}% bij α = {e(power['alpha'])})"
        if power.get("mde")
        else f"minimaal aantoonbaar effect niet berekend: {e(power.get('mde_reason') or '')}"
    )
    width = (
        f"; breedte van het bereikte 95%-interval {e(power['width'])} {e(power['scale'])}"
        if power.get("width")
        else ""
    )
    return [f"  - Onderscheidend vermogen: {mde}{width}."]


def _pdf_diagnostic_lines(o: dict) -> list[str]:
    """The issue-14 checks of one outcome, from the same context as the HTML report."""
    return [
        *_pdf_sensitivity(o.get("sensitivity")),
        *_pdf_ipw(o.get("ipw_shown")),
        *_pdf_robustness(o.get("robustness_shown")),
        *_pdf_power(o.get("power_shown")),
    ]


def _pdf_balance_lines(balance: dict | None) -> list[str]:
    if not balance:
        return []
    lines = ["", "== Vergelijkbaarheid van de groepen vóór de aanpak"]
    if balance.get("reason"):
        return [*lines, f"Niet berekend: {_typst_escape(balance['reason'])}."]
    lines.append("Gestandaardiseerd verschil (SMD); vanaf 0,1 het noemen waard, vanaf 0,25 groot.")
    cells = [
        "[Uitkomst]",
        "[Moment]",
        "[n interventie]",
        "[n vergelijking]",
        "[SMD]",
        "[Markering]",
    ]
    for r in balance["rows"]:
        smd = r["smd"] if r["shown"] else "niet getoond"
        cells += [
            f"[{_typst_escape(v)}]"
            for v in (
                r["variable"],
                r["period"],
                r["n_intervention"],
                r["n_comparison"],
                smd,
                r["mark"],
            )
        ]
    lines.append(f"#table(columns: 6, {', '.join(cells)})")
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
                lines += _pdf_diagnostic_lines(o)
                png = plot_once(run, "means", q, o, means_plot) if o.get("means") else None
                if png:
                    counter += 1
                    name = f"plot{counter}.png"
                    Path(tmp, name).write_bytes(png)
                    lines.append(f'#image("{name}", width: 70%)')
        lines += _pdf_balance_lines(context.get("balance"))
        lines += _pdf_plan_lines(context.get("plan"))
        Path(tmp, "report.typ").write_text("\n".join(lines), encoding="utf-8")
        return typst.compile(str(Path(tmp, "report.typ")))
