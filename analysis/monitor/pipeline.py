"""Counting an extract: per-municipality chunks, row-group ranges in a process pool, combining.

Pure (pandas, pyarrow, NumPy; no Django): analysis/monitor/runner.py picks how to run these
functions (a Celery task per municipality with a broker, the process pool without one), the
benchmark and the tests call them directly. Chunk results are JSON-able dicts of raw counts
({"municipality", "rows", "counts": [per-wijk rows], "errors": [...]}) so that they can travel
through Celery; a file problem is returned as errors rather than raised, so that a run reports
all of them.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.monitor.catalogue import Catalogue, load_catalogue
from analysis.monitor.classify import classify_households
from analysis.monitor.extract import (
    ExtractError,
    check_columns,
    iter_municipality_chunks,
    municipalities,
    read_municipality,
    split_pieces,
    validate_extract,
)
from analysis.monitor.fast import csv_chunk_counts, iter_chunk_counts, municipality_groups
from analysis.monitor.tables import combine_counts, wijk_counts

#: Rows per chunk of whole municipalities (memory stays bounded by about this many rows).
CHUNK_ROWS = 1_000_000

Result = dict[str, Any]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-able records (NumPy numbers as plain ints and floats)."""
    return json.loads(frame.to_json(orient="records"))


def _failed(municipality: str | None, errors: list[str]) -> Result:
    return {"municipality": municipality, "rows": 0, "counts": [], "errors": errors}


def monitor_municipalities(*, path: str | Path) -> list[str]:
    """The municipalities in the extract, one chunk (and one Celery task) each.

    Raises ExtractError when the file cannot be read or lacks a required column, so that a
    fan-out reports that once instead of once per municipality.
    """
    check_columns(path)
    return municipalities(path)


def monitor_chunk(
    *, path: str | Path, municipality: str | None, year: int, fast: bool = True
) -> Result:
    """Validate, classify and count one municipality (None: the whole file) of the extract.

    A Parquet file whose statistics pin the municipality to its own row groups (as the
    generator writes it) goes through the fast path, with the same result; so does a whole CSV
    file (Arrow's CSV reader into the same kernels), which the runner sends as one chunk.
    """
    path = Path(path)
    catalogue = load_catalogue()
    if fast and municipality is not None and path.suffix.lower() == ".parquet":
        result = _fast_chunk(path, municipality, year, catalogue)
        if result is not None:
            return result
    if fast and municipality is None and path.suffix.lower() == ".csv":
        parts = csv_chunk_counts(path, year, catalogue, CHUNK_ROWS)
        if parts is not None:
            return {
                "municipality": None,
                "rows": sum(int(part["rows"]) for part in parts),
                "counts": [r for part in parts for r in records(part["counts"])],
                "errors": [],
            }
    try:
        raw = read_municipality(path, municipality, [year - 2, year - 1, year], catalogue)
        frame = validate_extract(raw, year, catalogue, kind=path.suffix.lower().lstrip("."))
    except ExtractError as exc:
        return _failed(municipality, exc.errors)
    classified = classify_households(frame, year, catalogue, with_indicators=True)
    counts = wijk_counts(classified, catalogue)
    return {
        "municipality": municipality,
        "rows": len(frame),
        "counts": records(counts),
        "errors": [],
    }


def _fast_chunk(path: Path, municipality: str, year: int, catalogue: Catalogue) -> Result | None:
    try:
        groups = municipality_groups(path, municipality)
        if groups is None:
            return None
        parts = list(iter_chunk_counts(path, year, catalogue, sys.maxsize, groups))
    except ExtractError as exc:
        return _failed(municipality, exc.errors)
    errors = [e for part in parts for e in part["errors"]]
    if errors:
        return _failed(municipality, errors)
    frames = [part["counts"] for part in parts if part["counts"] is not None]
    return {
        "municipality": municipality,
        "rows": sum(int(part["rows"]) for part in parts),
        "counts": [r for frame in frames for r in records(frame)],
        "errors": [],
    }


def monitor_combine(*, results: list[Result], source: str, year: int) -> Result:
    """Combine chunk results: counts added up per wijk, errors and row counts collected.

    ``source`` names the extract in the error of an extract without rows for ``year``.
    """
    errors = [e for r in results for e in r["errors"]]
    parts = [pd.DataFrame.from_records(r["counts"]) for r in results if r["counts"]]
    counts = combine_counts(parts)
    if not errors and not len(counts):
        errors.append(f"{source}: no rows for year {year}")
    return {
        "rows": sum(r["rows"] for r in results),
        "municipalities": int(counts["municipality"].nunique()) if len(counts) else 0,
        "counts": records(counts),
        "errors": errors,
    }


def _count_pieces(
    path: str, year: int, pieces: range | None, min_rows: int, fast: bool = True
) -> list[Result]:
    """Validate, classify and count the whole municipalities in a range of row groups.

    A Parquet file goes through the Arrow/NumPy fast path (analysis.monitor.fast) unless
    ``fast`` is False; both give the same counts and errors, chunk by chunk. A CSV file goes
    through the same kernels by Arrow's CSV reader; whenever that path gives up (something to
    report, or municipalities not kept together) the whole file takes the pandas path.
    """
    catalogue = load_catalogue()
    try:
        if fast and Path(path).suffix.lower() == ".csv":
            parts = csv_chunk_counts(path, year, catalogue, min_rows)
            if parts is not None:
                return [
                    {
                        "municipality": None,
                        "rows": p["rows"],
                        "counts": records(p["counts"]),
                        "errors": [],
                    }
                    for p in parts
                ]
        if fast and Path(path).suffix.lower() == ".parquet":
            return [
                {
                    "municipality": None,
                    "rows": part["rows"],
                    "counts": [] if part["counts"] is None else records(part["counts"]),
                    "errors": part["errors"],
                }
                for part in iter_chunk_counts(path, year, catalogue, min_rows, pieces)
            ]
        chunks = iter_municipality_chunks(
            path, [year - 2, year - 1, year], catalogue, min_rows, pieces
        )
        return [_count_frame(chunk, year, catalogue, path) for chunk in chunks]
    except ExtractError as exc:  # the file itself: unreadable, or a column missing
        return [_failed(None, exc.errors)]


def _count_frame(chunk: pd.DataFrame, year: int, catalogue: Catalogue, path: str) -> Result:
    """One chunk through the straightforward pandas path."""
    try:
        frame = validate_extract(chunk, year, catalogue, kind=Path(path).suffix.lower().lstrip("."))
    except ExtractError as exc:
        return _failed(None, exc.errors)
    classified = classify_households(frame, year, catalogue, with_indicators=True)
    counts = wijk_counts(classified, catalogue)
    return {"municipality": None, "rows": len(frame), "counts": records(counts), "errors": []}


def monitor_pieces(
    *,
    path: str | Path,
    year: int,
    workers: int = 1,
    min_rows: int = CHUNK_ROWS,
    fast: bool = True,
    rows_per_process: int = 0,
) -> list[Result]:
    """Chunk results of the whole extract: whole municipalities per chunk, memory bounded.

    With ``workers`` > 1 a Parquet file's row groups are split into ranges of whole
    municipalities, each counted in its own process; ``rows_per_process`` (when above 0) starts
    no more processes than the file has rows for, so a small file is counted in this process.
    """
    path = Path(path)
    try:
        pieces = split_pieces(path, workers, rows_per_part=rows_per_process)
    except ExtractError as exc:
        return [_failed(None, exc.errors)]
    if len(pieces) <= 1:
        return _count_pieces(str(path), year, None, min_rows, fast)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(pieces), mp_context=context) as pool:
        futures = [
            pool.submit(_count_pieces, str(path), year, piece, min_rows, fast) for piece in pieces
        ]
        return [r for future in futures for r in future.result()]


def monitor_run(
    *,
    path: str | Path,
    year: int,
    workers: int = 1,
    min_rows: int = CHUNK_ROWS,
    fast: bool = True,
) -> Result:
    """The whole extract counted here (``workers`` processes for a Parquet file), combined.

    Every chunk is validated; errors of all chunks are returned together and no counts are
    reported then.
    """
    results = monitor_pieces(path=path, year=year, workers=workers, min_rows=min_rows, fast=fast)
    return monitor_combine(results=results, source=Path(path).name, year=year)


def counts_frame(combined: Result) -> pd.DataFrame:
    """The combined counts as a DataFrame (one row per municipality and wijk)."""
    return pd.DataFrame.from_records(combined["counts"])


def mpg_volumes(
    *, path: str | Path, year: int, municipalities: list[str] | None = None
) -> pd.DataFrame:
    """The indicator values in ``year`` of the MPG households, long, for the cost engine.

    Columns: municipality, family (the household id), period (the year), indicator, value. Only
    MPG households (a few per thousand) are kept, so the frame stays small for any extract.
    Raises ExtractError for an extract that does not validate.
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
            chosen &= classified["municipality"].astype(str).isin(municipalities).to_numpy()
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


def extract_years(path: str | Path) -> list[int]:
    """The years present in the extract (reads only that column)."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        column = pd.read_parquet(path, columns=["year"])["year"]
    else:
        column = pd.read_csv(path, usecols=["year"])["year"]
    values = pd.to_numeric(column, errors="coerce").dropna().astype(int)
    return sorted(set(values.tolist()))


def trend_years(path: str | Path, year: int) -> list[int]:
    """Reporting years up to ``year`` the extract can answer (each needs its two years before)."""
    present = set(extract_years(path))
    return [y for y in sorted(present) if y <= year and {y - 1, y - 2} <= present]
