"""The monitor's figures from counts: the suppressed summary per municipality and wijk, the
trend over reporting years, and one report per municipality (pure; no Django).

Counts come from analysis/monitor/pipeline.py (raw, additive); everything here that leaves the
monitor is suppressed unless a caller asks for raw counts (the command's --no-suppress).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.effects.disclosure import suppression_mask
from analysis.monitor.pipeline import counts_frame, monitor_run, records
from analysis.monitor.tables import HEADLINE_COLUMNS, report_columns_renamed, report_table
from analysis.monitor.trend import DEFAULT_COST_PER_MPG_EUR, mpg_cost, mpg_trend


def monitor_summary(
    *,
    counts: pd.DataFrame,
    year: int,
    suppress: bool = True,
    cost_per_family: float | None = None,
    full: bool = False,
) -> dict[str, Any]:
    """Per municipality and per wijk: households with a child, domains 1-3, mvp, mpg (+ cost).

    With ``suppress`` every count 1-9 is "*" and secondary suppression protects the wijk rows
    against subtraction from the municipality's shown total. With ``full`` the summary also
    holds the report's tables ("tables": per wijk and per municipality, every indicator, the
    domain overlaps and support in the preceding years, with shares of households with a child).
    """
    by_municipality = report_table(counts, by="municipality", suppress=suppress)
    by_wijk = report_table(counts, by="wijk", suppress=suppress)
    raw_municipality = report_table(counts, by="municipality", suppress=False)
    out: dict[str, Any] = {"year": year, "suppressed": suppress, "municipalities": []}
    for (_, row), (_, raw) in zip(
        by_municipality.iterrows(), raw_municipality.iterrows(), strict=True
    ):
        name = row["municipality"]
        entry = {"municipality": name, **{c: row[c] for c in HEADLINE_COLUMNS}}
        cost = mpg_cost(int(raw["mpg"]), cost_per_family or DEFAULT_COST_PER_MPG_EUR)
        entry["cost_per_mpg_eur"] = cost.cost_per_family
        # The total cost would reveal a suppressed MPG count: hide it with the count.
        entry["mpg_total_cost_eur"] = "*" if row["mpg"] == "*" else round(cost.total, 2)
        wijken = by_wijk[by_wijk["municipality"] == name]
        entry["wijken"] = [
            {"wijk": w["wijk"], **{c: w[c] for c in HEADLINE_COLUMNS}} for _, w in wijken.iterrows()
        ]
        out["municipalities"].append(entry)
    if full:
        out["tables"] = {
            "wijken": records(report_columns_renamed(by_wijk)),
            "municipalities": records(report_columns_renamed(by_municipality)),
        }
    return json.loads(json.dumps(out, default=int))


def monitor_trend(
    *,
    path: str | Path,
    years: list[int],
    suppress: bool = True,
    cost_per_family: float | None = None,
) -> dict[str, Any]:
    """MPG per municipality over reporting years, exact intervals and the two trend tests.

    Answers "does the number of MPG decrease?" and "do total MPG costs decrease?" per
    municipality and for all together. One pass over the file per year. With ``suppress`` a
    municipality with an MPG count of 1-9 in any year shows "*" instead of its trend.
    """
    per_year: dict[int, pd.Series] = {}
    for year in years:
        combined = monitor_run(path=path, year=year)
        if combined["errors"]:
            return {"errors": combined["errors"]}
        per_year[year] = counts_frame(combined).groupby("municipality")["mpg"].sum()
    table = pd.DataFrame(per_year).fillna(0).astype(int)
    # Secondary suppression: the "(all)" row must not give a hidden municipality's count away.
    mask = suppression_mask(table.to_numpy(), totals="columns") if suppress else None
    hidden_rows = set(table.index[mask.any(axis=1)]) if mask is not None else set()
    table.loc["(all)"] = table.sum()
    out: dict[str, Any] = {
        "years": years,
        "suppressed": suppress,
        "municipalities": [],
        "errors": [],
    }
    for name, row in table.iterrows():
        counts = {int(y): int(v) for y, v in row.items()}
        small = any(1 <= v <= 9 for v in counts.values())
        entry: dict[str, Any] = {"municipality": name}
        if suppress and (small or name in hidden_rows):
            entry["mpg"] = dict.fromkeys(counts, "*")
            entry["trend"] = "*"
        else:
            result = mpg_trend(counts, cost_per_family or DEFAULT_COST_PER_MPG_EUR)
            entry["per_year"] = records(result["years"])
            if "mpg_trend" in result:
                entry["mpg_trend"] = result["mpg_trend"].as_dict()
                entry["cost_trend"] = result["cost_trend"].as_dict()
        out["municipalities"].append(entry)
    return json.loads(json.dumps(out, default=_plain))


def _plain(value: Any) -> Any:
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def municipality_reports(
    *,
    counts: pd.DataFrame,
    year: int,
    cost_per_family: dict[str, float | None] | None = None,
    trend: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One suppressed report per municipality: headline figures per wijk, the full tables, and
    the municipality's trend entry (from ``monitor_trend``) when given.

    Each municipality is suppressed on its own (its wijken against its own total), so a stored
    report never depends on which other municipalities were in the extract.
    """
    cost_per_family = cost_per_family or {}
    trends = {e["municipality"]: e for e in (trend or {}).get("municipalities", [])}
    out = []
    names = sorted(counts["municipality"].astype(str).unique()) if len(counts) else []
    for name in names:
        own = counts[counts["municipality"].astype(str) == name]
        summary = monitor_summary(
            counts=own, year=year, cost_per_family=cost_per_family.get(name), full=True
        )
        out.append(
            {
                "municipality": name,
                "year": year,
                "summary": summary["municipalities"][0],
                "tables": summary["tables"],
                "trend": trends.get(name),
            }
        )
    return out


def trend_entry(
    *, municipality: str, mpg_by_year: dict[int, int | str], cost_by_year: dict[int, float]
) -> dict[str, Any] | None:
    """One municipality's trend in the stored (suppressed) form, from MPG counts per year.

    Any year with a count of 1-9 (or already shown as "*") hides the whole trend, as in
    ``monitor_trend``; fewer than two years give None.
    """
    years = sorted(mpg_by_year)
    if len(years) < 2:
        return None
    values = [mpg_by_year[y] for y in years]
    if any(v == "*" or (isinstance(v, int) and 1 <= v <= 9) for v in values):
        return {"municipality": municipality, "mpg": dict.fromkeys(years, "*"), "trend": "*"}
    result = mpg_trend(
        {y: int(mpg_by_year[y]) for y in years},
        cost_per_family={y: float(cost_by_year[y]) for y in years},
    )
    entry = {
        "municipality": municipality,
        "per_year": records(result["years"]),
        "mpg_trend": result["mpg_trend"].as_dict(),
        "cost_trend": result["cost_trend"].as_dict(),
    }
    return json.loads(json.dumps(entry, default=_plain))


def price_trend(trend: dict[str, Any], per_family: dict[str, float]) -> None:
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
