"""Running the monitor on an extract: per-municipality chunks, combining, the printed summary.

No Django here: the command, the Celery tasks and the benchmark all call these functions.
Chunk results are JSON-able dicts of raw counts so they can travel through a Celery chord.
"""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.effects.disclosure import suppression_mask
from analysis.monitor.catalogue import load_catalogue
from analysis.monitor.classify import classify_households
from analysis.monitor.extract import (
    ExtractError,
    iter_municipality_chunks,
    municipalities,
    read_municipality,
    split_pieces,
    validate_extract,
)
from analysis.monitor.tables import (
    HEADLINE_COLUMNS,
    combine_counts,
    report_columns_renamed,
    report_table,
    wijk_counts,
)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records"))


def monitor_municipalities(*, path: str | Path) -> list[str]:
    """The municipalities in the extract: one chunk (and one Celery task) each."""
    return municipalities(path)


def monitor_chunk(
    *, path: str | Path, municipality: str | None, year: int, fast: bool = True
) -> dict[str, Any]:
    """Validate, classify and count one municipality (None: the whole file) of the extract.

    Returns {"municipality", "rows", "counts": [per-wijk raw counts], "errors": [...]}; a file
    problem is returned as errors rather than raised so that a fan-out can report all of them.
    A Parquet file whose statistics pin the municipality to its own row groups (as the
    generator writes it) goes through the fast path, with the same result.
    """
    path = Path(path)
    catalogue = load_catalogue()
    if fast and municipality is not None and path.suffix.lower() == ".parquet":
        result = _fast_chunk(path, municipality, year, catalogue)
        if result is not None:
            return result
    try:
        raw = read_municipality(path, municipality, [year - 2, year - 1, year], catalogue)
        kind = path.suffix.lower().lstrip(".")
        frame = validate_extract(raw, year, catalogue, kind=kind)
    except ExtractError as exc:
        return {"municipality": municipality, "rows": 0, "counts": [], "errors": exc.errors}
    classified = classify_households(frame, year, catalogue, with_indicators=True)
    counts = wijk_counts(classified, catalogue)
    return {
        "municipality": municipality,
        "rows": len(frame),
        "counts": _records(counts),
        "errors": [],
    }


def _fast_chunk(path: Path, municipality: str, year: int, catalogue) -> dict[str, Any] | None:
    import sys

    from analysis.monitor.fast import iter_chunk_counts, municipality_groups

    try:
        groups = municipality_groups(path, municipality)
        if groups is None:
            return None
        parts = list(iter_chunk_counts(path, year, catalogue, sys.maxsize, groups))
    except ExtractError as exc:
        return {"municipality": municipality, "rows": 0, "counts": [], "errors": exc.errors}
    errors = [e for part in parts for e in part["errors"]]
    if errors:
        return {"municipality": municipality, "rows": 0, "counts": [], "errors": errors}
    frames = [part["counts"] for part in parts if part["counts"] is not None]
    return {
        "municipality": municipality,
        "rows": sum(int(part["rows"]) for part in parts),
        "counts": [r for frame in frames for r in _records(frame)],
        "errors": [],
    }


def monitor_combine(*, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Combine chunk results: counts added up per wijk, errors and row counts collected."""
    errors = [e for r in results for e in r["errors"]]
    parts = [pd.DataFrame.from_records(r["counts"]) for r in results if r["counts"]]
    counts = combine_counts(parts)
    return {
        "rows": sum(r["rows"] for r in results),
        "municipalities": int(counts["municipality"].nunique()) if len(counts) else 0,
        "counts": _records(counts),
        "errors": errors,
    }


def _run_pieces(
    path: str, year: int, pieces: range | None, min_rows: int, fast: bool = True
) -> list[dict[str, Any]]:
    """Validate, classify and count the whole municipalities in a range of row groups.

    A Parquet file goes through the Arrow/NumPy fast path (analysis.monitor.fast) unless
    ``fast`` is False; both give the same counts and errors, chunk by chunk.
    """
    catalogue = load_catalogue()
    kind = Path(path).suffix.lower().lstrip(".")
    years = [year - 2, year - 1, year]
    results = []
    if fast and kind == "parquet":
        from analysis.monitor.fast import iter_chunk_counts

        for part in iter_chunk_counts(path, year, catalogue, min_rows, pieces):
            counts = part["counts"]
            results.append(
                {
                    "municipality": None,
                    "rows": part["rows"],
                    "counts": [] if counts is None else _records(counts),
                    "errors": part["errors"],
                }
            )
        return results
    for chunk in iter_municipality_chunks(path, years, catalogue, min_rows, pieces):
        try:
            frame = validate_extract(chunk, year, catalogue, kind=kind)
        except ExtractError as exc:
            results.append({"municipality": None, "rows": 0, "counts": [], "errors": exc.errors})
            continue
        classified = classify_households(frame, year, catalogue, with_indicators=True)
        counts = wijk_counts(classified, catalogue)
        results.append(
            {"municipality": None, "rows": len(frame), "counts": _records(counts), "errors": []}
        )
    return results


def monitor_run(
    *,
    path: str | Path,
    year: int,
    workers: int = 1,
    min_rows: int = 1_000_000,
    fast: bool = True,
) -> dict[str, Any]:
    """The whole extract in-process: whole municipalities per chunk, so memory stays bounded.

    With ``workers`` > 1 a Parquet file's row groups are split into ranges of whole
    municipalities, each run in its own process. Every chunk is validated; errors of all chunks
    are returned together and no counts are reported then.
    """
    path = Path(path)
    try:
        pieces = split_pieces(path, workers)
        if len(pieces) <= 1:
            results = _run_pieces(str(path), year, None, min_rows, fast)
        else:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=len(pieces), mp_context=context) as pool:
                futures = [
                    pool.submit(_run_pieces, str(path), year, piece, min_rows, fast)
                    for piece in pieces
                ]
                results = [r for future in futures for r in future.result()]
    except ExtractError as exc:
        return {"rows": 0, "municipalities": 0, "counts": [], "errors": exc.errors}
    combined = monitor_combine(results=results)
    if not combined["errors"] and not combined["counts"]:
        combined["errors"].append(f"{path.name}: no rows for year {year}")
    return combined


def counts_frame(combined: dict[str, Any]) -> pd.DataFrame:
    """The combined counts as a DataFrame (one row per municipality and wijk)."""
    return pd.DataFrame.from_records(combined["counts"])


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
    from analysis.monitor.trend import mpg_cost  # scipy: imported only when reporting

    by_municipality = report_table(counts, by="municipality", suppress=suppress)
    by_wijk = report_table(counts, by="wijk", suppress=suppress)
    raw_municipality = report_table(counts, by="municipality", suppress=False)
    out: dict[str, Any] = {"year": year, "suppressed": suppress, "municipalities": []}
    for (_, row), (_, raw) in zip(
        by_municipality.iterrows(), raw_municipality.iterrows(), strict=True
    ):
        name = row["municipality"]
        entry = {"municipality": name, **{c: row[c] for c in HEADLINE_COLUMNS}}
        cost = mpg_cost(
            int(raw["mpg"]), **({"cost_per_family": cost_per_family} if cost_per_family else {})
        )
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
            "wijken": _records(report_columns_renamed(by_wijk)),
            "municipalities": _records(report_columns_renamed(by_municipality)),
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
    from analysis.monitor.trend import mpg_trend  # scipy: imported only when reporting

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
    cost = {"cost_per_family": cost_per_family} if cost_per_family else {}
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
            result = mpg_trend(counts, **cost)
            entry["per_year"] = _records(result["years"])
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


def mpg_volumes(
    *, path: str | Path, year: int, municipalities: list[str] | None = None
) -> pd.DataFrame:
    """The indicator values in ``year`` of the MPG households, long, for the cost engine.

    Columns: municipality, family (the household id), period (the year), indicator, value. Only
    MPG households (a few per thousand) are kept, so the frame stays small for any extract.
    """
    catalogue = load_catalogue()
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    parts = []
    for chunk in iter_municipality_chunks(path, [year - 2, year - 1, year], catalogue):
        frame = validate_extract(chunk, year, catalogue, kind=kind)
        classified = classify_households(frame, year, catalogue)
        chosen = classified["mpg"].to_numpy()
        if municipalities is not None:
            names = classified["municipality"].astype(str).isin(municipalities).to_numpy()
            chosen &= names
        ids = set(classified.loc[chosen, "household_id"].tolist())
        rows = frame[(frame["year"].to_numpy() == year) & frame["household_id"].isin(ids)]
        if not len(rows):
            continue
        long = rows.melt(
            id_vars=["municipality", "household_id", "year"],
            value_vars=catalogue.codes,
            var_name="indicator",
            value_name="value",
        )
        parts.append(long.rename(columns={"household_id": "family", "year": "period"}))
    columns = ["municipality", "family", "period", "indicator", "value"]
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)[columns]
    out["municipality"] = out["municipality"].astype(str)
    out["value"] = out["value"].astype(float)
    return out


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
    from analysis.monitor.trend import mpg_trend

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
        "per_year": _records(result["years"]),
        "mpg_trend": result["mpg_trend"].as_dict(),
        "cost_trend": result["cost_trend"].as_dict(),
    }
    return json.loads(json.dumps(entry, default=_plain))
