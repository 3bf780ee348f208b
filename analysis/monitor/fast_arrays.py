"""Arrow columns as NumPy arrays for the monitor's fast path (pure; pyarrow and NumPy only).

Every helper refuses what the straightforward pandas path must look at itself (missing values,
text where numbers belong, values out of range, mixed id types) by raising ``Unusual``; the
fast path then hands the chunk to that path, so results and error messages stay identical.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


class Unusual(Exception):
    """The chunk needs the straightforward path (something to report, or an unusual type)."""


def numbers_of(column, lo: float, hi: float | None) -> np.ndarray:
    """A numeric column as a NumPy array, or Unusual when the straightforward path must check it."""
    if column.null_count:
        raise Unusual
    kind = column.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        raise Unusual
    values = column.to_numpy()
    if len(values) == 0:
        return values
    if pa.types.is_floating(kind) and np.isnan(values).any():
        raise Unusual
    if values.min() < lo or (hi is not None and values.max() > hi):
        raise Unusual
    return values


def text_codes(column) -> tuple[np.ndarray, list[str]]:
    """Dictionary codes per row and the dictionary as Python strings (as pandas would show them)."""
    if column.null_count:
        raise Unusual
    kind = column.type
    if pa.types.is_integer(kind):
        column = pc.cast(column, pa.string())
    elif not (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or (pa.types.is_dictionary(kind) and pa.types.is_string(kind.value_type))
        or (pa.types.is_dictionary(kind) and pa.types.is_large_string(kind.value_type))
    ):
        raise Unusual
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    if isinstance(column, pa.ChunkedArray):
        column = column.unify_dictionaries().combine_chunks()
    codes = column.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    values = [str(v) for v in column.dictionary.to_pylist()]
    blank = np.array([not v.strip() for v in values], dtype=bool)
    if blank.any() and len(codes) and blank[codes].any():
        raise Unusual
    return codes, values


def household_ids(column):
    """Household ids: int64 NumPy array, or the Arrow strings (encoded per chunk)."""
    if column.null_count:
        raise Unusual
    kind = column.type
    if pa.types.is_integer(kind):
        values = column.to_numpy()
        if pa.types.is_uint64(kind) and len(values) and values.max() > np.iinfo(np.int64).max:
            raise Unusual
        return values.astype(np.int64, copy=False)
    if pa.types.is_dictionary(kind):
        column = column.dictionary_decode()
        kind = column.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        raise Unusual
    column = pc.cast(column, pa.large_string())
    if pc.any(pc.equal(pc.utf8_trim_whitespace(column), "")).as_py():
        raise Unusual
    return column


def take(values, rows):
    """Rows of a NumPy array or an Arrow array, by a slice or an index array."""
    if isinstance(values, np.ndarray):
        return values[rows]
    if isinstance(rows, slice):
        return values.slice(rows.start, rows.stop - rows.start)
    return values.take(rows)


def rows_where(mask: np.ndarray) -> slice | np.ndarray:
    """Positions where ``mask`` holds: a slice when they form one run (no copy needed)."""
    where = np.flatnonzero(mask)
    if len(where) == 0:
        return slice(0, 0)
    if where[-1] - where[0] + 1 == len(where):
        return slice(int(where[0]), int(where[-1]) + 1)
    return where


def single_array(table, name: str):
    """One column as a single Arrow array (no copy when it has one chunk, as row groups do)."""
    column = table.column(name)
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def row_count(rows: slice | np.ndarray) -> int:
    """How many rows a slice or an index array selects."""
    return rows.stop - rows.start if isinstance(rows, slice) else len(rows)


def joined_ids(parts: list, text: bool) -> Any:
    """Concatenated ids: int64 NumPy, or (``text``) one Arrow large_string array."""
    if not text:
        if not all(isinstance(p, np.ndarray) for p in parts):
            raise Unusual  # integer ids in one row group, text in another
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    if any(isinstance(p, np.ndarray) for p in parts):
        raise Unusual
    return pa.chunked_array(parts, type=pa.large_string()).combine_chunks()


def no_duplicates(values: np.ndarray) -> bool:
    """No value twice (strictly increasing ids are checked without sorting)."""
    if len(values) < 2 or bool((values[1:] > values[:-1]).all()):
        return True
    ordered = np.sort(values)
    return not bool((ordered[1:] == ordered[:-1]).any())


def member(values: np.ndarray, among: np.ndarray) -> np.ndarray:
    """``np.isin(values, among)``; by binary search when ``among`` is strictly increasing."""
    if len(among) == 0:
        return np.zeros(len(values), dtype=bool)
    if len(among) > 1 and not bool((among[1:] > among[:-1]).all()):
        return np.isin(values, among)
    at = np.minimum(np.searchsorted(among, values), len(among) - 1)
    return among[at] == values


def present_values(text: tuple[np.ndarray, list[str]]) -> set[str]:
    """Dictionary values used by at least one row."""
    codes, values = text
    if len(values) == 1:
        return set(values) if len(codes) else set()
    return {values[i] for i in np.flatnonzero(np.bincount(codes, minlength=len(values)))}
