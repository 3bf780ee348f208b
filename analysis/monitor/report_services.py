"""Write side of stored monitor reports: run the monitor on an extract, price the MPG with the
cost model, store one suppressed report per municipality, publish.

The statistics stay in the pure modules (services, fast, tables, trend); this module only adds
the Django parts: the price catalogue, the model, the user.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from analysis.effects.disclosure import suppress_count
from analysis.monitor import services
from analysis.monitor.extract import ExtractError
from analysis.monitor.models import MonitorReport
from analysis.monitor.trend import DEFAULT_COST_PER_MPG_EUR
from study.roles import is_data_manager, is_researcher

#: Below this many MPG households the cost engine's average would describe too few families to
#: publish: the report's default is used instead (and the page says so).
MIN_FAMILIES_FOR_OWN_COST = 10
SOURCE_ENGINE = "cost_engine"
SOURCE_DEFAULT = "default"
REASON_ENGINE = "cost_engine"
REASON_NO_CATALOGUE = "no_catalogue"
REASON_FEW = "fewer_than_10_mpg"
REASON_FAILED = "pricing_failed"
REASON_NO_MPG = "no_mpg"


def may_manage_monitor(user) -> bool:
    """Researchers and data managers run, store and publish monitor reports."""
    return bool(
        user is not None
        and user.is_authenticated
        and (is_researcher(user) or is_data_manager(user))
    )


def cost_note(cost: dict[str, Any]) -> str:
    """Where the cost per MPG comes from, in the active language (from the stored reason)."""
    reason = cost.get("reason")
    if reason == REASON_ENGINE:
        return _(
            "average cost of the municipality's MPG households in %(year)s from the cost "
            "model (price catalogue version %(version)s, prices of %(price_year)s)"
        ) % {
            "year": cost.get("year"),
            "version": cost.get("catalogue_version"),
            "price_year": cost.get("price_year"),
        }
    if reason == REASON_NO_CATALOGUE:
        return _("no published price catalogue; the baseline report's EUR 114,291 is used")
    if reason == REASON_FEW:
        return _(
            "fewer than 10 MPG households: an average of so few families is not "
            "shown; the baseline report's EUR 114,291 (2014 prices) is used"
        )
    if reason == REASON_FAILED:
        return _("the cost model could not price the extract (%(error)s); the default is used") % {
            "error": cost.get("error", "")
        }
    if reason == REASON_NO_MPG:
        return _("no MPG households to price; the baseline report's default is used")
    return str(cost.get("note", ""))


def _default_cost(reason: str, **extra: Any) -> dict[str, Any]:
    cost = {
        "cost_per_mpg_eur": DEFAULT_COST_PER_MPG_EUR,
        "source": SOURCE_DEFAULT,
        "price_year": 2014,
        "catalogue_version": None,
        "families": None,
        "reason": reason,
        **extra,
    }
    return _with_note(cost)


def _with_note(cost: dict[str, Any]) -> dict[str, Any]:
    """Store the note in English (the API's language); pages translate it from ``reason``."""
    with translation.override("en"):
        cost["note"] = cost_note(cost)
    return cost


def mpg_cost_per_family(volumes: pd.DataFrame, *, year: int) -> dict[str, dict[str, Any]]:
    """Per municipality: the average yearly cost of its MPG households from the cost engine.

    ``volumes`` comes from ``services.mpg_volumes``. The current published price catalogue
    prices the households' indicator values of ``year`` (in prices of ``year``, or of the
    catalogue's base year when the CPI series does not reach ``year``). A municipality falls
    back to the baseline report's EUR 114,291 (2014 prices) when there is no catalogue, when
    it has fewer than 10 MPG households, or when pricing fails; ``note`` says which and why.
    """
    from analysis.costs import engine
    from analysis.costs import selectors as cost_selectors
    from analysis.costs.pricing import MissingCpiYearError
    from analysis.costs.study_costs import indicator_catalogue_frame

    names = sorted(volumes["municipality"].unique()) if len(volumes) else []
    try:
        catalogue = cost_selectors.catalogue_current()
    except cost_selectors.CatalogueNotFound:
        return {name: _default_cost(REASON_NO_CATALOGUE) for name in names}
    out: dict[str, dict[str, Any]] = {}
    priced = volumes[["family", "period", "indicator", "value"]]
    try:
        try:
            price_year = int(year)
            costs = cost_selectors.family_costs_for(
                priced,
                indicator_catalogue_frame(),
                price_year=price_year,
                version=catalogue.version,
                ggz_year_of=int,
            )
        except MissingCpiYearError:
            price_year = int(catalogue.base_year)
            costs = cost_selectors.family_costs_for(
                priced,
                indicator_catalogue_frame(),
                price_year=price_year,
                version=catalogue.version,
                ggz_year_of=int,
            )
    except ValueError as exc:
        return {name: _default_cost(REASON_FAILED, error=str(exc)) for name in names}
    totals = engine.family_totals(costs)
    home = volumes.drop_duplicates("family").set_index("family")["municipality"]
    totals["municipality"] = totals["family"].map(home)
    for name in names:
        own = totals[totals["municipality"] == name]
        if len(own) < MIN_FAMILIES_FOR_OWN_COST:
            out[name] = _default_cost(REASON_FEW)
            continue
        out[name] = _with_note(
            {
                "cost_per_mpg_eur": round(float(own["total_eur"].mean()), 2),
                "source": SOURCE_ENGINE,
                "reason": REASON_ENGINE,
                "year": int(year),
                "price_year": price_year,
                "catalogue_version": catalogue.version,
                "families": int(len(own)),
                # Stored for the gemeente too: a count of 1-9 is "*" like every other count.
                "complete_families": suppress_count(int(own["complete"].sum())),
            }
        )
    return out


def extract_years(path: str | Path) -> list[int]:
    """The years present in the extract (reads only that column)."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        column = pq.read_table(path, columns=["year"]).column(0).to_pandas()
    else:
        column = pd.read_csv(path, usecols=["year"])["year"]
    values = pd.to_numeric(column, errors="coerce").dropna().astype(int)
    return sorted(set(values.tolist()))


def trend_years(path: str | Path, year: int) -> list[int]:
    """Reporting years up to ``year`` the extract can answer (each needs its two years before)."""
    present = set(extract_years(path))
    return [y for y in sorted(present) if y <= year and {y - 1, y - 2} <= present]


def monitor_reports_save(
    *,
    path: str | Path,
    year: int,
    user=None,
    source_name: str | None = None,
    combined: dict[str, Any] | None = None,
) -> list[MonitorReport]:
    """Run the monitor on the extract and store one unpublished report per municipality.

    ``combined`` is a finished ``services.monitor_run`` result for ``year`` (so a caller that
    already ran the monitor does not run it twice). Raises ValidationError listing the
    extract's problems; nothing is stored then.
    """
    path = Path(path)
    if combined is None:
        combined = services.monitor_run(path=path, year=year)
    if combined["errors"]:
        raise ValidationError(combined["errors"][:50])
    counts = services.counts_frame(combined)
    try:
        volumes = services.mpg_volumes(path=path, year=year)
    except ExtractError as exc:
        raise ValidationError(exc.errors[:50]) from exc
    costs = mpg_cost_per_family(volumes, year=year)
    for name in counts["municipality"].astype(str).unique():
        costs.setdefault(name, _default_cost(REASON_NO_MPG))
    years = trend_years(path, year)
    trend = None
    if len(years) >= 2:
        per_family = {name: cost["cost_per_mpg_eur"] for name, cost in costs.items()}
        trend = services.monitor_trend(path=path, years=years, cost_per_family=None)
        if trend.get("errors"):
            trend = None
        else:
            _price_trend(trend, per_family)
    trend = _with_stored_years(trend, counts, year, costs)
    entries = services.municipality_reports(
        counts=counts,
        year=year,
        cost_per_family={n: c["cost_per_mpg_eur"] for n, c in costs.items()},
        trend=trend,
    )
    # Everything is computed before the first write: all reports are stored, or none.
    with transaction.atomic():
        return [
            MonitorReport.objects.create(
                municipality=entry["municipality"],
                year=year,
                summary=entry["summary"],
                tables=entry["tables"],
                trend=entry["trend"],
                cost=costs[entry["municipality"]],
                source_name=(source_name or path.name)[:255],
                created_by=user if user is not None and user.is_authenticated else None,
            )
            for entry in entries
        ]


def _with_stored_years(
    trend: dict[str, Any] | None,
    counts: pd.DataFrame,
    year: int,
    costs: dict[str, dict[str, Any]],
) -> dict[str, Any] | None:
    """The trend per municipality, with earlier reporting years taken from stored reports.

    A municipality usually gets one extract a year (Y-2..Y), which answers only year Y; its
    earlier years come from the reports stored before (the newest report per year). Years the
    extract answers itself take precedence. Stored counts are suppressed: a "*" in any year
    hides the trend, as it would have been hidden anyway.
    """
    by_name = {e["municipality"]: e for e in (trend or {}).get("municipalities", [])}
    raw_mpg = counts.groupby(counts["municipality"].astype(str))["mpg"].sum()
    out = []
    for name, mpg_now in raw_mpg.items():
        entry = by_name.get(name)
        if entry is not None and entry.get("trend") == "*":
            out.append(entry)
            continue
        own_cost = float(costs[name]["cost_per_mpg_eur"])
        mpg_by_year: dict[int, int | str] = {}
        cost_by_year: dict[int, float] = {}
        for report in MonitorReport.objects.filter(municipality=name, year__lt=year).order_by(
            "year", "created_at"
        ):  # the newest report of a year wins
            mpg_by_year[report.year] = report.summary.get("mpg", "*")
            cost_by_year[report.year] = float((report.cost or {}).get("cost_per_mpg_eur", own_cost))
        if not mpg_by_year:
            if entry is not None:
                out.append(entry)
            continue
        for row in (entry or {}).get("per_year", []):
            mpg_by_year[int(row["year"])] = int(row["mpg"])
            cost_by_year[int(row["year"])] = own_cost
        mpg_by_year[year] = int(mpg_now)
        cost_by_year[year] = own_cost
        combined = services.trend_entry(
            municipality=name, mpg_by_year=mpg_by_year, cost_by_year=cost_by_year
        )
        if combined is not None:
            combined["source"] = "extract and stored reports"
            out.append(combined)
    return {"municipalities": out} if out else trend


def _price_trend(trend: dict[str, Any], per_family: dict[str, float]) -> None:
    """Total cost per year in the trend rows with the municipality's own cost per MPG."""
    for entry in trend["municipalities"]:
        cost = per_family.get(entry["municipality"])
        if cost is None or "per_year" not in entry:
            continue
        for row in entry["per_year"]:
            row["cost_per_family"] = cost
            row["total_cost"] = row["mpg"] * cost
            row["total_cost_ci_low"] = row["mpg_ci_low"] * cost
            row["total_cost_ci_high"] = row["mpg_ci_high"] * cost


def monitor_report_publish(*, report: MonitorReport, user) -> MonitorReport:
    """Make a stored report visible to the gemeente of its municipality."""
    if not may_manage_monitor(user):
        raise PermissionDenied(_("Only researchers and data managers publish monitor reports."))
    if report.published_at is None:
        report.published_at = timezone.now()
        report.published_by = user
        report.save(update_fields=["published_at", "published_by"])
    return report


def monitor_report_withdraw(*, report: MonitorReport, user) -> MonitorReport:
    """Hide a published report from the gemeente again."""
    if not may_manage_monitor(user):
        raise PermissionDenied(_("Only researchers and data managers publish monitor reports."))
    report.published_at = None
    report.published_by = None
    report.save(update_fields=["published_at", "published_by"])
    return report
