"""The report's view of the statistician's checks (issue 14), already disclosure-controlled.

Every published count (balance n's, Lee-bound n's) goes through the disclosure helper's
``count`` (tagged, rounded to five beside other counts of the same families); a mean or an
SMD resting on fewer than 10 families in an arm is left out.
"""

from __future__ import annotations

import re

from analysis.effects.disclosure import count, suppress_count
from analysis.reporting.plots import MIN_FAMILIES_FOR_MEAN

SCALES = {
    "percentage points": "procentpunten",
    "outcome units": "eenheden van de uitkomst",
    "log (Poisson PML coefficient)": "logschaal (coëfficiënt van Poisson PML)",
    "proportional change (exp(b) - 1)": "relatieve verandering (exp(b) - 1)",
}
PERIODS = {
    "slope T-2 to T0": "helling T-2 → T0",
    "intake": "bij de intake",
    "after matching": "na het matchen",
    "before matching": "vóór het matchen",
}
#: The household characteristics of the balance table, in the report's words.
HOUSEHOLD_LABELS = {
    "n_adult": "volwassenen in het huishouden",
    "n_child": "kinderen in het huishouden",
    "single_adult": "eenoudergezin (één volwassene)",
    "intake_year": "intakejaar",
}
MARKS = {"large": "≥ 0,25 (groot)", "notable": "≥ 0,1", "": ""}
RESTRICTIONS = {
    "rm": "relatieve omvang (Δ^RM): afwijkingen na de intake hooguit M̄ keer de grootste "
    "afwijking vóór de intake",
    "sd": "gladheid (Δ^SD): de trend mag per jaar hooguit M van richting veranderen",
}
#: The HonestDiD tests in the report's words, by the engine's method name (its first word).
HONEST_METHODS = {
    "FLCI": "vaste-lengte-interval (FLCI)",
    "C-LF": "conditionele minst-gunstige hybride toets (C-LF)",
}
ROBUSTNESS_LINES = {
    "cr2": "uitgelijnd, CR2 (Satterthwaite-vrijheidsgraden)",
    "cr1": "uitgelijnd, CR1 (G - 1 vrijheidsgraden)",
    "cv3": "uitgelijnd, CV3-jackknife",
    "wild": "uitgelijnd, wild cluster bootstrap",
    "stacked": "gestapeld per intakejaar",
    "imputation": "imputatie (Borusyak, Jaravel en Spiess)",
    "calendar_twfe": "kalender-TWFE",
    "ri": "randomisatie-inferentie",
}
#: Within what randomisation inference permuted the arm labels (the RI line's ``within``).
RI_WITHIN = {
    "allocation_block": "binnen de blokken van de toewijzing en het intakejaar",
    "allocation_stratum": "binnen de strata van de toewijzing en het intakejaar",
    "match_set": "binnen de gematchte paren of sets en het intakejaar",
    "intake_year": "binnen het intakejaar",
}


def _fmt(value, digits=2):
    if value is None:
        return "—"
    return f"{value:,.{digits}f}".replace(",", "_").replace(".", ",").replace("_", ".")


def _p(p) -> str:
    return "< 0,001" if p is not None and p < 0.001 else _fmt(p, 3)


REASONS = (
    (
        re.compile(r"^a linear-model check; not run for Poisson PML"),
        "een controle voor lineaire modellen; niet uitgevoerd voor Poisson PML",
    ),
    (
        re.compile(r"^no pre-intake year besides the reference"),
        "er is geen jaar vóór de intake naast het referentiejaar, dus de omvang van afwijkingen "
        "vóór de intake, waarop de grenzen schalen, is niet te zien",
    ),
    (
        re.compile(r"^imputation needs an untreated observation.*?(\d+) family"),
        "imputatie heeft van elk behandeld gezin een onbehandelde meting nodig; {n} gezin(nen) "
        "hebben die niet",
    ),
    (
        re.compile(r"^the serial correlation cannot be estimated"),
        "de seriële correlatie is niet te schatten (alleen T0 gaat aan de aanpak vooraf) en het "
        "plan legt er nog geen aanname voor vast",
    ),
)


def reason_nl(text: str) -> str:
    """A part's reason in Dutch where known; every family count in it through suppress_count."""
    for pattern, dutch in REASONS:
        m = pattern.search(text)
        if m:
            n = suppress_count(int(m.group(1))) if m.groups() else ""
            return dutch.format(n=n)
    return re.sub(
        r"(\d+)(\s+famil)", lambda m: f"{suppress_count(int(m.group(1)))}{m.group(2)}", text
    )


def _not_computed(part) -> str | None:
    if isinstance(part, dict) and part.get("computed") is False:
        return reason_nl(str(part.get("reason") or "niet berekend"))
    if isinstance(part, list) and part and isinstance(part[0], dict):
        if part[0].get("computed") is False:
            return reason_nl(str(part[0].get("reason") or "niet berekend"))
    return None


def honest_method_nl(method: str) -> str:
    """The report's Dutch name of a HonestDiD test ("FLCI (fixed-length ...)" -> Dutch)."""
    return HONEST_METHODS.get(method.split(" ", 1)[0], method)


def _honest(h: dict | None, eligibility_tied: bool) -> dict | None:
    if h is None:
        return None
    reason = _not_computed(h)
    if reason:
        return {"reason": reason}
    restrictions = []
    for key in ("rm", "sd"):
        r = h.get(key)
        if not r:
            continue
        if r.get("computed") is False:
            restrictions.append(
                {"label": RESTRICTIONS[key], "reason": reason_nl(str(r.get("reason") or ""))}
            )
            continue
        symbol = "M̄" if r.get("parameter") == "Mbar" else "M"
        bd = r.get("breakdown")
        orig = r.get("original") or {}
        lo, hi = orig.get("ci_low"), orig.get("ci_high")
        if lo is not None and hi is not None and lo <= 0 <= hi:
            breakdown = "het effect is al zonder afwijkingen van parallelle trends niet aantoonbaar"
        elif bd is None:
            breakdown = "het effect blijft aantoonbaar over het hele rooster van waarden"
        elif key == "rm":
            breakdown = (
                "het effect blijft aantoonbaar zolang afwijkingen na de intake hooguit "
                f"M̄ = {_fmt(bd)} keer zo groot zijn als vóór de intake"
            )
        else:
            breakdown = (
                "het effect blijft aantoonbaar zolang de trend per jaar hooguit "
                f"M = {_fmt(bd)} van richting verandert"
            )
        restrictions.append(
            {
                "key": key,
                "label": RESTRICTIONS[key],
                "method": honest_method_nl(str(r.get("method", ""))),
                "symbol": symbol,
                "rows": [
                    {
                        "value": _fmt(i.get("value"), 3),
                        "ci": f"{_fmt(i.get('ci_low'))} tot {_fmt(i.get('ci_high'))}",
                    }
                    for i in r.get("intervals", [])
                ],
                "breakdown": breakdown,
            }
        )
    return {
        "target": str(h.get("target", "")).replace("average of", "gemiddelde van"),
        "scale": SCALES.get(str(h.get("scale", "")), h.get("scale", "")),
        "restrictions": restrictions,
        "eligibility_note": (
            "Deze uitkomst hangt samen met de toelatingsregel (hulp in elk van de twee jaren vóór "
            "de intake): de groepen lijken vóór de intake door selectie op elkaar, dus Δ^RM lijkt "
            "vanzelf robuust. Kijk daarom ook naar Δ^SD ernaast."
        )
        if eligibility_tied
        else "",
    }


def _ipw(ipw: dict | None) -> dict | None:
    if ipw is None:
        return None
    reason = _not_computed(ipw)
    if reason:
        return {"reason": reason}
    unw = ipw.get("unweighted") or {}
    lee = ipw.get("lee") or {}
    out = {
        "weighted": f"{_fmt(ipw.get('effect'))} (95%-interval {_fmt(ipw.get('ci_low'))} tot "
        f"{_fmt(ipw.get('ci_high'))})",
        "unweighted": f"{_fmt(unw.get('effect'))} (95%-interval {_fmt(unw.get('ci_low'))} tot "
        f"{_fmt(unw.get('ci_high'))})",
        "lee": None,
    }
    if lee and lee.get("computed") is not False and lee.get("lower") is not None:
        out["lee"] = {
            "range": f"{_fmt(lee['lower'])} tot {_fmt(lee['upper'])}",
            # Tagged counts (the report's one door); the stayers rounded to five, as they sit
            # beside other counts of the same families.
            "n_stayers": count(int(lee.get("n_stayers") or 0), rounded=True),
            "n_trimmed": count(int(lee.get("n_trimmed") or 0)),
        }
    return out


def _line(r: dict) -> str:
    method, line = r.get("method", ""), str(r.get("line", ""))
    label = ROBUSTNESS_LINES.get(method, line)
    if method == "calendar_twfe":
        if "Bacon" in line:
            label += " (met Goodman-Bacon-decompositie)"
        elif "dCDH" in line or "Chaisemartin" in line:
            label += " (met de gewichten van De Chaisemartin en D'Haultfoeuille)"
    if method == "ri":
        within = RI_WITHIN.get(str(r.get("within") or ""), RI_WITHIN["intake_year"])
        label += f" (armlabels gepermuteerd {within}"
        label += "; alle toewijzingen doorgerekend)" if r.get("exact") else ")"
        if r.get("note"):
            label += f"; {r['note']}"
        if "check" in line.lower():
            label += (
                "; geen loting: een permutatiecontrole, geen op het ontwerp gebaseerde inferentie"
            )
    return label


def _robustness(rows) -> dict | None:
    if rows is None:
        return None
    reason = _not_computed(rows)
    if reason:
        return {"reason": reason, "rows": []}
    out = []
    for r in rows:
        if r.get("computed") is False:
            out.append({"line": _line(r), "reason": reason_nl(str(r.get("reason") or ""))})
            continue
        out.append(
            {
                "line": _line(r),
                "estimate": _fmt(r.get("estimate")),
                "ci": f"{_fmt(r.get('ci_low'))} tot {_fmt(r.get('ci_high'))}"
                if r.get("ci_low") is not None
                else "—",
                "p": _p(r.get("p_value")),
            }
        )
    return {"reason": None, "rows": out}


#: Where the MDE beside the interval width comes from, in the report's words.
MDE_SOURCES = {
    "plan": "vooraf vastgelegd in het analyseplan",
    "run": "niet vooraf vastgelegd: berekend bij deze analyse uit de eigen gegevens",
}


def _rho_source(source) -> str:
    words = {"pre-intake years": "jaren vóór de intake", "assumed": "aangenomen"}
    return words.get(str(source or ""), str(source or ""))


def _power(mde: dict | None, width: dict | None, scale: str) -> dict | None:
    if mde is None and width is None:
        return None
    mde_reason = _not_computed(mde)
    width_reason = _not_computed(width)
    width_scale = SCALES.get(str((width or {}).get("scale", "")), scale)
    m = mde or {}
    rho = m.get("rho")
    return {
        "mde": None if mde_reason or mde is None or m.get("mde") is None else _fmt(m["mde"]),
        "mde_reason": mde_reason,
        "alpha": _fmt(m.get("alpha"), 4),
        "power": _fmt(100 * float(m.get("power") or 0.8), 0),
        # The plan's MDE names its unit (standard deviations when no data existed yet).
        "mde_scale": str(m.get("unit") or width_scale),
        "source": MDE_SOURCES.get(str(m.get("source") or ""), ""),
        "rho": None if rho is None else f"{_fmt(rho)} ({_rho_source(m.get('rho_source'))})",
        "width": None if width_reason or width is None else _fmt(width.get("width")),
        "width_reason": width_reason,
        "scale": width_scale,
    }


def outcome_diagnostics_context(o: dict) -> dict:
    """The sensitivity, IPW, robustness and power lines of one outcome row (None if absent)."""
    return {
        "sensitivity": _honest(o.get("honest"), bool(o.get("eligibility_tied"))),
        "ipw_shown": _ipw(o.get("ipw")),
        "robustness_shown": _robustness(o.get("robustness") if "honest" in o else None),
        "power_shown": _power(o.get("mde_planned"), o.get("ci_width"), o.get("scale", "")),
        "nonzero_shown": _nonzero(o),
    }


def _nonzero(o: dict) -> str | None:
    """A Poisson PML outcome: how many families have a non-zero count (through the disclosure
    rule) and how many only zeros (left out of the fit)."""
    if o.get("model") != "ppml" or o.get("n_families_nonzero") is None:
        return None
    n, zero = int(o["n_families_nonzero"]), int(o.get("n_families_all_zero") or 0)
    text = f"{suppress_count(n)} gezinnen met ten minste één waarde boven nul"
    if zero:
        text += f"; {suppress_count(zero)} gezinnen met alleen nullen tellen niet mee"
    return text


def balance_context(results: dict) -> dict | None:
    """Balance table rows as printed: n's suppressed, means and SMD hidden below 10 families."""
    rows = results.get("balance")
    if rows is None:
        return None
    if isinstance(rows, dict):
        return {"reason": rows.get("reason", "niet berekend"), "rows": []}
    labels = _labels(results)
    return {"reason": None, "rows": _balance_rows(rows, labels)}


def _labels(results: dict) -> dict[str, str]:
    return HOUSEHOLD_LABELS | {
        o["code"]: o.get("label", o["code"])
        for q in results.get("questions", [])
        for o in q["outcomes"]
    }


def _label(variable: str, labels: dict[str, str]) -> str:
    """A variable's label; "code T-1" (a pre-intake level) as "label (T-1)"."""
    code, _, period = variable.partition(" ")
    if period and code in labels:
        return f"{labels[code]} ({period})"
    return labels.get(variable, variable)


def _balance_rows(rows: list[dict], labels: dict[str, str]) -> list[dict]:
    out = []
    for r in rows:
        n_i, n_c = int(r.get("n_intervention") or 0), int(r.get("n_comparison") or 0)
        enough = min(n_i, n_c) >= MIN_FAMILIES_FOR_MEAN and r.get("smd") is not None
        out.append(
            {
                "variable": _label(r["variable"], labels),
                "period": PERIODS.get(r["period"], r["period"]),
                "n_intervention": count(n_i, rounded=True),
                "n_comparison": count(n_c, rounded=True),
                "shown": enough,
                "mean_intervention": _fmt(r.get("mean_intervention")),
                "mean_comparison": _fmt(r.get("mean_comparison")),
                "smd": _fmt(r.get("smd")),
                "mark": MARKS.get(r.get("mark") or "", r.get("mark") or "") if enough else "",
                "within_set_smd": _fmt(r.get("within_set_smd")) if enough else None,
                **_before_columns(r, n_i),
            }
        )
    return out


def _before_columns(r: dict, n_i: int) -> dict:
    """A row after matching with the pool's SMD before matching beside it (when recorded)."""
    if "n_candidates" not in r:
        return {}
    n_pool = int(r.get("n_candidates") or 0)
    enough = min(n_i, n_pool) >= MIN_FAMILIES_FOR_MEAN and r.get("smd_before") is not None
    return {
        "n_candidates": suppress_count(n_pool),
        "smd_before": _fmt(r.get("smd_before")) if enough else "—",
        "mark_before": MARKS.get(r.get("mark_before") or "", "") if enough else "",
    }


def matching_context(results: dict) -> dict | None:
    """The matched design's diagnostics as printed (None for a study that is not matched);
    every family count through the disclosure rule."""
    m = results.get("matching")
    if m is None:
        return None
    if not m.get("computed"):
        return {"reason": reason_nl(str(m.get("reason") or "niet berekend"))}
    before = m.get("before")
    sizes = ", ".join(
        f"{suppress_count(int(n))} × {k.replace(':', ' interventie : ')} vergelijking"
        for k, n in (m.get("set_sizes") or {}).items()
    )
    return {
        "reason": None,
        "variables": m.get("variables"),
        "n_sets": suppress_count(int(m.get("n_sets") or 0)),
        "n_complete_sets": suppress_count(int(m.get("n_complete_sets") or 0)),
        "set_sizes": sizes,
        "families_in_complete_sets": suppress_count(int(m.get("families_in_complete_sets") or 0)),
        "families_outside_sets": suppress_count(int(m.get("families_outside_sets") or 0)),
        "sets_across_intake_years": suppress_count(int(m.get("sets_across_intake_years") or 0)),
        "after": _balance_rows(m.get("after") or [], _labels(results)),
        "pool": isinstance(before, list),
        "n_candidates": suppress_count(int((m.get("pool") or {}).get("n_candidates") or 0)),
        "n_selected": suppress_count(int((m.get("pool") or {}).get("n_selected") or 0)),
        "before_reason": None if isinstance(before, list) else (before or {}).get("reason"),
    }
