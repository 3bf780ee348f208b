"""The MPG trend as an inline SVG (matplotlib, no Django): count per year with its exact 95%
interval. Only published, already suppressed figures reach this function."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any


def trend_svg(
    per_year: Sequence[dict[str, Any]], *, title: str = "", ylabel: str = "MPG"
) -> str | None:
    """SVG text of MPG per year with error bars, or None when there is nothing to draw."""
    rows = [r for r in per_year if isinstance(r.get("mpg"), int | float)]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    years = [int(r["year"]) for r in rows]
    counts = [float(r["mpg"]) for r in rows]
    low = [c - float(r.get("mpg_ci_low", c)) for c, r in zip(counts, rows, strict=True)]
    high = [float(r.get("mpg_ci_high", c)) - c for c, r in zip(counts, rows, strict=True)]
    figure = Figure(figsize=(5.5, 2.8), dpi=96)
    axes = figure.subplots()
    axes.errorbar(years, counts, yerr=[low, high], fmt="o-", capsize=4, color="#1f5f8b")
    axes.set_xticks(years)
    axes.set_ylim(bottom=0)
    axes.set_ylabel(ylabel)
    if title:
        axes.set_title(title, fontsize=10)
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog: the SVG is embedded in HTML
