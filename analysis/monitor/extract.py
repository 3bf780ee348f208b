"""Reading and validating household-year extracts (CSV or Parquet), one municipality at a time.

Pure pandas/pyarrow. Validation collects every problem with its row and column before anything
is computed, so a run either reports on a valid file or stops with the full list of errors.
Row numbers are file lines for CSV (the header is line 1) and 1-based data rows for Parquet.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.monitor.catalogue import Catalogue, load_catalogue
from analysis.monitor.classify import HOUSEHOLD_COLUMNS

ROW = "_row"
NUMERIC_HOUSEHOLD_COLUMNS = ["year", "n_adults", "n_children"]
TEXT_COLUMNS = ["household_id", "municipality", "wijk"]
CSV_CHUNK_ROWS = 250_000
MAX_ERRORS = 25


class ExtractError(ValueError):
    """The extract cannot be used; ``errors`` lists every problem found (row, column, what)."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        shown = errors[:MAX_ERRORS]
        more = len(errors) - len(shown)
        text = "\n".join(shown) + (f"\n... and {more} more" if more > 0 else "")
        super().__init__(text)


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ExtractError([f"{path.name}: the file must be .csv or .parquet"])
    if not path.exists():
        raise ExtractError([f"{path}: file not found"])
    return suffix[1:]


def _row_label(kind: str) -> str:
    return "line" if kind == "csv" else "row"


def file_columns(path: str | Path) -> list[str]:
    """Column names of the extract."""
    path = Path(path)
    if _kind(path) == "csv":
        return list(pd.read_csv(path, nrows=0).columns)
    import pyarrow.parquet as pq

    return list(pq.ParquetFile(path).schema_arrow.names)


def check_columns(path: str | Path, catalogue: Catalogue | None = None) -> None:
    """Raise ExtractError naming every required column the file lacks."""
    catalogue = catalogue or load_catalogue()
    present = set(file_columns(path))
    missing = [c for c in HOUSEHOLD_COLUMNS + catalogue.codes if c not in present]
    if missing:
        raise ExtractError([f"{Path(path).name}: missing column '{c}'" for c in missing])


def municipalities(path: str | Path) -> list[str]:
    """The municipalities in the extract, sorted (reads only that column)."""
    path = Path(path)
    if _kind(path) == "csv":
        column = pd.read_csv(path, usecols=["municipality"], dtype=str)["municipality"]
    else:
        import pyarrow.parquet as pq

        column = pq.read_table(path, columns=["municipality"]).column(0).to_pandas()
    return sorted(str(m) for m in column.dropna().unique())


def _csv_chunks(path: Path, columns: list[str]) -> Iterator[pd.DataFrame]:
    start = 2  # line 1 is the header
    for chunk in pd.read_csv(
        path,
        usecols=columns,
        chunksize=CSV_CHUNK_ROWS,
        dtype={"household_id": str, "municipality": str, "wijk": str},
    ):
        chunk[ROW] = np.arange(start, start + len(chunk))
        start += len(chunk)
        yield chunk


def _group_names(handle, group: int, index: int) -> list[str] | None:
    """Municipalities a row group holds, from its statistics when they pin it to one."""
    stats = handle.metadata.row_group(group).column(index).statistics
    if stats is not None and stats.has_min_max and stats.min == stats.max:
        return [stats.min]
    return None


def _group_may_hold(handle, group: int, index: int, municipality: str) -> bool:
    """Can this row group hold rows of the municipality? Statistics first, the column if needed."""
    import pyarrow.compute as pc

    stats = handle.metadata.row_group(group).column(index).statistics
    if stats is not None and stats.has_min_max and not (stats.min <= municipality <= stats.max):
        return False
    names = handle.read_row_group(group, columns=["municipality"]).column(0)
    return bool(pc.any(pc.equal(names, municipality)).as_py())


def parquet_chunks(
    path: Path, columns: list[str], municipality: str | None, groups: range | None = None
) -> Iterator[tuple[int, pd.DataFrame]]:
    import pyarrow.parquet as pq

    # Dictionary-encoded text becomes pandas categoricals: cheap to filter, group and carry.
    handle = pq.ParquetFile(path, read_dictionary=[c for c in TEXT_COLUMNS[1:] if c in columns])
    index = handle.schema_arrow.get_field_index("municipality")
    sizes = [handle.metadata.row_group(g).num_rows for g in range(handle.num_row_groups)]
    groups = groups if groups is not None else range(len(sizes))
    start = 1 + sum(sizes[: groups.start])
    for group in groups:
        n = sizes[group]
        if municipality is not None and not _group_may_hold(handle, group, index, municipality):
            start += n
            continue
        chunk = handle.read_row_group(group, columns=columns).to_pandas()
        chunk[ROW] = np.arange(start, start + n)
        start += n
        yield group, chunk


def piece_spans(path: str | Path) -> tuple[dict[str, tuple[int, int]], list[int]]:
    """First and last piece (row group / CSV chunk) of each municipality, and rows per piece."""
    path = Path(path)
    spans: dict[str, tuple[int, int]] = {}
    sizes: list[int] = []

    def note(names, i: int) -> None:
        for name in names:
            spans[str(name)] = (spans.get(str(name), (i, i))[0], i)

    if _kind(path) == "csv":
        pieces = pd.read_csv(path, usecols=["municipality"], dtype=str, chunksize=CSV_CHUNK_ROWS)
        for i, piece in enumerate(pieces):
            note(piece["municipality"].dropna().unique(), i)
            sizes.append(len(piece))
        return spans, sizes
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    handle = pq.ParquetFile(path)
    index = handle.schema_arrow.get_field_index("municipality")
    for group in range(handle.num_row_groups):
        names = _group_names(handle, group, index)
        if names is None:
            column = handle.read_row_group(group, columns=["municipality"]).column(0)
            names = pc.unique(column.drop_null()).to_pylist()
        note(names, group)
        sizes.append(handle.metadata.row_group(group).num_rows)
    return spans, sizes


def split_pieces(path: str | Path, parts: int, rows_per_part: int = 0) -> list[range]:
    """Row-group ranges of a Parquet file for ``parts`` workers, about equal in rows.

    Cuts only where no municipality spans the cut, so each range holds whole municipalities.
    A CSV file is always one range. With ``rows_per_part`` no range is made smaller than that
    (a small file stays one range however many workers there are).
    """
    if _kind(Path(path)) == "csv":
        return [range(1)]  # a CSV file is read in one pass (no row groups to hand out)
    spans, sizes = piece_spans(path)
    if rows_per_part > 0:
        parts = min(parts, max(1, sum(sizes) // rows_per_part))
    if parts <= 1 or len(sizes) <= 1:
        return [range(len(sizes))]
    blocked = np.zeros(len(sizes) + 1, dtype=bool)
    for first, last in spans.values():
        blocked[first + 1 : last + 1] = True  # a cut before these groups splits a municipality
    total = sum(sizes)
    ranges: list[range] = []
    start = acc = 0
    for group, n in enumerate(sizes):
        acc += n
        cut = group + 1
        wanted = total * (len(ranges) + 1) / parts
        if len(ranges) < parts - 1 and acc >= wanted and not blocked[cut]:
            ranges.append(range(start, cut))
            start = cut
    ranges.append(range(start, len(sizes)))
    return [r for r in ranges if len(r)]


def keep_years(chunk: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    year_values = pd.to_numeric(chunk["year"], errors="coerce")
    keep = (year_values.isin(years) | year_values.isna()).to_numpy()  # bad years: reported later
    return chunk if keep.all() else chunk[keep]


def iter_municipality_chunks(
    path: str | Path,
    years: list[int],
    catalogue: Catalogue | None = None,
    min_rows: int = 1_000_000,
    pieces: range | None = None,
) -> Iterator[pd.DataFrame]:
    """One pass over the file, yielding frames of whole municipalities (about ``min_rows`` each).

    ``pieces`` limits a Parquet file to a range of row groups (see ``split_pieces``). Memory
    stays bounded when the file is grouped by municipality (as the generator writes it); a
    municipality spread over the whole file is held until its last row has been read.
    """
    path = Path(path)
    catalogue = catalogue or load_catalogue()
    check_columns(path, catalogue)
    columns = HOUSEHOLD_COLUMNS + catalogue.codes
    spans, _ = piece_spans(path)
    if _kind(path) == "csv":
        source: Iterator[tuple[int, pd.DataFrame]] = enumerate(_csv_chunks(path, columns))
    else:
        source = parquet_chunks(path, columns, None, pieces)
    buffer: list[pd.DataFrame] = []
    open_names: set[str] = set()
    rows = 0
    for i, piece in source:
        open_names |= {str(m) for m in piece["municipality"].dropna().unique()}
        piece = keep_years(piece, years)
        buffer.append(piece)
        rows += len(piece)
        open_names = {m for m in open_names if spans.get(m, (i, i))[1] > i}
        if not open_names and rows >= min_rows:
            yield concat_pieces(buffer)
            buffer, rows = [], 0
    if buffer and rows:
        yield concat_pieces(buffer)


def concat_pieces(pieces: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate pieces keeping text columns categorical (pieces have their own categories)."""
    from pandas.api.types import union_categoricals

    if len(pieces) == 1:
        return pieces[0].reset_index(drop=True)
    merged = {}
    for col in TEXT_COLUMNS:
        if all(isinstance(p[col].dtype, pd.CategoricalDtype) for p in pieces):
            merged[col] = union_categoricals([p[col] for p in pieces])
    frame = pd.concat([p.drop(columns=list(merged)) for p in pieces], ignore_index=True)
    for col, values in merged.items():
        frame[col] = values
    return frame[list(pieces[0].columns)]


def read_municipality(
    path: str | Path, municipality: str | None, years: list[int], catalogue: Catalogue | None = None
) -> pd.DataFrame:
    """Rows of one municipality (None: all) in the given years, with their file row numbers."""
    path = Path(path)
    catalogue = catalogue or load_catalogue()
    check_columns(path, catalogue)
    columns = HOUSEHOLD_COLUMNS + catalogue.codes
    if _kind(path) == "csv":
        chunks: Iterator[pd.DataFrame] = _csv_chunks(path, columns)
    else:
        chunks = (chunk for _, chunk in parquet_chunks(path, columns, municipality))
    parts = []
    for chunk in chunks:
        chunk = keep_years(chunk, years)
        if municipality is not None:
            chunk = chunk[(chunk["municipality"] == municipality).to_numpy()]
        parts.append(chunk)
    if not parts:
        return pd.DataFrame(columns=[*columns, ROW])
    return concat_pieces(parts)


def _numeric_errors(
    df: pd.DataFrame, col: str, label: str, lo: float, hi: float | None
) -> tuple[list[str], pd.Series | None]:
    """Problems of one numeric column, and its converted values (None when already numeric)."""
    errors: list[str] = []
    raw = df[col]
    numeric = pd.api.types.is_numeric_dtype(raw)
    values = raw if numeric else pd.to_numeric(raw, errors="coerce")
    bad = values.isna().to_numpy()
    for i in np.flatnonzero(bad)[:MAX_ERRORS]:
        shown = raw.iloc[i]
        what = "is empty" if pd.isna(shown) else f"'{shown}' is not a number"
        errors.append(f"{label} {df[ROW].iloc[i]}, column '{col}': {what}")
    arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
    for i in np.flatnonzero(arr < lo)[:MAX_ERRORS]:
        what = "is negative" if lo == 0 else f"is below the minimum {lo:g}"
        errors.append(f"{label} {df[ROW].iloc[i]}, column '{col}': {arr[i]:g} {what}")
    if hi is not None:
        for i in np.flatnonzero(arr > hi)[:MAX_ERRORS]:
            errors.append(
                f"{label} {df[ROW].iloc[i]}, column '{col}': {arr[i]:g} is above the maximum {hi:g}"
            )
    return errors, None if numeric else values


def _blank(column: pd.Series) -> np.ndarray:
    """Rows whose text is only spaces (categoricals: checked on the categories)."""
    if pd.api.types.is_numeric_dtype(column):
        return np.zeros(len(column), dtype=bool)
    if isinstance(column.dtype, pd.CategoricalDtype):
        blank = np.asarray(column.cat.categories.astype(str).str.strip() == "")
        codes = column.cat.codes.to_numpy()
        return np.where(codes >= 0, blank[np.maximum(codes, 0)], False)
    return (column.astype(str).str.strip() == "").to_numpy()


def _all_within(df: pd.DataFrame, checks: list[tuple[str, float, float | None]]) -> bool:
    """Fast path: every checked column is an integer column within its bounds (min/max only)."""
    for col, lo, hi in checks:
        column = df[col]
        if not pd.api.types.is_integer_dtype(column) or isinstance(column.dtype, pd.ArrowDtype):
            return False
        values = column.to_numpy()
        if len(values) and (values.min() < lo or (hi is not None and values.max() > hi)):
            return False
    return True


def _with_columns_checked(df: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """A shallow copy of the frame (columns are replaced, never changed in place), with row
    numbers; raises ExtractError naming every required column it lacks."""
    missing = [c for c in HOUSEHOLD_COLUMNS + catalogue.codes if c not in df.columns]
    if missing:
        raise ExtractError([f"extract: missing column '{c}'" for c in missing])
    out = df.copy(deep=False)
    if ROW not in out.columns:  # a frame from elsewhere: number data rows from 1
        out[ROW] = np.arange(1, len(out) + 1)
    return out


def validate_extract(
    df: pd.DataFrame, year: int, catalogue: Catalogue | None = None, kind: str = "csv"
) -> pd.DataFrame:
    """Check a chunk and return it with numeric columns; raise ExtractError listing all problems.

    Checks: required values present, numbers numeric, counts not negative and within the
    catalogue's range, one row per household and year, and for each municipality with rows in
    ``year`` also rows in the two years before (the chronicity rule needs them).
    """
    catalogue = catalogue or load_catalogue()
    label = _row_label(kind)
    errors: list[str] = []
    out = _with_columns_checked(df, catalogue)
    for col in TEXT_COLUMNS:
        empty = out[col].isna().to_numpy() | _blank(out[col])
        for i in np.flatnonzero(empty)[:MAX_ERRORS]:
            errors.append(f"{label} {out[ROW].iloc[i]}, column '{col}': is empty")
    checks: list[tuple[str, float, float | None]]
    checks = [(col, 0.0, None) for col in NUMERIC_HOUSEHOLD_COLUMNS]
    checks += [(i.code, max(i.min, 0.0), i.max) for i in catalogue.indicators]
    if not _all_within(out, checks):
        for col, lo, hi in checks:
            found, values = _numeric_errors(out, col, label, lo, hi)
            errors += found
            if values is not None:
                out[col] = values
    if errors:
        raise ExtractError(errors)
    out["year"] = out["year"].astype(np.int64)
    errors = _duplicate_errors(out, label) + _missing_year_errors(out, year)
    if errors:
        raise ExtractError(errors)
    return out


def _duplicate_errors(out: pd.DataFrame, label: str) -> list[str]:
    """A household twice in one year, by row."""
    duplicated = out.duplicated(["household_id", "year"], keep="first").to_numpy()
    return [
        f"{label} {out[ROW].iloc[i]}, column 'household_id': household {out['household_id'].iloc[i]} "
        f"appears twice in year {out['year'].iloc[i]}"
        for i in np.flatnonzero(duplicated)[:MAX_ERRORS]
    ]


def _missing_year_errors(out: pd.DataFrame, year: int) -> list[str]:
    """Municipalities with rows in ``year`` but none in one of the two years before."""
    years = out["year"].to_numpy()
    names = out["municipality"]
    current = {str(m) for m in names[years == year].unique()}
    errors = []
    for lag in (1, 2):
        present = {str(m) for m in names[years == year - lag].unique()}
        errors += [
            f"municipality '{name}': no rows for year {year - lag} (needed for year {year})"
            for name in sorted(current - present)
        ]
    return errors
