"""Arrow/NumPy-native fast path of the monitor for Parquet extracts (pure, no Django, no pandas
frames per row).

The straightforward path (extract.iter_municipality_chunks -> validate_extract ->
classify_households -> wijk_counts) converts every row group to a pandas frame, concatenates
them and builds a classified frame with one column per indicator. This path reads the same row
groups as Arrow tables and works on the contiguous NumPy arrays behind them:

- per row group, each indicator column is checked against its bounds and compared with its
  problem threshold once; counts that do not involve the preceding years (households, domains,
  overlaps, MVP, the report's indicator columns) are added up per (municipality, wijk) with
  ``np.bincount`` right away, so only small arrays outlive the row group;
- per chunk (whole municipalities, exactly the chunk boundaries of the straightforward path),
  the support in Y-1 and Y-2 is looked up for in-scope households only, and the duplicate and
  "each municipality has Y-1 and Y-2" checks run on the ids.

Whenever a chunk holds anything unusual (missing values, text where numbers belong, values out
of range, duplicates, a municipality without its preceding years, unusual column types) the fast
path gives up on that chunk and the straightforward path handles it, so results and error
messages are identical by construction; tests compare both paths on random extracts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.monitor.catalogue import Catalogue
from analysis.monitor.classify import HOUSEHOLD_COLUMNS, classify_households
from analysis.monitor.extract import (
    TEXT_COLUMNS,
    ExtractError,
    _concat,
    _keep_years,
    _parquet_chunks,
    check_columns,
    piece_spans,
    validate_extract,
)
from analysis.monitor.report_columns import indicator_columns
from analysis.monitor.tables import KEYS, SUMMARY_COLUMNS, wijk_counts

#: Number of (municipality x wijk) dictionary combinations of one row group up to which the
#: group codes are found with a lookup table instead of sorting.
_LUT_LIMIT = 1 << 22


class _Unusual(Exception):
    """The chunk needs the straightforward path (something to report, or an unusual type)."""


@dataclass
class _Plan:
    """What to compute, derived once from the catalogue."""

    year: int
    checks: list[tuple[str, float, float | None]]
    classifying: list[tuple[str, int, int]]  # code, threshold, domain
    support_codes: list[str]
    report: list[tuple[str, list[str]]]  # report column, codes


def make_plan(year: int, catalogue: Catalogue) -> _Plan:
    checks = [(c, 0.0, None) for c in ("year", "n_adults", "n_children")]
    checks += [(i.code, max(i.min, 0.0), i.max) for i in catalogue.indicators]
    classifying = [
        (i.code, i.problem_threshold, i.mpg_domain)
        for i in catalogue.indicators
        if i.mpg_domain is not None
    ]
    report = [(name, codes) for name, (_, codes) in indicator_columns(catalogue).items()]
    return _Plan(year, checks, classifying, list(catalogue.support_codes), report)


@dataclass
class _Chunk:
    """Running state of one chunk (whole municipalities)."""

    groups: list[int] = field(default_factory=list)  # row groups of the file
    index: dict[tuple[str, str], int] = field(default_factory=dict)  # (municipality, wijk) -> g
    counts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)
    ids: list[list] = field(default_factory=lambda: [[], [], []])  # per year offset 0=Y-2 .. 2=Y
    scope_ids: list = field(default_factory=list)  # in-scope households of Y
    scope_group: list[np.ndarray] = field(default_factory=list)
    scope_mvp: list[np.ndarray] = field(default_factory=list)
    supported: list[list] = field(default_factory=lambda: [[], []])  # ids supported in Y-1, Y-2
    municipalities: list[set[str]] = field(default_factory=lambda: [set(), set(), set()])
    rows: int = 0

    def add(self, name: str, group: np.ndarray, values: np.ndarray) -> None:
        self.counts.setdefault(name, []).append((group, values))


def _numbers(column, lo: float, hi: float | None) -> np.ndarray:
    """A numeric column as a NumPy array, or _Unusual when the straightforward path must check it."""
    import pyarrow as pa

    if column.null_count:
        raise _Unusual
    kind = column.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        raise _Unusual
    values = column.to_numpy()
    if len(values) == 0:
        return values
    if pa.types.is_floating(kind) and np.isnan(values).any():
        raise _Unusual
    if values.min() < lo or (hi is not None and values.max() > hi):
        raise _Unusual
    return values


def _text(column) -> tuple[np.ndarray, list[str]]:
    """Dictionary codes per row and the dictionary as Python strings (as pandas would show them)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if column.null_count:
        raise _Unusual
    kind = column.type
    if pa.types.is_integer(kind):
        column = pc.cast(column, pa.string())
    elif not (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or (pa.types.is_dictionary(kind) and pa.types.is_string(kind.value_type))
        or (pa.types.is_dictionary(kind) and pa.types.is_large_string(kind.value_type))
    ):
        raise _Unusual
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    if isinstance(column, pa.ChunkedArray):
        column = column.unify_dictionaries().combine_chunks()
    codes = column.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    values = [str(v) for v in column.dictionary.to_pylist()]
    blank = np.array([not v.strip() for v in values], dtype=bool)
    if blank.any() and len(codes) and blank[codes].any():
        raise _Unusual
    return codes, values


def _ids(column):
    """Household ids: int64 NumPy array, or the Arrow strings (encoded per chunk)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if column.null_count:
        raise _Unusual
    kind = column.type
    if pa.types.is_integer(kind):
        values = column.to_numpy()
        if pa.types.is_uint64(kind) and len(values) and values.max() > np.iinfo(np.int64).max:
            raise _Unusual
        return values.astype(np.int64, copy=False)
    if pa.types.is_dictionary(kind):
        column = column.dictionary_decode()
        kind = column.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        raise _Unusual
    column = pc.cast(column, pa.large_string())
    if pc.any(pc.equal(pc.utf8_trim_whitespace(column), "")).as_py():
        raise _Unusual
    return column


def _take(values, rows):
    """Rows of a NumPy array or an Arrow array, by a slice or an index array."""
    if isinstance(values, np.ndarray):
        return values[rows]
    if isinstance(rows, slice):
        return values.slice(rows.start, rows.stop - rows.start)
    return values.take(rows)


def _rows(mask: np.ndarray) -> slice | np.ndarray:
    """Positions where ``mask`` holds: a slice when they form one run (no copy needed)."""
    where = np.flatnonzero(mask)
    if len(where) == 0:
        return slice(0, 0)
    if where[-1] - where[0] + 1 == len(where):
        return slice(int(where[0]), int(where[-1]) + 1)
    return where


def _array(table, name: str):
    """One column as a single Arrow array (no copy when it has one chunk, as row groups do)."""
    column = table.column(name)
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _add_piece(chunk: _Chunk, table, plan: _Plan) -> None:
    """Validate, classify and count one row group (already limited to Y-2..Y)."""
    year = plan.year
    numbers = {col: _numbers(_array(table, col), lo, hi) for col, lo, hi in plan.checks}
    ids = _ids(_array(table, "household_id"))
    m_codes, m_values = _text(_array(table, "municipality"))
    w_codes, w_values = _text(_array(table, "wijk"))
    years = numbers["year"]
    for offset in range(3):
        at = _rows(years == year - 2 + offset)
        chunk.ids[offset].append(_take(ids, at))
        present = np.flatnonzero(np.bincount(m_codes[at], minlength=len(m_values)))
        chunk.municipalities[offset] |= {m_values[i] for i in present}
        if offset < 2:  # support in a preceding year: any chronic-support indicator above zero
            support = np.zeros(_length(at, len(years)), dtype=bool)
            for code in plan.support_codes:
                support |= numbers[code][at] > 0
            chunk.supported[1 - offset].append(_take(_take(ids, at), np.flatnonzero(support)))
    now = _rows(years == year)
    n = _length(now, len(years))
    if n == 0:
        return
    # (municipality, wijk) of each household in Y -> the chunk's group number.
    local = m_codes[now] * max(len(w_values), 1) + w_codes[now]
    size = len(m_values) * max(len(w_values), 1)
    if size <= _LUT_LIMIT:
        present = np.flatnonzero(np.bincount(local, minlength=size))
        lut = np.full(size, -1, dtype=np.int64)
        lut[present] = np.arange(len(present))
        inverse = lut[local]
    else:
        present, inverse = np.unique(local, return_inverse=True)
    numbering = np.array(
        [
            chunk.index.setdefault(
                (m_values[p // max(len(w_values), 1)], w_values[p % max(len(w_values), 1)]),
                len(chunk.index),
            )
            for p in present
        ],
        dtype=np.int64,
    )
    k = len(present)
    scope = (numbers["n_adults"][now] >= 1) & (numbers["n_children"][now] >= 1)
    flags: dict[str, np.ndarray] = {}
    domains = [np.zeros(n, dtype=bool) for _ in range(3)]
    for code, threshold, domain in plan.classifying:
        flag = numbers[code][now] >= threshold
        flags[code] = flag
        domains[domain - 1] |= flag
    d1, d2, d3 = (d & scope for d in domains)
    mvp = d1 & d2 & d3

    def count(name: str, flag: np.ndarray | None) -> None:
        values = (
            np.bincount(inverse, minlength=k)
            if flag is None
            else np.bincount(inverse[flag], minlength=k)
        )
        chunk.add(name, numbering, values)

    count("households", None)
    count("households_with_child", scope)
    for name, flag in (
        ("domain1", d1),
        ("domain2", d2),
        ("domain3", d3),
        ("domain12", d1 & d2),
        ("domain13", d1 & d3),
        ("domain23", d2 & d3),
        ("mvp", mvp),
    ):
        count(name, flag)
    for name, codes in plan.report:
        flag = flags[codes[0]].copy() if codes[0] in flags else _flag(numbers, codes[0])
        for code in codes[1:]:
            flag |= flags[code] if code in flags else _flag(numbers, code)
        count(name, flag & scope)
    in_scope = np.flatnonzero(scope)
    chunk.scope_ids.append(_take(_take(ids, now), in_scope))
    chunk.scope_group.append(numbering[inverse[in_scope]])
    chunk.scope_mvp.append(mvp[in_scope])


def _flag(numbers: dict[str, np.ndarray], code: str) -> np.ndarray:
    raise _Unusual  # a report column naming an indicator without a domain: rare, see classify


def _length(rows: slice | np.ndarray, total: int) -> int:
    return rows.stop - rows.start if isinstance(rows, slice) else len(rows)


def _joined(parts: list, text: bool) -> np.ndarray | object:
    """Concatenated ids: int64 NumPy, or (``text``) one Arrow large_string array."""
    import pyarrow as pa

    if not text:
        if not all(isinstance(p, np.ndarray) for p in parts):
            raise _Unusual  # integer ids in one row group, text in another
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    if any(isinstance(p, np.ndarray) for p in parts):
        raise _Unusual
    return pa.chunked_array(parts, type=pa.large_string()).combine_chunks()


def _unique_sorted(values: np.ndarray) -> bool:
    """No value twice (strictly increasing ids are checked without sorting)."""
    if len(values) < 2 or bool((values[1:] > values[:-1]).all()):
        return True
    ordered = np.sort(values)
    return not bool((ordered[1:] == ordered[:-1]).any())


def _member(values: np.ndarray, among: np.ndarray) -> np.ndarray:
    """``np.isin(values, among)``; by binary search when ``among`` is strictly increasing."""
    if len(among) == 0:
        return np.zeros(len(values), dtype=bool)
    if len(among) > 1 and not bool((among[1:] > among[:-1]).all()):
        return np.isin(values, among)
    at = np.minimum(np.searchsorted(among, values), len(among) - 1)
    return among[at] == values


def _finish(chunk: _Chunk, plan: _Plan, catalogue: Catalogue) -> pd.DataFrame:
    """The chunk's per-wijk counts, or _Unusual when a check fails."""
    import pyarrow as pa
    import pyarrow.compute as pc

    current = chunk.municipalities[2]
    if current - chunk.municipalities[1] or current - chunk.municipalities[0]:
        raise _Unusual  # a municipality without rows in Y-1 or Y-2: reported by validate_extract
    every_part = [p for parts in (*chunk.ids, chunk.scope_ids, *chunk.supported) for p in parts]
    text = any(not isinstance(p, np.ndarray) for p in every_part)
    per_year = [_joined(parts, text) for parts in chunk.ids]
    scope_ids = _joined(chunk.scope_ids, text)
    supported = [_joined(parts, text) for parts in chunk.supported]
    if text:  # text ids: one integer code per distinct id
        every = pa.chunked_array(per_year, type=pa.large_string())
        dictionary = pc.unique(every)

        def encode(values):
            return pc.index_in(values, value_set=dictionary).to_numpy(zero_copy_only=False)

        per_year = [encode(v).astype(np.int64) for v in per_year]
        scope_ids = encode(scope_ids).astype(np.int64)
        supported = [encode(v).astype(np.int64) for v in supported]
    if not all(_unique_sorted(ids) for ids in per_year):
        raise _Unusual  # a household twice in one year: reported by validate_extract
    groups = len(chunk.index)
    totals = {name: np.zeros(groups, dtype=np.int64) for name in chunk.counts}
    for name, parts in chunk.counts.items():
        for numbering, values in parts:
            np.add.at(totals[name], numbering, values)
    group = np.concatenate(chunk.scope_group) if chunk.scope_group else np.zeros(0, np.int64)
    mvp = np.concatenate(chunk.scope_mvp) if chunk.scope_mvp else np.zeros(0, bool)
    s1, s2 = (_member(scope_ids, ids) for ids in supported)
    for name, flag in (
        ("support_y1", s1),
        ("support_y2", s2),
        ("support_both", s1 & s2),
        ("mvp_support_y1", mvp & s1),
        ("mvp_support_y2", mvp & s2),
        ("mpg", mvp & s1 & s2),
    ):
        totals[name] = np.bincount(group[flag], minlength=groups).astype(np.int64)
    keys = list(chunk.index)
    frame = pd.DataFrame(
        {
            "municipality": [m for m, _ in keys],
            "wijk": [w for _, w in keys],
        }
    )
    for name in SUMMARY_COLUMNS + [name for name, _ in plan.report]:
        frame[name] = totals.get(name, np.zeros(groups, dtype=np.int64))
    return frame.sort_values(KEYS, ignore_index=True)


def _straightforward(
    path: Path, groups: list[int], year: int, catalogue: Catalogue
) -> dict[str, object]:
    """The chunk through the pandas path (exact errors, or counts for unusual data)."""
    years = [year - 2, year - 1, year]
    columns = HOUSEHOLD_COLUMNS + catalogue.codes
    pieces = [
        _keep_years(piece, years)
        for _, piece in _parquet_chunks(path, columns, None, range(groups[0], groups[-1] + 1))
    ]
    frame = _concat(pieces)
    try:
        frame = validate_extract(frame, year, catalogue, kind="parquet")
    except ExtractError as exc:
        return {"rows": 0, "counts": None, "errors": exc.errors}
    classified = classify_households(frame, year, catalogue, with_indicators=True)
    return {"rows": len(frame), "counts": wijk_counts(classified, catalogue), "errors": []}


def iter_chunk_counts(
    path: str | Path,
    year: int,
    catalogue: Catalogue,
    min_rows: int = 1_000_000,
    pieces: range | None = None,
) -> Iterator[dict[str, object]]:
    """Per chunk of whole municipalities: {"rows", "counts" (DataFrame or None), "errors"}.

    Chunk boundaries are those of ``extract.iter_municipality_chunks`` (same ``min_rows``), so
    the counts equal the straightforward path's chunk by chunk.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    check_columns(path, catalogue)
    columns = HOUSEHOLD_COLUMNS + catalogue.codes
    spans, sizes = piece_spans(path)
    handle = pq.ParquetFile(path, read_dictionary=list(TEXT_COLUMNS[1:]), memory_map=True)
    plan = make_plan(year, catalogue)
    groups = pieces if pieces is not None else range(len(sizes))
    chunk = _Chunk()
    unusual = False
    open_names: set[str] = set()
    for group, table in _read_ahead(handle, groups, columns):
        chunk.groups.append(group)
        try:
            names = _present(_text(_array(table, "municipality"))) if table.num_rows else set()
        except _Unusual:
            names, unusual = _names_anyway(table), True
        open_names |= names
        table, kept = _limit_years(table, year)
        if kept is None:
            unusual = True
            years = pd.DataFrame({"year": table.column("year").to_pandas()})
            chunk.rows += len(_keep_years(years, [year - 2, year - 1, year]))
        else:
            chunk.rows += table.num_rows
        if not unusual:
            try:
                _add_piece(chunk, table, plan)
            except _Unusual:
                unusual = True
        del table
        open_names = {m for m in open_names if spans.get(m, (group, group))[1] > group}
        if not open_names and chunk.rows >= min_rows:
            yield _result(path, chunk, plan, catalogue, unusual)
            chunk, unusual = _Chunk(), False
    if chunk.groups and chunk.rows:
        yield _result(path, chunk, plan, catalogue, unusual)


def _read_ahead(handle, groups: range, columns: list[str]) -> Iterator[tuple[int, object]]:
    """Row groups in order; the next one is read (decompressed, decoded) in a thread meanwhile.

    Arrow releases the GIL while reading and NumPy while computing, so reading and classifying
    overlap; at most two row groups are held at once.
    """
    from concurrent.futures import ThreadPoolExecutor

    order = list(groups)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(handle.read_row_group, order[0], columns=columns) if order else None
        for i, group in enumerate(order):
            table = pending.result()
            pending = (
                pool.submit(handle.read_row_group, order[i + 1], columns=columns)
                if i + 1 < len(order)
                else None
            )
            yield group, table


def _present(text: tuple[np.ndarray, list[str]]) -> set[str]:
    """Dictionary values used by at least one row."""
    codes, values = text
    if len(values) == 1:
        return set(values) if len(codes) else set()
    return {values[i] for i in np.flatnonzero(np.bincount(codes, minlength=len(values)))}


def _names_anyway(table) -> set[str]:
    column = table.column("municipality").to_pandas()
    return {str(m) for m in column.dropna().unique()}


def _limit_years(table, year: int):
    """Rows of Y-2..Y; (table, True), or (table, None) when the year column is unusual."""
    import pyarrow as pa

    column = table.column("year")
    if column.null_count or not pa.types.is_integer(column.type):
        return table, None
    values = column.to_numpy()
    keep = (values >= year - 2) & (values <= year)
    if keep.all():
        return table, True
    return table.filter(pa.array(keep)), True


def _result(
    path: Path, chunk: _Chunk, plan: _Plan, catalogue: Catalogue, unusual: bool
) -> dict[str, object]:
    if not unusual:
        try:
            return {"rows": chunk.rows, "counts": _finish(chunk, plan, catalogue), "errors": []}
        except _Unusual:
            pass
    return _straightforward(path, chunk.groups, plan.year, catalogue)


def municipality_groups(path: str | Path, municipality: str) -> range | None:
    """The row groups of one municipality when the file's statistics pin them to it alone.

    Returns the contiguous range of row groups whose statistics say "only this municipality,
    no missing names" and outside which no group can hold it; None when that cannot be told
    from the statistics (then the caller reads the municipality the straightforward way).
    """
    import pyarrow.parquet as pq

    handle = pq.ParquetFile(path)
    index = handle.schema_arrow.get_field_index("municipality")
    if index < 0:
        return None
    hits = []
    for group in range(handle.num_row_groups):
        stats = handle.metadata.row_group(group).column(index).statistics
        if stats is None or not stats.has_min_max or stats.null_count is None:
            return None
        if stats.min <= municipality <= stats.max:
            if stats.min != stats.max or stats.null_count:
                return None
            hits.append(group)
    if not hits or hits != list(range(hits[0], hits[-1] + 1)):
        return None
    return range(hits[0], hits[-1] + 1)
