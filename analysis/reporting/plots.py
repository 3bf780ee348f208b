"""The plots of an effect report, as PNG bytes: arm means over time and the event study.

Drawn with Matplotlib's object API (no pyplot): figures are not shared global state, so reports
can be rendered in background threads. Means resting on fewer than 10 families are not drawn.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from analysis.reporting.published import UNIT_GROUP_TITLES, fmt, plural_word, unit_of

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


def _dutch_axes(ax, *, y_digits: int = 1, whole_x: bool = True) -> None:
    """Decimal comma and thousands point on the value axis, whole years on the time axis."""
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt(v, y_digits)))
    if whole_x:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _t_label(v)))


def _t_label(v: float) -> str:
    return f"T{int(round(v))}" if round(v) >= 0 else f"T-{abs(int(round(v)))}"


def _y_label(outcome: dict) -> str:
    label = outcome.get("label") or ""
    if outcome.get("kind") == "binary":
        return "aandeel gezinnen"
    return label[:1].upper() + label[1:]


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def means_plot(outcome: dict, arm_labels: dict | None = None) -> bytes | None:
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
    labels = arm_labels or ARM_LABELS
    for arm in sorted({r["arm"] for r in rows}):
        pts = sorted((r for r in rows if r["arm"] == arm), key=lambda r: r["rel"])
        xs = [p["rel"] for p in pts]
        ax.plot(
            xs,
            [p["mean"] for p in pts],
            marker="o",
            label=labels.get(arm, arm),
            color=ARM_COLOURS.get(arm),
        )
        lo = [p["ci_low"] if p["ci_low"] is not None else p["mean"] for p in pts]
        hi = [p["ci_high"] if p["ci_high"] is not None else p["mean"] for p in pts]
        ax.fill_between(xs, lo, hi, alpha=0.15, color=ARM_COLOURS.get(arm))
    professional = outcome.get("unit") == "professional" or outcome.get("design") == "calendar"
    ax.set_xlabel("meting (jaar)" if professional else "meting (T0 = intake, jaren sinds intake)")
    ax.set_ylabel(_y_label(outcome), fontsize=8)
    ax.set_title(outcome["label"], fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    _dutch_axes(ax, y_digits=2 if outcome.get("kind") == "binary" else 1, whole_x=not professional)
    if professional:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: str(int(round(v)))))
    return _png(fig)


def event_plot(outcome: dict) -> bytes | None:
    """Event-study coefficients with their pointwise 95% intervals (bars) and, for the aligned
    event study, the uniform (sup-t) 95% band over all event times (shaded); reference T-1."""
    study = outcome.get("event_study") or {}
    points = [
        e for e in study.get("event", []) if e.get("att") is not None and event_point_shown(e)
    ]
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
    ax.set_xlabel("meting (jaren sinds de intake; referentie T-1, T0 bevat de start)")
    _, factor, word, _digits = unit_of(outcome)
    ax.set_ylabel(f"verschil ({word})" if factor == 1 else "verschil (schaal van de schatting)")
    ax.set_title(f"Eventstudie: {outcome['label']}", fontsize=10)
    if band:
        ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    _dutch_axes(ax, y_digits=1)
    return _png(fig)


def event_point_shown(point: dict) -> bool:
    """An event-study point is drawn only when it rests on at least 10 families in each arm
    the run counted (fewer than 10: left out, the output rule)."""
    for key in ("n_intervention", "n_comparison", "n"):
        n = point.get(key)
        if n is not None and int(n) < MIN_FAMILIES_FOR_MEAN:
            return False
    return True


def forest_plot(rows: list[dict], group: str, title: str | None = None) -> bytes | None:
    """All primary effects of one unit group on one figure: estimate and 95% interval per
    outcome, in the published unit, a line at no effect. ``rows`` carry label, effect, ci_low,
    ci_high and scale (the summary rows of the context)."""
    rows = [r for r in rows if r.get("effect") is not None and r.get("ci_low") is not None]
    if not rows:
        return None
    _, factor, word, digits = unit_of(rows[0])
    fig = Figure(figsize=(6.2, 0.45 * len(rows) + 1.2))
    ax = fig.subplots()
    ys = list(range(len(rows)))[::-1]
    for y, r in zip(ys, rows, strict=True):
        colour = "#0b5cad" if r.get("improved") else ("#b3541e" if r.get("significant") else "#555")
        ax.errorbar(
            [r["effect"] * factor],
            [y],
            xerr=[[(r["effect"] - r["ci_low"]) * factor], [(r["ci_high"] - r["effect"]) * factor]],
            fmt="o",
            color=colour,
            capsize=3,
        )
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(ys)
    ax.set_yticklabels([r["label"] for r in rows], fontsize=8)
    ax.set_xlabel(f"effect met 95%-interval ({plural_word(word)})")
    ax.set_title(title or UNIT_GROUP_TITLES.get(group, group), fontsize=10)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt(v, 0 if digits == 0 else 1)))
    ax.grid(alpha=0.3, axis="x")
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


def alt_text_means(outcome: dict) -> str:
    return (
        f"Lijngrafiek: gemiddelde van {outcome.get('label', '')} per groep per meting, met "
        "95%-intervallen; metingen op minder dan 10 gezinnen zijn weggelaten."
    )


def alt_text_event(outcome: dict) -> str:
    return (
        f"Eventstudie van {outcome.get('label', '')}: het verschil tussen de groepen per jaar "
        "sinds de intake ten opzichte van T-1, met 95%-intervallen."
    )


def data_uri(png: bytes | None) -> str | None:
    """A PNG as a data: URI for the HTML report (the content security policy allows data: images)."""
    return None if png is None else "data:image/png;base64," + base64.b64encode(png).decode()
