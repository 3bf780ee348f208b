"""The set-based check of a clean CSV extract: the same outcome as `reading` + `checking`, as
column operations (pandas) instead of one Python step per cell.

A registry extract is almost always clean; checking it cell by cell spent most of the import's
time in Python. Here the file's columns are split once, every distinct key, year, code and raw
value is interpreted once (with the same functions the cell-by-cell path uses), and the rows are
matched to families, waves, indicators and the stored values by vectorised lookups.

Anything this path does not handle exactly as the cell-by-cell path would (an XLSX file, quotes,
a row of the wrong width, any problem at all) makes :func:`fast_check` return ``None``; the
caller then runs the cell-by-cell path, which finds and words every problem. So a refused file
gets the same messages as before, and a clean file the same counts, preview and values
(tests/study/imports/test_fast_check.py compares both).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.core.exceptions import ValidationError

from study.catalogue import indicators_for
from study.imports.missing import missing_word
from study.imports.problems import ImportFileError
from study.imports.reading import _columns, _looks_like_bsn, _norm, _parse_year
from study.imports.tables import DELIMITERS, detect_format
from study.models import Family, Indicator, IndicatorValue, Member, Study, Wave
from study.services.values import Entry, parse_entry

PREVIEW_ROWS = 25
_PAIR = 1 << 24  # (wave id, indicator id) as one int64: wave_id * _PAIR + indicator_id


@dataclass
class Frame:
    """What the import would write, one row per value (numpy columns, in the file's order).

    ``value`` is the value as COPY text ("" for a missing code), ``existing`` the stored live
    value's id or 0, ``state`` 0 new, 1 changed, 2 unchanged."""

    wave_id: np.ndarray
    indicator_id: np.ndarray
    value: np.ndarray
    missing_code: np.ndarray
    existing: np.ndarray
    state: np.ndarray
    family_id: np.ndarray

    def entries(self) -> dict[tuple[int, int], Entry]:
        """The same as a dict of entries (the cell-by-cell path's form; SQLite writes it)."""
        return {
            (int(w), int(i)): Entry(value=Decimal(v) if v else None, missing_code=m)
            for w, i, v, m in zip(
                self.wave_id, self.indicator_id, self.value, self.missing_code, strict=True
            )
        }


@dataclass
class FastCheck:
    fmt: str
    layout: str
    key_kind: str
    rows: int
    empty_cells: int
    frame: Frame
    created: int
    updated: int
    unchanged: int
    summary: dict
    preview: list[dict]


def _body(content: bytes) -> bytes | None:
    """The file's bytes when the set-based reader reads them as the csv module would: UTF-8,
    no quotes, no NUL bytes, no line end but \\n or \\r\\n."""
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    if b'"' in content or b"\x00" in content or content.count(b"\r") != content.count(b"\r\n"):
        return None
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return content


def _table(content: bytes) -> tuple[list[str], pa.Table] | None:
    """(header, the data rows as string columns), or None. A blank line or a row narrower or
    wider than the header makes Arrow's reader fail, and the file goes cell by cell."""
    end = content.find(b"\n")
    first = (content if end < 0 else content[:end]).decode("utf-8").rstrip("\r")
    if not first.strip():
        return None
    counts = {d: first.count(d) for d in DELIMITERS}
    delimiter = max(counts, key=lambda d: counts[d])
    if counts[delimiter] == 0 or end < 0:
        return None
    header = [v.strip() for v in first.split(delimiter)]
    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            io.BytesIO(content[end + 1 :]),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char=False,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if table.num_rows == 0:
        return None
    return header, table


@dataclass
class _Coded:
    """A column as codes into its distinct values (Arrow's dictionary encoding)."""

    codes: np.ndarray
    uniques: list[str]

    def each(self, function) -> np.ndarray:
        """``function`` of every element, computed once per distinct value."""
        mapped = np.empty(len(self.uniques), dtype=object)
        mapped[:] = [function(u) for u in self.uniques]  # element-wise: tuples stay elements
        return mapped[self.codes]


def _coded(column) -> _Coded:
    encoded = pc.dictionary_encode(column).combine_chunks()
    return _Coded(
        encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64),
        encoded.dictionary.to_pylist(),
    )


def _load(study: Study, key_kind: str):
    by_key: dict[str, tuple[int, str]] = {}
    for pk, pseudonym, linkage_key in (
        Family.objects.alive().filter(study=study).values_list("pk", "pseudonym", "linkage_key")
    ):
        key = linkage_key.strip().lower() if key_kind == "linkage_key" else pseudonym
        if key:
            by_key[key] = (pk, pseudonym)
    waves = pd.DataFrame.from_records(
        list(
            Wave.objects.alive()
            .filter(family__study=study)
            .values_list("pk", "family_id", "year", "index", "locked")
        ),
        columns=["pk", "family_id", "year", "index", "locked"],
    )
    roles = pd.DataFrame.from_records(
        list(Member.objects.alive().filter(family__study=study).values_list("family_id", "role")),
        columns=["family_id", "role"],
    )
    existing = pd.DataFrame.from_records(
        list(
            IndicatorValue.objects.alive()
            .filter(wave__family__study=study)
            .values_list("pk", "wave_id", "indicator_id", "value", "missing_code")
        ),
        columns=["pk", "wave_id", "indicator_id", "value", "missing_code"],
    )
    return by_key, waves, roles, existing


def _value_text(value: Decimal | None) -> str:
    if value is None or value != value:  # None, or NaN where pandas filled a gap
        return ""
    return f"{value.quantize(Decimal('0.01')):f}"


def _show_text(text: str, missing_code: str) -> str:
    return missing_code if not text else f"{Decimal(text).normalize():f}"


@dataclass
class _Cells:
    """The non-empty value cells of the file, in the file's order (row by row)."""

    rows: int
    empty_cells: int
    row_at: np.ndarray  # the cell's row (0 = the first data row)
    keys: _Coded  # the rows' keys (stripped)
    year: np.ndarray  # per cell
    code: np.ndarray  # per cell: the indicator code (normalised)
    raw: np.ndarray  # per cell: code into raw_values
    raw_values: list[str]


def _cells(table: pa.Table, cols, header: list[str]) -> _Cells | None:
    """The file's cells, or None when a row has no key, no year or no indicator, or a key looks
    like a BSN (the cell-by-cell path words or refuses it)."""
    column = table.column
    keys = _coded(column(cols.key_at))
    keys.uniques = [k.strip() for k in keys.uniques]
    if "" in keys.uniques or any(_looks_like_bsn(k) for k in keys.uniques):
        return None
    years = _coded(column(cols.year_at)).each(_parse_year)
    if any(y is None for y in years):
        return None
    n_rows = table.num_rows
    if cols.layout == "long":
        code = _coded(column(cols.code_at)).each(lambda v: _norm(v.strip()))
        if (code == "").any():
            return None
        raw = _coded(column(cols.value_at))
        row_at = np.arange(n_rows)
    else:
        width = len(cols.value_columns)
        raw = _coded(
            pa.chunked_array([c for i, _c in cols.value_columns for c in column(i).chunks])
        )
        # Arrow gives the columns one after another; the file's order is row by row.
        raw.codes = raw.codes.reshape(width, n_rows).T.ravel()
        row_at = np.repeat(np.arange(n_rows), width)
        code = np.tile(np.array([c for _i, c in cols.value_columns], dtype=object), n_rows)
    empty_value = np.array([not v.strip() for v in raw.uniques], dtype=bool)
    keep = ~empty_value[raw.codes]
    if not keep.any():
        return None
    return _Cells(
        rows=n_rows,
        empty_cells=int((~keep).sum()),
        row_at=row_at[keep],
        keys=keys,
        year=years[row_at[keep]].astype(np.int64),
        code=code[keep],
        raw=raw.codes[keep],
        raw_values=raw.uniques,
    )


def _entries(cells: _Cells, indicator_id: np.ndarray, by_pk: dict) -> tuple | None:
    """Every distinct (raw value, indicator) parsed once by the service's own parser: (value
    text, missing code, non-zero, level) per cell, or None when a value is refused."""
    pairs, inverse = np.unique(cells.raw * _PAIR + indicator_id, return_inverse=True)
    parsed: list[Entry] = []
    for pair in pairs.tolist():
        raw, pk = divmod(pair, _PAIR)
        try:
            parsed.append(parse_entry(missing_word(cells.raw_values[raw]), indicator=by_pk[pk]))
        except ValidationError:
            return None
    inverse = inverse.ravel()
    value_text = np.array([_value_text(e.value) for e in parsed] + [""], dtype=object)[inverse]
    missing = np.array([e.missing_code for e in parsed] + [""], dtype=object)[inverse]
    nonzero = np.array([bool(e.value) for e in parsed], dtype=bool)[inverse]
    levels = np.array([by_pk[p % _PAIR].level for p in pairs.tolist()] + [""], dtype=object)
    return value_text, missing, nonzero, levels[inverse]


def _wave_positions(waves: pd.DataFrame, family_of: np.ndarray, year: np.ndarray):
    """Position in ``waves`` of every cell's (family, year), or None when one has no wave."""
    index = pd.Index(waves["family_id"].to_numpy(dtype=np.int64) * 10_000 + waves["year"])
    at = index.get_indexer(family_of * 10_000 + year)
    return None if (at < 0).any() else at


def _stored(existing: pd.DataFrame, wave_id: np.ndarray, indicator_id: np.ndarray):
    """(stored id or 0, stored value text, stored missing code) for every cell."""
    at = pd.Index(
        existing["wave_id"].to_numpy(dtype=np.int64) * _PAIR + existing["indicator_id"]
    ).get_indexer(wave_id * _PAIR + indicator_id)
    found = at >= 0
    ids = np.zeros(len(at), dtype=np.int64)
    ids[found] = existing["pk"].to_numpy(dtype=np.int64)[at[found]]
    texts = np.full(len(at), None, dtype=object)
    codes = np.full(len(at), None, dtype=object)
    if found.any():
        stored_text = np.array([_value_text(v) for v in existing["value"]], dtype=object)
        texts[found] = stored_text[at[found]]
        codes[found] = existing["missing_code"].to_numpy(dtype=object)[at[found]]
    return ids, texts, codes


def _preview(cells, found, numbers_of, wave_number, value_text, missing, stored, state):
    _ids, texts, codes = stored
    preview: list[dict] = []
    for n in np.flatnonzero(state != 2)[:PREVIEW_ROWS].tolist():
        new = state[n] == 0
        preview.append(
            {
                "row": int(numbers_of[n]),
                "family": found[n][1],
                "year": int(cells.year[n]),
                "wave": f"T{wave_number[n]}",
                "indicator": cells.code[n],
                "old": "" if new else _show_text(texts[n], codes[n]),
                "new": _show_text(value_text[n], missing[n]),
                "action": "new" if new else "changed",
            }
        )
    return preview


def _parse(content: bytes, study: Study, filename: str, layout: str):
    """(columns, cells, catalogue) of a file the set-based path reads, or None."""
    try:
        if detect_format(filename, content) != "csv":
            return None
    except ImportFileError:
        return None
    body = _body(content)
    read = None if body is None else _table(body)
    if read is None:
        return None
    header, table = read
    catalogue = {i.code: i for i in indicators_for(study)}
    try:
        cols = _columns([_norm(h) for h in header], header, layout, set(catalogue))
    except ImportFileError:
        return None
    if cols.others or (cols.layout == "wide" and not cols.value_columns):
        return None  # unknown columns: the reader words them
    cells = _cells(table, cols, header)
    return None if cells is None else (cols, cells, catalogue)


def fast_check(
    study: Study, content: bytes, filename: str, *, layout: str = "auto"
) -> FastCheck | None:
    """The check of a clean CSV extract, set-based; None when the file needs the cell-by-cell
    path (anything but a clean, unquoted CSV file)."""
    parsed = _parse(content, study, filename, layout)
    if parsed is None:
        return None
    cols, cells, catalogue = parsed
    by_key, waves, roles, existing = _load(study, cols.key_kind)
    lookup = (lambda k: k.lower()) if cols.key_kind == "linkage_key" else (lambda k: k)
    found_of_key = cells.keys.each(lambda k: by_key.get(lookup(k)))
    found = found_of_key[cells.row_at]
    if any(f is None for f in found_of_key.tolist()):
        return None  # an unknown family
    family_of = np.array([f[0] for f in found.tolist()], dtype=np.int64)
    indicator_of = {c: i.pk for c, i in catalogue.items()}
    indicator_id = np.array([indicator_of.get(c, -1) for c in cells.code.tolist()], dtype=np.int64)
    if (indicator_id < 0).any():
        return None  # an unknown indicator
    cell_key = (family_of * 512 + (cells.year - 1800)) * _PAIR + indicator_id
    if len(np.unique(cell_key)) != len(cell_key):
        return None  # a duplicate: the cell-by-cell path says which rows
    at = _wave_positions(waves, family_of, cells.year)
    if at is None or waves["locked"].to_numpy(dtype=bool)[at].any():
        return None  # no wave that year, or a locked one
    wave_id = waves["pk"].to_numpy(dtype=np.int64)[at]
    by_pk = {i.pk: i for i in catalogue.values()}
    entries = _entries(cells, indicator_id, by_pk)
    if entries is None:
        return None
    value_text, missing, nonzero, level = entries
    for needed, role in ((Indicator.Level.CHILD, "child"), (Indicator.Level.ADULT, "adult")):
        having = roles.loc[roles["role"] == role, "family_id"].to_numpy(dtype=np.int64)
        if (nonzero & (level == needed) & ~np.isin(family_of, having)).any():
            return None  # a child (adult) indicator of a family without a child (adult)
    stored = _stored(existing, wave_id, indicator_id)
    same = (stored[1] == value_text) & (stored[2] == missing)
    state = np.where(stored[0] == 0, 0, np.where(same, 2, 1)).astype(np.int8)
    frame = Frame(wave_id, indicator_id, value_text, missing, stored[0], state, family_of)
    numbers_of = cells.row_at + 2  # no blank line, no quoted line end: line = data row + 2
    wave_number = waves["index"].to_numpy()[at]
    preview = _preview(cells, found, numbers_of, wave_number, value_text, missing, stored, state)
    created, updated = int((state == 0).sum()), int((state == 1).sum())
    unchanged = int((state == 2).sum())
    codes, counts = np.unique(cells.code.astype(str), return_counts=True)
    summary = {
        "rows": cells.rows,
        "values": len(cells.raw),
        "empty_cells": cells.empty_cells,
        "families": len(np.unique(family_of)),
        "years": [int(cells.year.min()), int(cells.year.max())],
        "indicators": {str(k): int(v) for k, v in sorted(zip(codes, counts, strict=True))},
        "new": created,
        "changed": updated,
        "unchanged": unchanged,
    }
    return FastCheck(
        fmt="csv",
        layout=cols.layout,
        key_kind=cols.key_kind,
        rows=cells.rows,
        empty_cells=cells.empty_cells,
        frame=frame,
        created=created,
        updated=updated,
        unchanged=unchanged,
        summary=summary,
        preview=preview,
    )
