"""Estimator, design and inference-method names for the pages, in the reader's language, from one
place (issue 20): the pure statistics name methods by code ("cr2", "aligned", "ppml"); pages
and forms show these words. The published report words them in Dutch itself
(analysis/reporting/published.py)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

DESIGN_LABELS = {
    "aligned": _("aligned on both arms' intake"),
    "calendar": _("calendar time (TWFE)"),
}
MODEL_LABELS = {
    "linear": _("linear model"),
    "lpm": _("linear probability model (percentage points)"),
    "ppml": _("Poisson regression (relative change)"),
}
INFERENCE_LABELS = {
    "cr2": _("CR2 (Bell-McCaffrey, Satterthwaite df)"),
    "cr1": _("CR1 (clustered, G - 1 df)"),
    "cv3": _("CV3 (cluster jackknife)"),
    "wild": _("wild cluster bootstrap"),
    "ri": _("randomisation inference"),
}


def label(labels: dict, code: str | None) -> str:
    """The words for a code; an unknown code (a newer method) shows as itself, upper-case."""
    return str(labels.get(code or "", (code or "").upper()))
