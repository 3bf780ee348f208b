"""The effect report as HTML (analysis/report_body.html), with the plots embedded as data: images.

The published report is Dutch whatever the reader's (or the worker's) interface language."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from analysis.reporting.context import report_context


def report_html_from_context(context: dict) -> str:
    with translation.override("nl"):
        return render_to_string("analysis/report_body.html", context)


def report_html(*, run, version: int, previous=None, published: bool = False) -> str:
    return report_html_from_context(
        report_context(run=run, version=version, previous=previous, published=published)
    )


#: The status on the title page (analysis/report_body.html); user text cannot contain it, as
#: autoescaping turns its quotes into entities.
_STATUS = '<strong data-status="{0}">{0}</strong>'
DRAFT_STATUS, PUBLISHED_STATUS = _STATUS.format("concept"), _STATUS.format("gepubliceerd")


def as_published(html: str) -> str | None:
    """A draft rendering with the status "gepubliceerd" on its title page: the published
    rendering of the same context, without drawing it again (None when the draft does not carry
    the status exactly once, e.g. one rendered by an older template)."""
    if html.count(DRAFT_STATUS) != 1 or PUBLISHED_STATUS in html:
        return None
    return html.replace(DRAFT_STATUS, PUBLISHED_STATUS)
