"""Reading registry extracts (CSV or XLSX, long or wide) into checked records; no database.

A registry extract is one row per family per year, keyed by linkage key or pseudonym, either
*long* (columns: key, year, indicator, value) or *wide* (key, year, one column per indicator code).
This module turns the bytes of such a file into a list of :class:`Cell` records, each remembering
the row and column it came from, and reports every problem it finds with that row and column
(`study.imports.problems`). Matching keys to families, values to the catalogue and years to waves
happens in `study.imports.checking` (it needs the database).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache

from django.utils.translation import gettext as _

from study.imports.problems import ImportFileError, Problem, too_large
from study.imports.tables import Table, column_letter, detect_format, read_csv, read_xlsx
from study.linkage import bsn_is_valid

KEY_COLUMNS = {
    "linkage_key": "linkage_key",
    "koppelsleutel": "linkage_key",
    "pseudonym": "pseudonym",
    "pseudoniem": "pseudonym",
}
YEAR_COLUMNS = {"year", "jaar"}
INDICATOR_COLUMNS = {"indicator", "code"}
VALUE_COLUMNS = {"value", "waarde"}
# Column names that say the file holds direct identifiers; such a file is refused and not kept.
IDENTIFIER_COLUMNS = {"bsn", "burgerservicenummer", "sofinummer", "name", "naam", "postcode"}
MAX_PROBLEMS = 1000


@dataclass(frozen=True)
class Cell:
    """One value of the extract: family key, year, indicator code and the raw value."""

    row: int
    column: str
    key: str
    year: int
    code: str
    raw: object
    cell: str = ""


@dataclass
class Extract:
    """What was read from a file: its layout, key kind, records and the problems found."""

    fmt: str
    layout: str
    key_kind: str
    header: list[str]
    rows: int = 0
    cells: list[Cell] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    empty_cells: int = 0

    def problem(self, message: str, *, row=None, column="", cell="") -> None:
        self.problems.append(Problem(message=message, row=row, column=column, cell=cell))


def _norm(name: str) -> str:
    return re.sub(r"\s+", "_", str(name).strip().lower())


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _parse_year(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = _cell_text(value)
    return int(text) if re.fullmatch(r"(19|20)\d\d", text) else None


@lru_cache(maxsize=65536)
def _looks_like_bsn(text: str) -> bool:
    digits = re.sub(r"[\s.\-]", "", text)
    return digits.isdigit() and 8 <= len(digits) <= 9 and bsn_is_valid(digits.zfill(9))


@dataclass
class _Columns:
    """Where the key, year and values are in the header."""

    layout: str
    key_kind: str
    key_at: int
    year_at: int
    code_at: int = -1
    value_at: int = -1
    value_columns: list[tuple[int, str]] = field(default_factory=list)
    others: list[int] = field(default_factory=list)


def _refuse_identifier_columns(names: list[str]) -> None:
    identifiers = sorted(set(names) & IDENTIFIER_COLUMNS)
    if identifiers:
        raise ImportFileError(
            _(
                "The file has a column '%(column)s' with direct identifiers. The study accepts "
                "only linkage keys or pseudonyms; ask the registry to apply the linkage protocol. "
                "The file was not stored."
            )
            % {"column": identifiers[0]},
            row=1,
            column=identifiers[0],
            discard=True,
        )


def _refuse_duplicate_columns(names: list[str], header: list[str]) -> None:
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name and name in seen:
            raise ImportFileError(
                _("The column '%(column)s' appears twice in the header (columns %(a)s and %(b)s).")
                % {"column": header[index], "a": seen[name] + 1, "b": index + 1},
                row=1,
                column=header[index],
            )
        seen[name] = index


def _columns(
    names: list[str], header: list[str], layout: str, indicator_codes: set[str]
) -> _Columns:
    _refuse_identifier_columns(names)
    _refuse_duplicate_columns(names, header)
    key_columns = [n for n in names if n in KEY_COLUMNS]
    if len(key_columns) != 1:
        raise ImportFileError(
            _(
                "The header needs exactly one key column, 'linkage_key' or 'pseudonym' "
                "(found: %(found)s)."
            )
            % {"found": ", ".join(key_columns) or _("none")},
            row=1,
        )
    year_name = next((n for n in names if n in YEAR_COLUMNS), None)
    if year_name is None:
        raise ImportFileError(_("The header needs a column 'year'."), row=1)
    is_long = bool(set(names) & INDICATOR_COLUMNS) and bool(set(names) & VALUE_COLUMNS)
    if layout == "auto":
        layout = "long" if is_long else "wide"
    if layout == "long" and not is_long:
        raise ImportFileError(
            _("A long file needs the columns 'indicator' and 'value' besides the key and 'year'."),
            row=1,
        )
    cols = _Columns(
        layout=layout,
        key_kind=KEY_COLUMNS[key_columns[0]],
        key_at=names.index(key_columns[0]),
        year_at=names.index(year_name),
    )
    if layout == "long":
        cols.code_at = names.index(next(n for n in names if n in INDICATOR_COLUMNS))
        cols.value_at = names.index(next(n for n in names if n in VALUE_COLUMNS))
        used = {cols.key_at, cols.year_at, cols.code_at, cols.value_at}
        cols.others = [i for i, n in enumerate(names) if n and i not in used]
        return cols
    for index, name in enumerate(names):
        if index in (cols.key_at, cols.year_at) or not name:
            continue
        if name in indicator_codes:
            cols.value_columns.append((index, name))
        else:
            cols.others.append(index)
    return cols


def read_extract(
    content: bytes,
    filename: str,
    *,
    indicator_codes: set[str],
    layout: str = "auto",
    max_bytes: int | None = None,
) -> Extract:
    """Read and check a registry extract. Raises ImportFileError for an unreadable file."""
    if max_bytes is not None and len(content) > max_bytes:
        raise too_large(len(content), max_bytes)
    if not content.strip():
        raise ImportFileError(_("The file is empty."))
    fmt = detect_format(filename, content)
    table = read_xlsx(content) if fmt == "xlsx" else read_csv(content)
    names = [_norm(h) for h in table.header]
    cols = _columns(names, table.header, layout, indicator_codes)
    extract = Extract(
        fmt=fmt,
        layout=cols.layout,
        key_kind=cols.key_kind,
        header=table.header,
        rows=len(table.rows),
        problems=list(table.problems),
    )
    if cols.layout == "wide" and not cols.value_columns:
        extract.problem(
            _("No column of the file is an indicator code of this study's catalogue."), row=1
        )
    for index in cols.others:
        extract.problem(
            _(
                "Unknown column '%(column)s': not an indicator code of this study (see the codebook)."
            )
            % {"column": table.header[index]},
            row=1,
            column=table.header[index],
            cell=f"{column_letter(index)}1" if table.cell_refs else "",
        )
    for number, values in table.rows:
        if len(extract.problems) > MAX_PROBLEMS:
            break
        _read_row(extract, table, cols, number, values)
    return extract


class _Row:
    """One row of the table being read, with where its cells are."""

    def __init__(self, extract: Extract, table: Table, number: int, values: list):
        self.extract, self.table, self.number = extract, table, number
        self.padded = list(values) + [None] * (len(table.header) - len(values))

    def ref(self, index: int) -> str:
        return f"{column_letter(index)}{self.number}" if self.table.cell_refs else ""

    def problem(self, message: str, index: int) -> None:
        self.extract.problem(
            message, row=self.number, column=self.table.header[index], cell=self.ref(index)
        )


def _row_key(row: _Row, cols: _Columns) -> str | None:
    """The row's family key, or None (a problem noted) when it is empty; a BSN refuses the file."""
    key = _cell_text(row.padded[cols.key_at])
    if not key:
        row.problem(_("The key is empty."), cols.key_at)
        return None
    if _looks_like_bsn(key):
        raise ImportFileError(
            _(
                "Row %(row)s: the key looks like a BSN. The study accepts only linkage keys or "
                "pseudonyms; the file was not stored."
            )
            % {"row": row.number},
            row=row.number,
            column=row.table.header[cols.key_at],
            discard=True,
        )
    return key


def _row_pairs(row: _Row, cols: _Columns) -> list[tuple[str, int]] | None:
    """(indicator code, column index) of the row's values, or None when a long row has no code."""
    if cols.layout != "long":
        return [(code, index) for index, code in cols.value_columns]
    code = _norm(_cell_text(row.padded[cols.code_at]))
    if not code:
        row.problem(_("The indicator is empty."), cols.code_at)
        return None
    return [(code, cols.value_at)]


def _read_row(extract: Extract, table: Table, cols: _Columns, number: int, values: list) -> None:
    row = _Row(extract, table, number, values)
    key = _row_key(row, cols)
    if key is None:
        return
    year = _parse_year(row.padded[cols.year_at])
    if year is None:
        row.problem(
            _("'%(value)s' is not a year.") % {"value": _cell_text(row.padded[cols.year_at])},
            cols.year_at,
        )
        return
    pairs = _row_pairs(row, cols)
    for code, index in pairs or []:
        raw = row.padded[index]
        if isinstance(raw, datetime | date | time):
            row.problem(
                _("The cell holds a date (%(value)s), not a number.") % {"value": raw}, index
            )
            continue
        if isinstance(raw, bool):
            raw = int(raw)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            extract.empty_cells += 1
            continue
        extract.cells.append(
            Cell(
                row=number,
                column=table.header[index],
                key=key,
                year=year,
                code=code,
                raw=raw,
                cell=row.ref(index),
            )
        )
