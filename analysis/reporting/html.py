"""The effect report as HTML (analysis/report_body.html), with the plots embedded as data: images."""

from __future__ import annotations

from django.template.loader import render_to_string

from analysis.reporting.context import report_context


def report_html(*, run, version: int, previous=None) -> str:
    return render_to_string(
        "analysis/report_body.html", report_context(run=run, version=version, previous=previous)
    )
