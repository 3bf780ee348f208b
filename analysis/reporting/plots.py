"""The plots of an effect report, as PNG bytes: arm means over time and the event study.

Drawn with Matplotlib's object API (no pyplot): figures are not shared global state, so reports
can be rendered in background threads. Means resting on fewer than 10 families are not drawn.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

from matplotlib.figure import Figure

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


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
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
    fig = Figure(figsize=(5.2, 2.8))
    ax = fig.subplots()
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
    """Event-study coefficients with their pointwise 95% intervals (bars) and, for the aligned
    event study, the uniform (sup-t) 95% band over all event times (shaded); reference T-1."""
    study = outcome.get("event_study") or {}
    points = [e for e in study.get("event", []) if e.get("att") is not None]
    if not points:
        return None
    fig = Figure(figsize=(5.2, 2.6))
    ax = fig.subplots()
    es = [p["e"] for p in points]
    band = [p for p in points if p.get("band_low") is not None and p.get("band_high") is not None]
    if band:
        ax.fill_between(
            [p["e"] for p in band],
            [p["band_low"] for p in band],
            [p["band_high"] for p in band],
            color="#0b5cad",
            alpha=0.15,
            label="uniforme 95%-band (sup-t)",
        )
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
    ax.set_xlabel("jaren sinds de intake (referentie T-1; T0 bevat de start)")
    ax.set_title(f"Eventstudie: {outcome['label']}", fontsize=10)
    if band:
        ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    return _png(fig)


def plot_once(
    run, kind: str, question: dict, outcome: dict, draw: Callable[[dict], bytes | None]
) -> bytes | None:
    """A plot of a run drawn once: the HTML and the PDF of one rendering share the PNG bytes."""
    cache = run.__dict__.setdefault("_report_pngs", {})
    key = (kind, question["code"], outcome["code"])
    if key not in cache:
        cache[key] = draw(outcome)
    return cache[key]


def data_uri(png: bytes | None) -> str | None:
    """A PNG as a data: URI for the HTML report (the content security policy allows data: images)."""
    return None if png is None else "data:image/png;base64," + base64.b64encode(png).decode()
