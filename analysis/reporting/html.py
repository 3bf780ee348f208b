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
