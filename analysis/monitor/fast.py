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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analysis.monitor.catalogue import Catalogue
from analysis.monitor.classify import HOUSEHOLD_COLUMNS, classify_households
from analysis.monitor.extract import (
    TEXT_COLUMNS,
    ExtractError,
    check_columns,
    concat_pieces,
    keep_years,
    parquet_chunks,
    piece_spans,
    validate_extract,
)
from analysis.monitor.fast_arrays import (
    Unusual,
    household_ids,
    joined_ids,
    member,
    no_duplicates,
    numbers_of,
    present_values,
    row_count,
    rows_where,
    single_array,
    take,
    text_codes,
)
from analysis.monitor.report_columns import indicator_columns
from analysis.monitor.tables import KEYS, SUMMARY_COLUMNS, wijk_counts

#: Number of (municipality x wijk) dictionary combinations of one row group up to which the
#: group codes are found with a lookup table instead of sorting.
_LUT_LIMIT = 1 << 22


@dataclass
class _Plan:
    """What to compute, derived once from the catalogue."""

    year: int
    checks: list[tuple[str, float, float | None]]
    classifying: list[tuple[str, int, int]]  # code, threshold, domain
    support_codes: list[str]
    report: list[tuple[str, list[str]]]  # report column, codes


def make_plan(year: int, catalogue: Catalogue) -> _Plan:
    checks: list[tuple[str, float, float | None]]
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


def _add_piece(chunk: _Chunk, table, plan: _Plan) -> None:
    """Validate, classify and count one row group (already limited to Y-2..Y)."""
    numbers = {col: numbers_of(single_array(table, col), lo, hi) for col, lo, hi in plan.checks}
    ids = household_ids(single_array(table, "household_id"))
    municipality = text_codes(single_array(table, "municipality"))
    wijk = text_codes(single_array(table, "wijk"))
    _add_years(chunk, plan, numbers, ids, municipality)
    now = rows_where(numbers["year"] == plan.year)
    if row_count(now) == 0:
        return
    numbering, inverse = _group_numbers(chunk, municipality, wijk, now)
    _count_current(
        chunk,
        plan,
        {code: values[now] for code, values in numbers.items()},
        take(ids, now),
        numbering,
        inverse,
    )


def _add_years(chunk: _Chunk, plan: _Plan, numbers, ids, municipality) -> None:
    """Ids and municipalities per year, and the households supported in Y-1 and Y-2."""
    m_codes, m_values = municipality
    for offset in range(3):
        at = rows_where(numbers["year"] == plan.year - 2 + offset)
        chunk.ids[offset].append(take(ids, at))
        present = np.flatnonzero(np.bincount(m_codes[at], minlength=len(m_values)))
        chunk.municipalities[offset] |= {m_values[i] for i in present}
        if offset < 2:  # support in a preceding year: any chronic-support indicator above zero
            support = np.zeros(row_count(at), dtype=bool)
            for code in plan.support_codes:
                support |= numbers[code][at] > 0
            chunk.supported[1 - offset].append(take(take(ids, at), np.flatnonzero(support)))


def _group_numbers(chunk: _Chunk, municipality, wijk, now) -> tuple[np.ndarray, np.ndarray]:
    """(municipality, wijk) of each household in Y -> the chunk's group number.

    Returns the chunk's number of each group present (in order of the local codes) and each
    household's position in that list.
    """
    m_codes, m_values = municipality
    w_codes, w_values = wijk
    width = max(len(w_values), 1)
    local = m_codes[now] * width + w_codes[now]
    size = len(m_values) * width
    if size <= _LUT_LIMIT:
        present = np.flatnonzero(np.bincount(local, minlength=size))
        lut = np.full(size, -1, dtype=np.int64)
        lut[present] = np.arange(len(present))
        inverse = lut[local]
    else:
        present, inverse = np.unique(local, return_inverse=True)
    numbering = np.array(
        [
            chunk.index.setdefault((m_values[p // width], w_values[p % width]), len(chunk.index))
            for p in present
        ],
        dtype=np.int64,
    )
    return numbering, inverse


def _count_current(chunk: _Chunk, plan: _Plan, numbers, ids, numbering, inverse) -> None:
    """Counts of the households in Y that need no preceding year, per group."""
    k = len(numbering)
    scope = (numbers["n_adults"] >= 1) & (numbers["n_children"] >= 1)
    flags: dict[str, np.ndarray] = {}
    domains = [np.zeros(len(scope), dtype=bool) for _ in range(3)]
    for code, threshold, domain in plan.classifying:
        flags[code] = numbers[code] >= threshold
        domains[domain - 1] |= flags[code]
    d1, d2, d3 = (d & scope for d in domains)
    mvp = d1 & d2 & d3
    chunk.add("households", numbering, np.bincount(inverse, minlength=k))
    for name, flag in (
        ("households_with_child", scope),
        ("domain1", d1),
        ("domain2", d2),
        ("domain3", d3),
        ("domain12", d1 & d2),
        ("domain13", d1 & d3),
        ("domain23", d2 & d3),
        ("mvp", mvp),
        *((name, _any_flag(flags, codes) & scope) for name, codes in plan.report),
    ):
        chunk.add(name, numbering, np.bincount(inverse[flag], minlength=k))
    in_scope = np.flatnonzero(scope)
    chunk.scope_ids.append(take(ids, in_scope))
    chunk.scope_group.append(numbering[inverse[in_scope]])
    chunk.scope_mvp.append(mvp[in_scope])


def _any_flag(flags: dict[str, np.ndarray], codes: list[str]) -> np.ndarray:
    """Any of the codes marks a problem. A report column naming an indicator without a domain
    (rare, see classify) is left to the straightforward path."""
    if any(code not in flags for code in codes):
        raise Unusual
    flag = flags[codes[0]].copy()
    for code in codes[1:]:
        flag |= flags[code]
    return flag


def _finish(chunk: _Chunk, plan: _Plan) -> pd.DataFrame:
    """The chunk's per-wijk counts, or Unusual when a check fails."""
    current = chunk.municipalities[2]
    if current - chunk.municipalities[1] or current - chunk.municipalities[0]:
        raise Unusual  # a municipality without rows in Y-1 or Y-2: reported by validate_extract
    every_part = [p for parts in (*chunk.ids, chunk.scope_ids, *chunk.supported) for p in parts]
    text = any(not isinstance(p, np.ndarray) for p in every_part)
    per_year = [joined_ids(parts, text) for parts in chunk.ids]
    scope_ids = joined_ids(chunk.scope_ids, text)
    supported = [joined_ids(parts, text) for parts in chunk.supported]
    if text:  # text ids: one integer code per distinct id
        every = pa.chunked_array(per_year, type=pa.large_string())
        dictionary = pc.unique(every)

        def encode(values):
            return pc.index_in(values, value_set=dictionary).to_numpy(zero_copy_only=False)

        per_year = [encode(v).astype(np.int64) for v in per_year]
        scope_ids = encode(scope_ids).astype(np.int64)
        supported = [encode(v).astype(np.int64) for v in supported]
    if not all(no_duplicates(ids) for ids in per_year):
        raise Unusual  # a household twice in one year: reported by validate_extract
    groups = len(chunk.index)
    totals = {name: np.zeros(groups, dtype=np.int64) for name in chunk.counts}
    for name, parts in chunk.counts.items():
        for numbering, values in parts:
            np.add.at(totals[name], numbering, values)
    group = np.concatenate(chunk.scope_group) if chunk.scope_group else np.zeros(0, np.int64)
    mvp = np.concatenate(chunk.scope_mvp) if chunk.scope_mvp else np.zeros(0, bool)
    s1, s2 = (member(scope_ids, ids) for ids in supported)
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
) -> dict[str, Any]:
    """The chunk through the pandas path (exact errors, or counts for unusual data)."""
    years = [year - 2, year - 1, year]
    columns = HOUSEHOLD_COLUMNS + catalogue.codes
    pieces = [
        keep_years(piece, years)
        for _, piece in parquet_chunks(path, columns, None, range(groups[0], groups[-1] + 1))
    ]
    frame = concat_pieces(pieces)
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
) -> Iterator[dict[str, Any]]:
    """Per chunk of whole municipalities: {"rows", "counts" (DataFrame or None), "errors"}.

    Chunk boundaries are those of ``extract.iter_municipality_chunks`` (same ``min_rows``), so
    the counts equal the straightforward path's chunk by chunk.
    """
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
            names = (
                present_values(text_codes(single_array(table, "municipality")))
                if table.num_rows
                else set()
            )
        except Unusual:
            names, unusual = _names_anyway(table), True
        open_names |= names
        table, kept = _limit_years(table, year)
        if kept is None:
            unusual = True
            years = pd.DataFrame({"year": table.column("year").to_pandas()})
            chunk.rows += len(keep_years(years, [year - 2, year - 1, year]))
        else:
            chunk.rows += table.num_rows
        if not unusual:
            try:
                _add_piece(chunk, table, plan)
            except Unusual:
                unusual = True
        del table
        open_names = {m for m in open_names if spans.get(m, (group, group))[1] > group}
        if not open_names and chunk.rows >= min_rows:
            yield _result(path, chunk, plan, catalogue, unusual)
            chunk, unusual = _Chunk(), False
    if chunk.groups and chunk.rows:
        yield _result(path, chunk, plan, catalogue, unusual)


def _read_ahead(handle, groups: range, columns: list[str]) -> Iterator[tuple[int, pa.Table]]:
    """Row groups in order; the next one is read (decompressed, decoded) in a thread meanwhile.

    Arrow releases the GIL while reading and NumPy while computing, so reading and classifying
    overlap; at most two row groups are held at once.
    """
    order = list(groups)
    if not order:
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(handle.read_row_group, order[0], columns=columns)
        for group, following in zip(order, [*order[1:], None], strict=True):
            table = pending.result()
            if following is not None:
                pending = pool.submit(handle.read_row_group, following, columns=columns)
            yield group, table


def _names_anyway(table) -> set[str]:
    column = table.column("municipality").to_pandas()
    return {str(m) for m in column.dropna().unique()}


def _limit_years(table, year: int):
    """Rows of Y-2..Y; (table, True), or (table, None) when the year column is unusual."""
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
) -> dict[str, Any]:
    if not unusual:
        try:
            return {"rows": chunk.rows, "counts": _finish(chunk, plan), "errors": []}
        except Unusual:
            pass
    return _straightforward(path, chunk.groups, plan.year, catalogue)


def municipality_groups(path: str | Path, municipality: str) -> range | None:
    """The row groups of one municipality when the file's statistics pin them to it alone.

    Returns the contiguous range of row groups whose statistics say "only this municipality,
    no missing names" and outside which no group can hold it; None when that cannot be told
    from the statistics (then the caller reads the municipality the straightforward way).
    """
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


# --- CSV extracts -------------------------------------------------------------------------------

#: Bytes of CSV text parsed per block (one Arrow table each; two are held at once).
CSV_BLOCK_BYTES = 1 << 24

#: The strings pandas reads as missing (its default ``na_values``; a test keeps them equal), so
#: that a value the pandas path would report as empty is missing here too.
PANDAS_NA_VALUES = [
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
]


class _NotGrouped(Exception):
    """A municipality's rows are not in one run of lines: chunks of whole ones cannot be cut."""


def _csv_tables(path: Path, columns: list[str], block_bytes: int) -> Iterator[pa.Table]:
    """The CSV as Arrow tables of about ``block_bytes`` of text each, parsed on Arrow's threads.

    Types are fixed up front (whole years, text ids, dictionary-encoded names, numbers as
    float64), so a block that does not parse as them raises ``pa.ArrowInvalid``.
    """
    import pyarrow.csv as pacsv

    text = pa.dictionary(pa.int32(), pa.string())
    types: dict[str, pa.DataType] = {name: pa.float64() for name in columns}
    types.update(year=pa.int64(), household_id=pa.string(), municipality=text, wijk=text)
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=block_bytes, use_threads=True),
        convert_options=pacsv.ConvertOptions(
            include_columns=columns,
            column_types=types,
            null_values=PANDAS_NA_VALUES,
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    for batch in reader:
        yield pa.Table.from_batches([batch])


def _runs(table) -> tuple[list[str], int]:
    """Municipalities of the table in the order of their runs of lines, and where the last run
    starts; Unusual for a missing name, _NotGrouped when a name has two runs."""
    codes, values = text_codes(single_array(table, "municipality"))
    if not len(codes):
        return [], 0
    starts = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1])))
    names = [values[c] for c in codes[starts]]
    if len(set(names)) < len(names):
        raise _NotGrouped
    return names, int(starts[-1])


@dataclass
class _CsvChunks:
    """Chunks of whole municipalities cut from a CSV's blocks as they are read."""

    year: int
    plan: _Plan
    min_rows: int
    results: list[dict[str, Any]] = field(default_factory=list)
    chunk: _Chunk = field(default_factory=_Chunk)
    closed: set[str] = field(default_factory=set)
    current: str | None = None

    def block(self, table) -> None:
        names, last_start = _runs(table)
        if not names:
            return
        if self.current is not None and names[0] != self.current:
            self.closed.add(self.current)
            self.cut_if_full()  # the previous municipality ended with the previous block
        if self.closed.intersection(names):
            raise _NotGrouped
        self.closed.update(names[:-1])
        if last_start:
            self.add(table.slice(0, last_start))
            self.cut_if_full()
            table = table.slice(last_start)
        self.add(table)
        self.current = names[-1]

    def add(self, part) -> None:
        part, kept = _limit_years(part, self.year)
        if kept is None:
            raise Unusual
        self.chunk.rows += part.num_rows
        _add_piece(self.chunk, part, self.plan)

    def cut_if_full(self, at_least: int | None = None) -> None:
        if self.chunk.rows and self.chunk.rows >= (self.min_rows if at_least is None else at_least):
            counts = _finish(self.chunk, self.plan)
            self.results.append({"rows": self.chunk.rows, "counts": counts, "errors": []})
            self.chunk = _Chunk()


def csv_chunk_counts(
    path: str | Path,
    year: int,
    catalogue: Catalogue,
    min_rows: int = 1_000_000,
    block_bytes: int | None = None,
) -> list[dict[str, Any]] | None:
    """Counts of a CSV extract through the Arrow/NumPy kernels, per chunk of whole municipalities
    ({"rows", "counts", "errors"} as ``iter_chunk_counts``); None when the file needs the pandas
    path (anything to report, a type Arrow cannot parse as expected, or a municipality whose
    lines are not together), which then gives the exact errors or the counts.

    Arrow's CSV reader parses blocks of lines into tables on its threads; the kernels count each
    table as they count a Parquet row group. A chunk is cut only where one municipality's run of
    lines ends and the next begins, so chunks hold whole municipalities as long as each
    municipality's lines are together (as municipal systems and the generator write them); a
    municipality seen again after its run ended sends the file to the pandas path.
    """
    path = Path(path)
    check_columns(path, catalogue)
    columns = HOUSEHOLD_COLUMNS + catalogue.codes
    chunks = _CsvChunks(year, make_plan(year, catalogue), min_rows)
    try:
        for table in _csv_tables(path, columns, block_bytes or CSV_BLOCK_BYTES):
            chunks.block(table)
        chunks.cut_if_full(at_least=1)
    except (Unusual, _NotGrouped, pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return chunks.results
