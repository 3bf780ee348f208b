"""The one context of an effect report, already disclosure-controlled: the HTML and the PDF
renderings (analysis/reporting/html.py, pdf.py) both print from it.

Privacy follows the statistics office's output rule: no family-level data, every count 1-9 as
"*", means and intervals resting on fewer than 10 families left out of tables and plots.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from analysis.costs.labels import DOMAIN_LABELS
from analysis.effects.derive import PROFESSIONAL_OUTCOMES
from analysis.effects.disclosure import SUPPRESSED, count, protect, shown_cells
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
    alt_text_event,
    alt_text_means,
    data_uri,
    event_plot,
    event_point_shown,
    forest_plot,
    means_plot,
    plot_once,
)
from analysis.reporting.published import (
    date_text,
    effect_text,
    estimator_text,
    fmt,
    forest_groups,
    interval_text,
    number_word,
    published_text,
    terms_text,
)


def _fmt(value, digits=2):
    return fmt(value, digits)


#: The report's sections in order: both renderings print exactly these headings.
SECTIONS = (
    ("samenvatting", "Samenvatting"),
    ("veranderd", "Wat is er veranderd sinds de vorige rapportage"),
    ("vragen", "De onderzoeksvragen een voor een"),
    ("kosten", "Kosten"),
    ("gemeentelijke-monitor", "Gemeentelijke monitor"),
    ("dosis", "Dosis van de aanpak"),
    ("balance", "Vergelijkbaarheid van de groepen vóór de aanpak"),
    ("gezinnen", "Gezinnen in de studie en uitval"),
    ("methode", "Methode"),
    ("privacy", "Privacy"),
    ("bijlage", "Bijlage: technische gegevens"),
)
VERDICT_WORDS = {
    "afgenomen": "afgenomen",
    "toegenomen": "toegenomen",
    "niet aangetoond": "niet aangetoond",
    "onzeker": "onzeker",
}


def arm_labels(study) -> dict:
    """The study's arm names (default interventiegroep / vergelijkingsgroep), for every plot
    and table; the professionals' pair stays "nieuwe werkwijze" / "zoals gebruikelijk"."""
    labels = dict(ARM_LABELS)
    try:
        arms = list(study.arms.all()) if getattr(study, "pk", None) else []
    except Exception:  # an unsaved study in a unit test
        arms = []
    for arm in arms:
        if arm.name:
            labels[arm.kind] = arm.name
    return labels


def _verdict(o: dict) -> str:
    verdict = o.get("verdict") or "niet geschat"
    if verdict.startswith("geen oordeel"):
        return "geen oordeel"
    return VERDICT_WORDS.get(verdict, verdict)


def _favourable(o: dict) -> str:
    verdict = o.get("verdict") or ""
    if verdict in ("afgenomen", "toegenomen"):
        return "gunstig" if o.get("improved") else "ongunstig"
    return "—"


def _warnings(o: dict) -> list[str]:
    seen: list[str] = []
    for w in o.get("warnings") or []:
        text = published_text(w)
        if text not in seen:
            seen.append(text)
    return seen


def _outcome_context(run, q: dict, o: dict, labels: dict) -> dict:
    shown = dict(o)
    shown["n_families_shown"], shown["n_treated_shown"] = unit_counts(o)
    professional = q.get("group") == "professional" or o.get("code") in PROFESSIONAL_OUTCOMES
    shown["unit_word"] = "professionals" if professional else "gezinnen"
    shown["effect_txt"] = effect_text(o)
    shown["ci_txt"] = interval_text(o)
    p_adj = o.get("p_adjusted")
    shown["p_txt"] = "< 0,001" if p_adj is not None and p_adj < 0.001 else _fmt(p_adj, 3)
    shown["p_eq"] = shown["p_txt"] if shown["p_txt"].startswith("<") else f"= {shown['p_txt']}"
    shown["verdict_txt"] = _verdict(o)
    shown["verdict_full"] = o.get("verdict") or "niet geschat"
    shown["estimator"] = estimator_text(o)
    shown["error"] = published_text(o["error"]) if o.get("error") else ""
    means = (
        plot_once(run, "means", q, o, lambda x: means_plot(x, labels)) if o.get("means") else None
    )
    event = plot_once(run, "event", q, o, event_plot) if o.get("event_study") else None
    shown["means_bytes"], shown["event_bytes"] = means, event
    shown["means_png"], shown["event_png"] = data_uri(means), data_uri(event)
    shown["means_alt"], shown["event_alt"] = alt_text_means(o), alt_text_event(o)
    study = o.get("event_study") or {}
    shown["event_left_out"] = any(not event_point_shown(e) for e in study.get("event", []))
    pre = study.get("pretest_p", study.get("pretrend_p"))
    shown["pretrend_txt"] = _fmt(pre, 3)
    shown.update(design_context(o))
    shown["favourable_txt"] = _favourable(o)
    shown.update(published_terms(outcome_diagnostics_context(o)))
    shown["warnings"] = _warnings(o)
    shown["uncertain_reasons"] = [published_text(r) for r in o.get("uncertain_reasons") or []]
    shown["segments"] = [segment_context(seg) for seg in o.get("version_segments") or []]
    return shown


def segment_context(seg: dict) -> dict:
    """A version segment of an instrument outcome as printed: its label, the break in plain
    Dutch, its own estimate (unadjusted p) or why there is none, and the families measured under
    it per arm through the output rule (the two counts and their total protected together)."""
    n = np.array([[int(seg.get("n_intervention") or 0), int(seg.get("n_comparison") or 0)]])
    full, mask = protect(n, row_totals=True, col_totals=False)
    intervention, comparison, _total = shown_cells(full, mask)[0]
    p = seg.get("p")
    p_txt = "< 0,001" if p is not None and p < 0.001 else _fmt(p, 3)
    reason = seg.get("reason") or (published_text(seg["error"]) if seg.get("error") else "")
    return {
        "code": seg.get("code", ""),
        "label": seg.get("label", ""),
        "break_txt": seg.get("break", ""),
        "effect_txt": effect_text(seg),
        "ci_txt": interval_text(seg),
        "p_eq": p_txt if p_txt.startswith("<") else f"= {p_txt}",
        "note": seg.get("note", ""),
        "reason": reason,
        "estimated": seg.get("effect") is not None and not reason,
        "n_intervention": intervention,
        "n_comparison": comparison,
    }


#: The methods section's sentence on P1-P2 (README: no validated professionals' instrument with
#: suitable terms was found, so they keep their single items).
PROFESSIONAL_SINGLE_ITEMS = (
    "De uitkomsten van professionals (P1-P2: werktevredenheid, autonomie, trots en competentie) "
    "zijn losse vragen (enkele items), geen gevalideerd instrument: we hebben geen gevalideerd "
    "instrument voor professionals gevonden waarvan de voorwaarden gebruik in dit project "
    "toestaan. Een losse vraag meet minder betrouwbaar dan een gevalideerde schaal met "
    "meerdere vragen, dus kleine veranderingen zijn moeilijker aan te tonen."
)


def professional_single_items(questions: list[dict]) -> str:
    """The limitation sentence when the report answers a professionals' question ("" else)."""
    answered = any(
        q.get("group") == "professional"
        or any(o.get("code") in PROFESSIONAL_OUTCOMES for o in q.get("outcomes", []))
        for q in questions
    )
    return PROFESSIONAL_SINGLE_ITEMS if answered else ""


def published_terms(value):
    """The statistics' own terms in published words, all through a nested part of the context
    (the diagnostics' scales and reasons: "Poisson PML", "exp(b) - 1")."""
    if isinstance(value, str):
        return terms_text(value)
    if isinstance(value, dict):
        return {k: published_terms(v) for k, v in value.items()}
    if isinstance(value, list):
        return [published_terms(v) for v in value]
    return value


def _answer_sentence(q: dict) -> str:
    if q.get("not_answered_reason"):
        return published_text(q["not_answered_reason"])
    parts = [
        f"{o['label']}: {o['verdict_txt']}"
        + (f" ({o['favourable_txt']})" if o["favourable_txt"] != "—" else "")
        for o in q["outcomes"]
        if o.get("primary", True)
    ] or [f"{o['label']}: {o['verdict_txt']}" for o in q["outcomes"]]
    return "; ".join(parts) + "." if parts else "Niet geschat."


def summary_context(run, questions: list[dict]) -> dict:
    """The summary: one answer per question, one table row per outcome, and a forest plot of
    the primary effects per unit group."""
    rows = []
    for q in questions:
        for o in q["outcomes"]:
            rows.append(
                {
                    "question": q["code"],
                    "question_text": q["text"],
                    "label": o["label"],
                    "primary": bool(o.get("primary")),
                    "effect_txt": o["effect_txt"],
                    "ci_txt": o["ci_txt"],
                    "verdict_txt": o["verdict_txt"],
                    "favourable_txt": o["favourable_txt"],
                    "n": o["n_families_shown"],
                    "unit_word": o["unit_word"],
                    "effect": o.get("effect"),
                    "ci_low": o.get("ci_low"),
                    "ci_high": o.get("ci_high"),
                    "scale": o.get("scale"),
                    "improved": o.get("improved"),
                    "significant": o.get("verdict") in ("afgenomen", "toegenomen"),
                    "level": (o.get("outcome_design") == "none"),
                }
            )
    forests = []
    shown = [r for r in rows if r["primary"] and not r["level"] and r["effect"] is not None]
    for group, title, _word, members in forest_groups(shown):
        png = plot_once(
            run,
            "forest",
            {"code": "summary"},
            {"code": group},
            lambda _o, m=members, g=group, t=title: forest_plot(m, g, t),
        )
        if png:
            forests.append(
                {
                    "group": group,
                    "title": title,
                    "bytes": png,
                    "png": data_uri(png),
                    "alt": f"Bosgrafiek: {title.lower()}, per uitkomst het effect met het "
                    f"95%-interval; de verticale lijn is geen effect. Uitkomsten: "
                    + "; ".join(f"{r['label']} {r['effect_txt']} ({r['ci_txt']})" for r in members),
                }
            )
    answers = [
        {"code": q["code"], "text": q["text"], "answer": _answer_sentence(q)} for q in questions
    ]
    return {"answers": answers, "rows": rows, "forests": forests}


def report_context(*, run, version: int, previous=None, published: bool = False) -> dict:
    """Everything the report shows, already disclosure-controlled."""
    results = run.results
    labels = arm_labels(run.study)
    questions = []
    for q in results.get("questions", []):
        outcomes = [_outcome_context(run, q, o, labels) for o in q["outcomes"]]
        questions.append({**q, "outcomes": outcomes})
    monitor = monitor_section(run.study)  # published municipal monitor figures, or None
    questions = [answer_question(q, monitor) for q in questions]
    attrition = attrition_table(results.get("attrition", []), labels=labels)
    changes = _changes_since(previous, results) if previous is not None else []
    costs = results.get("costs") or {}
    by_domain = [
        {
            **r,
            "arm_label": labels.get(r.get("arm"), r.get("arm")),
            # lazy: the report is rendered in Dutch (html.py), whatever language built this
            "domain_label": DOMAIN_LABELS.get(str(r.get("domain", "")), r.get("domain", "")),
            "mean_txt": _fmt(r["mean_eur"], 0) if r["n"] >= MIN_FAMILIES_FOR_MEAN else "*",
        }
        for r in costs.get("by_domain", [])
    ]
    finished = getattr(run, "finished_at", None)
    return {
        "run": run,
        "study": run.study,
        "version": version,
        "status_txt": "gepubliceerd" if published else "concept",
        "date_txt": date_text(finished.date() if finished else None),
        "period_txt": _period(run),
        "arm_labels": labels,
        "sections": _sections(changes, previous, monitor),
        "summary": summary_context(run, questions),
        "overrides": override_context(results.get("eligibility_overrides"), labels),
        "multiplicity_txt": _multiplicity_txt(results.get("multiplicity")),
        "technical": _technical(run, results),
        "questions": questions,
        "design": results.get("design", "calendar"),
        "multiplicity": results.get("multiplicity"),
        "attrition": attrition,
        "dose": [
            {
                **d,
                "arm_label": labels.get(d.get("arm"), d.get("arm")),
                "families_shown": count(int(d.get("families") or 0)),
                "contacts_txt": fmt(d["contacts_per_year"], 1)
                if d.get("families", 0) >= MIN_FAMILIES_FOR_MEAN
                and d.get("contacts_per_year") is not None
                else "*",
                "hours_txt": fmt(d["hours_per_year"], 1)
                if d.get("families", 0) >= MIN_FAMILIES_FOR_MEAN
                and d.get("hours_per_year") is not None
                else "*",
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
        "baseline": _baseline(costs.get("baseline")),
        "n_families_shown": attrition["grand"]
        if attrition["rows"]
        else count(int(results.get("n_families") or 0)),
        "plan": _plan_context(results.get("plan")),
        "dose_response": _dose_response_context(results.get("dose_response")),
        "monitor": _monitor_counts(monitor),
        "balance": balance_context(results),
        "matching": matching_context(results),
        "diagnostics": results.get("diagnostics"),
        "professional_single_items": professional_single_items(results.get("questions", [])),
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


def _interval(row: dict, scale: str | None = None) -> str:
    return interval_text({**row, "scale": scale})


def _est(value, scale: str | None) -> str:
    return effect_text({"effect": value, "scale": scale})


def design_context(o: dict) -> dict:
    """The design lines of one outcome: its design, the estimates beside the verdict (stacked,
    imputation, ANCOVA on T0, the calendar-time TWFE, euros for costs) and why it is uncertain."""
    scale = o.get("scale")
    out: dict = {
        "favourable_txt": FAVOURABLE.get(o.get("improved"), ""),
        "design_txt": OUTCOME_DESIGN_TEXT.get(o.get("outcome_design") or "", ""),
        "beside": [],
    }
    for key, name in (("stacked", "gestapeld per intakejaar"), ("imputation", "imputatie (BJS)")):
        alt = (o.get("alternatives") or {}).get(key) or {}
        if alt.get("estimate") is not None:
            out["beside"].append(
                f"{name}: {_est(alt['estimate'], scale)} (95%-interval {_interval(alt, scale)})"
            )
    ancova = (o.get("checks") or {}).get("ancova") or {}
    if ancova.get("estimate") is not None:
        flagged = ((o.get("checks") or {}).get("bracket") or {}).get("flagged")
        out["beside"].append(
            f"ANCOVA op T0 (controle): {_est(ancova['estimate'], scale)} (95%-interval {_interval(ancova, scale)})"
            + ("; DiD en ANCOVA komen tot een ander oordeel" if flagged else "")
        )
    if o.get("level_effect") is not None:
        unit = o.get("level_unit") or "eenheden van de uitkomst"
        digits = 0 if "euro" in unit else 2
        out["beside"].append(
            f"in {unit} bij het gemiddelde van de vergelijkingsgroep na de intake "
            f"({_fmt(o.get('comparison_post_mean'), digits)}): {fmt(o['level_effect'], digits, sign=True)} "
            f"({_fmt(o.get('level_ci_low'), digits)} tot {_fmt(o.get('level_ci_high'), digits)})"
        )
    calendar = o.get("calendar") or {}
    if o.get("design") == "aligned" and calendar.get("effect") is not None:
        out["calendar_txt"] = (
            f"Kalenderschatting ter vergelijking (bepaalt het oordeel niet): "
            f"{_est(calendar['effect'], scale)} (95%-interval {_interval(calendar, scale)})."
        )
        out["crisis_warning"] = CRISIS_ENTRY_WARNING
    aligned = o.get("aligned") or {}
    if o.get("design") == "calendar" and aligned.get("effect") is not None:
        out["aligned_txt"] = (
            f"Uitgelijnde schatting (de aanbevolen opzet): {_est(aligned['effect'], scale)} "
            f"(95%-interval {_interval(aligned, scale)}, ongecorrigeerde p = {_fmt(aligned.get('p'), 3)})."
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
                "n_shown": count(int(r.get("n_families") or 0), rounded=True),
                "note": published_text(r.get("note", "")),
            }
        )
    return {
        "per_hours": _fmt(dr.get("per_hours"), 0),
        "caveat": published_text(dr.get("caveat", "")),
        "rows": rows,
    }


STATUS_LABELS = {
    "active": "in onderzoek",
    "completed": "follow-up afgerond",
    "dropped_out": "uitgevallen",
    "moved_away": "verhuisd",
    "deceased": "overleden",
    "withdrawn": "toestemming ingetrokken",
}


def unit_counts(outcome: dict) -> tuple:
    """Families (or professionals) and treated ones of an outcome as printed: the line
    (treated, comparison | total) protected as a table with its total, then each count rounded
    to a multiple of five, so that two outcomes' counts of the same families (80/40 beside
    79/39) cannot be subtracted to show a single family."""
    total = int(outcome.get("n_units") or 0)
    treated = int(outcome.get("n_treated") or 0)
    full, mask = protect(
        np.array([[treated, max(total - treated, 0)]]), row_totals=True, col_totals=False
    )
    shown = [
        count(SUPPRESSED) if mask[0, j] else count(int(full[0, j]), rounded=True) for j in (0, 2)
    ]
    return shown[1], shown[0]


def attrition_table(rows: list[dict], labels: dict | None = None) -> dict:
    """Families per arm (rows) and status (columns) with row, column and grand totals, primary
    and secondary suppression with the protection interval applied to the table with its
    margins (analysis.effects.disclosure.protect): no hidden cell can be pinned, nor put within
    1-9, from the shown totals and cells of its rows and columns."""
    labels = labels or ARM_LABELS
    arms = sorted({r["arm"] for r in rows})
    statuses = [s for s in STATUS_LABELS if any(r["status"] == s for r in rows)]
    statuses += sorted({r["status"] for r in rows} - set(statuses))
    if not arms:
        return {"statuses": [], "rows": [], "totals": [], "grand": count(0)}
    counts = np.zeros((len(arms), len(statuses)), dtype=np.int64)
    for r in rows:
        counts[arms.index(r["arm"]), statuses.index(r["status"])] += int(r["n"])
    full, mask = protect(counts, row_totals=True, col_totals=True)
    shown = shown_cells(full, mask)
    return {
        "statuses": [{"code": s, "label": STATUS_LABELS.get(s, s)} for s in statuses],
        "rows": [
            {
                "arm": arm,
                "label": labels.get(arm, arm),
                "cells": shown[i][:-1],
                "total": shown[i][-1],
            }
            for i, arm in enumerate(arms)
        ],
        "totals": shown[-1][:-1],
        "grand": shown[-1][-1],
    }


def override_context(rows: list[dict] | None, labels: dict) -> dict | None:
    """Families enrolled on the case file although the recorded indicators did not show
    eligibility (issue 18), per arm, protected like the attrition table."""
    if rows is None:
        return None
    arms = sorted({r["arm"] for r in rows} | {"intervention", "comparison"})
    n = np.array([[sum(int(r["n"]) for r in rows if r["arm"] == arm) for arm in arms]])
    full, mask = protect(n, row_totals=True, col_totals=False)
    shown = shown_cells(full, mask)[0]
    return {
        "rows": [{"label": labels.get(arm, arm), "n": shown[i]} for i, arm in enumerate(arms)],
        "total": shown[-1],
        "any": int(n.sum()) > 0,
    }


def _tagged(value):
    try:
        return count(value)
    except (TypeError, ValueError):
        return value


def _monitor_counts(monitor: dict | None) -> dict | None:
    """The monitor section's counts through the one door (they come suppressed already)."""
    if not monitor:
        return monitor
    return {
        **monitor,
        **{k: _tagged(monitor.get(k)) for k in ("households_with_child", "mvp", "mpg")},
        "per_year": [{**r, "mpg": _tagged(r.get("mpg"))} for r in monitor.get("per_year") or []],
    }


def _baseline(base: dict | None) -> dict | None:
    if not base:
        return None
    return {
        **base,
        "point_txt": fmt(base.get("point"), 0),
        "low_txt": fmt(base.get("low"), 0),
        "high_txt": fmt(base.get("high"), 0),
    }


def _period(run) -> str:
    start = getattr(run.study, "start_date", None)
    end = getattr(run, "finished_at", None)
    if start is None:
        return "—"
    return f"{date_text(start)} tot {date_text(end.date()) if end else 'heden'}"


def _sections(changes, previous, monitor) -> list[dict]:
    skip = set()
    if not (changes or previous):
        skip.add("veranderd")
    if not monitor:
        skip.add("gemeentelijke-monitor")
    return [{"id": key, "title": title} for key, title in SECTIONS if key not in skip]


def _multiplicity_txt(multiplicity: dict | None) -> str:
    if not multiplicity or not multiplicity.get("primary"):
        return ""
    prim, sec = multiplicity["primary"], multiplicity.get("secondary") or {}
    text = (
        f"De p-waarden zijn gecorrigeerd over alle {number_word(int(prim.get('m') or 0))} primaire "
        f"uitkomsten van het plan samen ({published_text(prim.get('method', ''))}; ook uitkomsten "
        "die niet geschat konden worden tellen mee)"
    )
    if sec.get("m"):
        text += (
            f" en over de {number_word(int(sec['m']))} secundaire uitkomsten "
            f"({published_text(sec.get('method', ''))})"
        )
    return text + "."


def _technical(run, results: dict) -> list[dict]:
    """The technical appendix: identifiers a reader needs only to trace the analysis."""
    plan = results.get("plan") or {}
    params = getattr(run, "params", None) or {}
    rows = [
        ("Analysenummer", str(run.pk)),
        ("Data-vingerafdruk", getattr(run, "fingerprint", "") or "—"),
        ("Codeversie", getattr(run, "code_version", "") or "—"),
        ("Analyseplan (SHA-256)", plan.get("sha256") or "—"),
        ("Inferentie", str(params.get("inference", "cr2"))),
        ("Bootstrap-trekkingen", str(params.get("draws") or 0)),
        ("Seed", str(params.get("seed") if params.get("seed") is not None else "—")),
        ("Rekentijd (seconden)", fmt(results.get("seconds"), 1)),
    ]
    estimators = sorted(
        {o.get("estimator") or "" for q in results.get("questions", []) for o in q["outcomes"]}
        - {""}
    )
    rows += [("Schatter (technische naam)", e) for e in estimators]
    return [{"label": k, "value": v} for k, v in rows]


def _plan_context(plan: dict | None) -> dict | None:
    """The registered plan a run followed, with its deviations, for the methods section."""
    if not plan:
        return None
    frozen = plan.get("frozen_at")
    return {
        **plan,
        "frozen_date": date_text(datetime.fromisoformat(frozen).date()) if frozen else "—",
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
