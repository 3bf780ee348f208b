"""Read side of the monitor: which reports and jobs a user may see (page and API alike), what a
report page shows, and the stored reports an extract's trend builds on.

- researchers and data managers: every report, published or not, of the municipalities of the
  studies they hold that role in (``study.access.municipality_of``), and the monitor jobs they
  started themselves;
- a gemeente user: the published reports of the municipalities of the studies they are an
  active gemeente member of, the same membership that decides which published effect reports
  they see;
- anyone else (wijkcoaches, anonymous users): none.

The rule itself is `study.access.monitor_report_filter` / `may_manage_monitor`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import formats, translation
from django.utils.translation import gettext as _

from analysis.effects.disclosure import SUPPRESSED, suppress_count
from analysis.monitor.catalogue import load_catalogue
from analysis.monitor.costing import cost_explanation, cost_note
from analysis.monitor.labels import column_label
from analysis.monitor.models import MonitorJob, MonitorReport
from analysis.monitor.plot import trend_svg
from analysis.monitor.report_columns import indicator_columns
from study import access


def may_manage_monitor(user, municipality: str | None = None) -> bool:
    """Researchers and data managers of `municipality` (None: of any municipality) run, store,
    publish and withdraw its monitor reports."""
    return access.may_manage_monitor(user, municipality)


def may_manage_report(user, report: MonitorReport) -> bool:
    return access.may_manage_monitor(user, report.municipality)


def gemeente_municipalities(user) -> set[str]:
    """Municipalities a gemeente user represents (through active gemeente study memberships)."""
    return set(access.monitor_municipalities(user, access.Right.MONITOR_READ_PUBLISHED) or ())


def monitor_report_list(user, *, municipality: str | None = None) -> QuerySet[MonitorReport]:
    """The reports a user may see, newest year first per municipality."""
    qs = MonitorReport.objects.select_related("created_by", "published_by")
    if municipality is not None:
        qs = qs.filter(municipality=municipality)
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    allowed = access.monitor_report_filter(user)
    return qs if allowed is None else qs.filter(allowed)


def monitor_report_get(user, pk: int) -> MonitorReport:
    """One report the user may see, or 404 (never 403: do not confirm it exists)."""
    try:
        return monitor_report_list(user).get(pk=pk)
    except MonitorReport.DoesNotExist:
        raise Http404 from None


def latest_published(municipality: str) -> MonitorReport | None:
    """The newest published report of a municipality (for the effect report's section)."""
    return (
        MonitorReport.objects.filter(municipality=municipality, published_at__isnull=False)
        .order_by("-year", "-published_at")
        .first()
    )


def stored_figures(
    municipality: str, *, before: int, default_cost: float
) -> tuple[dict[int, int | str], dict[int, float]]:
    """MPG and cost per MPG by year from a municipality's stored reports of years before
    ``before``; the newest report of a year wins. Counts are the stored, suppressed ones."""
    mpg_by_year: dict[int, int | str] = {}
    cost_by_year: dict[int, float] = {}
    reports = MonitorReport.objects.filter(municipality=municipality, year__lt=before).order_by(
        "year", "created_at"
    )
    for report in reports:
        mpg_by_year[report.year] = report.summary.get("mpg", "*")
        cost_by_year[report.year] = float((report.cost or {}).get("cost_per_mpg_eur", default_cost))
    return mpg_by_year, cost_by_year


def monitor_job_get(user, pk: int) -> MonitorJob:
    """A monitor job, for the user who started it (and the installation administrator); 404 for
    anyone else."""
    if not may_manage_monitor(user):
        raise Http404
    jobs = MonitorJob.objects.all()
    if not access.is_installation_admin(user):
        jobs = jobs.filter(created_by=user)
    try:
        return jobs.get(pk=pk)
    except (MonitorJob.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _label_of_columns() -> dict[str, str]:
    """Every column's label in the active language, from the monitor's one label catalogue."""
    language = translation.get_language()
    catalogue = load_catalogue()
    names = [*HEADLINE, *OVERLAP_AND_SUPPORT, *indicator_columns(catalogue)]
    return {name: column_label(name, language, catalogue) for name in names}


def _indicator_names() -> list[str]:
    return list(indicator_columns(load_catalogue()))


HEADLINE = [
    "households_with_child",
    "se_any_socio_economic",
    "adult_any_psychosocial_adult",
    "child_any_psychosocial_child",
    "mvp",
    "mpg",
]
OVERLAP_AND_SUPPORT = [
    "domain12",
    "domain13",
    "domain23",
    "mvp",
    "support_y1",
    "support_y2",
    "support_both",
    "mvp_support_y1",
    "mvp_support_y2",
    "mpg",
]


def shown_count(value: Any) -> int | str | None:
    """A stored count as it may be shown: "*" stays, a count of 1-9 becomes "*" (the stored
    report is suppressed already; this guards every page and download against one that is not)."""
    if value is None or value == "" or value == SUPPRESSED:
        return None if value in (None, "") else SUPPRESSED
    return suppress_count(int(value))


def shown_share(row: dict, column: str) -> float | None:
    """The share of households with a child, None when the count is hidden or has none."""
    if column == "households_with_child" or shown_count(row.get(column)) in (None, SUPPRESSED):
        return None
    share = row.get(f"pct_{column}")
    return None if share is None else float(share)


def _count_text(value: int | str | None) -> str:
    if value is None:
        return ""
    if value == SUPPRESSED:
        return SUPPRESSED
    return formats.number_format(value, force_grouping=True)


def _cell(row: dict, column: str) -> dict[str, str]:
    """One cell as the page shows it: the count (grouped the reader's way) and its share with
    a decimal comma in Dutch (a point in English)."""
    share = shown_share(row, column)
    return {
        "count": _count_text(shown_count(row.get(column))),
        "share": "" if share is None else formats.number_format(share, decimal_pos=1),
    }


def table_rows(tables: dict) -> list[dict]:
    """The wijk rows, then the municipality's total row(s) (``total``: True)."""
    wijken = [
        {"name": w.get("wijk", ""), "row": w, "total": False} for w in tables.get("wijken", [])
    ]
    totals = [
        {"name": m.get("municipality", ""), "row": m, "total": True}
        for m in tables.get("municipalities", [])
    ]
    return wijken + totals


def _table(tables: dict, columns: list[str], labels: dict[str, str]) -> dict:
    rows = [
        {"name": r["name"], "cells": [_cell(r["row"], c) for c in columns], "total": r["total"]}
        for r in table_rows(tables)
    ]
    return {"headers": [labels[c] for c in columns], "rows": rows}


def table_columns(report: MonitorReport) -> list[str]:
    """Every column of a report's tables, in page order (headline, overlap, indicators)."""
    first = ((report.tables or {}).get("municipalities") or [{}])[0]
    indicators = [c for c in _indicator_names() if c in first]
    return list(dict.fromkeys([*HEADLINE, *OVERLAP_AND_SUPPORT, *indicators]))


def monitor_report_display(report: MonitorReport) -> dict[str, Any]:
    """What the report page shows: tables per wijk (counts with shares of households with a
    child; '*' for 1-9), the trend plot and the cost. Everything comes from the stored,
    already suppressed report."""
    labels = _label_of_columns()
    tables = report.tables or {}
    first = (tables.get("municipalities") or [{}])[0]
    indicator_names = [c for c in _indicator_names() if c in first]
    trend = report.trend or {}
    per_year = trend.get("per_year") or []
    svg = trend_svg(per_year, title=_("MPG per year, with 95% interval"), ylabel=_("MPG"))
    summary = report.summary or {}
    return {
        "headline": _table(tables, HEADLINE, labels),
        "overlap": _table(tables, OVERLAP_AND_SUPPORT, labels),
        "indicators": _table(tables, indicator_names, labels),
        "trend": trend,
        "trend_hidden": trend.get("trend") == "*",
        "per_year": per_year,
        "trend_svg": svg,
        "cost": report.cost or {},
        "cost_note": cost_note(report.cost or {}),
        "cost_explanation": cost_explanation(
            report.cost or {}, municipality=report.municipality, year=report.year
        ),
        "mpg": summary.get("mpg"),
        "mpg_total_cost_eur": summary.get("mpg_total_cost_eur"),
    }
