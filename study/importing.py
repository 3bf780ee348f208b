"""Reading registry extracts (CSV or XLSX, long or wide) into checked records; no database.

A registry extract is one row per family per year, keyed by linkage key or pseudonym, either
*long* (columns: key, year, indicator, value) or *wide* (key, year, one column per indicator code).
This module turns the bytes of such a file into a list of :class:`Cell` records, each remembering
the row and column it came from, and reports every problem it finds with that row and column.
Matching keys to families, values to the catalogue and years to waves happens in
``study.import_services`` (it needs the database).

Problems come in two kinds:

* :class:`ImportFileError` — the file as a whole cannot be read (wrong encoding, no recognisable
  delimiter, a damaged Excel file, too large, a BSN column). Nothing after it is checked.
* :class:`Problem` — one cell or row is wrong; checking goes on so the researcher sees them all.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from functools import lru_cache

from django.utils.translation import gettext as _

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
DELIMITERS = (",", ";", "\t")
MAX_PROBLEMS = 1000


class ImportFileError(Exception):
    """The file cannot be read at all; the message says why, in the user's language."""

    def __init__(
        self, message: str, *, row: int | None = None, column: str = "", discard: bool = False
    ):
        super().__init__(message)
        self.message, self.row, self.column = message, row, column
        # discard: the file holds direct identifiers and must not be kept anywhere.
        self.discard = discard

    def as_problem(self) -> Problem:
        return Problem(row=self.row, column=self.column, message=self.message)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file, with where it is (row as numbered in the file, 1 = header)."""

    message: str
    row: int | None = None
    column: str = ""
    cell: str = ""

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}


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


# --- reading the raw table -------------------------------------------------------------------


@dataclass
class _Table:
    fmt: str
    header: list[str]
    rows: list[tuple[int, list]]  # (row number in the file, values)
    problems: list[Problem] = field(default_factory=list)
    cell_refs: bool = False


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            _(
                "The file is not UTF-8 text: line %(line)s holds the byte 0x%(byte)02X. In Excel, "
                "save it as 'CSV UTF-8 (comma delimited)'."
            )
            % {"line": line, "byte": content[exc.start]},
            row=line,
        ) from None


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    if counts[best] == 0:
        raise ImportFileError(
            _(
                "No column separator found in the header line '%(line)s': separate the columns "
                "with commas, semicolons or tabs."
            )
            % {"line": first_line[:80]},
            row=1,
        )
    return best


def _read_csv(content: bytes) -> _Table:
    text = _decode(content)
    if "\x00" in text:
        raise ImportFileError(_("The file holds binary data (NUL bytes): is it really a CSV file?"))
    first_line = text.split("\n", 1)[0].rstrip("\r")
    if not first_line.strip():
        raise ImportFileError(_("The first line is empty: it must hold the column names."), row=1)
    delimiter = _sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    table = _Table(fmt="csv", header=[], rows=[])
    try:
        for values in reader:
            if not table.header:
                table.header = [v.strip() for v in values]
                continue
            if not any(v.strip() for v in values):
                continue  # blank line
            table.rows.append((reader.line_num, values))
    except csv.Error as exc:
        raise ImportFileError(
            _("Line %(line)s cannot be read (%(reason)s): the file may be cut off.")
            % {"line": reader.line_num, "reason": exc},
            row=reader.line_num,
        ) from None
    width = len(table.header)
    for number, values in table.rows:
        if len(values) < width:
            table.problems.append(
                Problem(
                    row=number,
                    message=_(
                        "Row has %(n)s of the %(width)s columns of the header: the file may be "
                        "cut off, or the separator differs on this line."
                    )
                    % {"n": len(values), "width": width},
                )
            )
        elif len(values) > width and any(v.strip() for v in values[width:]):
            table.problems.append(
                Problem(
                    row=number,
                    message=_(
                        "Row has %(n)s columns, the header %(width)s: check the separator and "
                        "the quotes (a decimal comma in a comma-separated file needs quotes)."
                    )
                    % {"n": len(values), "width": width},
                )
            )
    return table


def _read_xlsx(content: bytes) -> _Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(
            _("The Excel file cannot be opened (%(reason)s): it is damaged or incomplete.")
            % {"reason": exc.__class__.__name__}
        ) from None
    try:
        sheet = workbook.worksheets[0]
        table = _Table(fmt="xlsx", header=[], rows=[], cell_refs=True)
        for number, row in enumerate(sheet.iter_rows(), start=1):
            values = []
            for index, cell in enumerate(row):
                value = cell.value
                if getattr(cell, "data_type", None) == "f" or (
                    isinstance(value, str) and value.startswith("=") and len(value) > 1
                ):
                    table.problems.append(
                        Problem(
                            row=number,
                            column=str(table.header[index]) if index < len(table.header) else "",
                            cell=f"{_column_letter(index)}{number}",
                            message=_(
                                "The cell holds a formula; the import takes values only. Copy "
                                "the sheet and paste it as values."
                            ),
                        )
                    )
                    value = None
                values.append(value)
            if not table.header:
                if not any(v not in (None, "") for v in values):
                    raise ImportFileError(
                        _(
                            "The first row of the first sheet is empty: it must hold the column names."
                        ),
                        row=1,
                    )
                table.header = ["" if v is None else str(v).strip() for v in values]
                continue
            if all(v in (None, "") for v in values):
                continue
            table.rows.append((number, values))
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as exc:
        raise ImportFileError(
            _("The Excel file cannot be read (%(reason)s): it is damaged or incomplete.")
            % {"reason": exc.__class__.__name__}
        ) from None
    finally:
        workbook.close()
    while table.header and table.header[-1] == "":
        table.header.pop()
    return table


def too_large(size: int, limit: int) -> ImportFileError:
    return ImportFileError(
        _(
            "The file is %(size).1f MB; the limit is %(limit).0f MB. Split it, for example by "
            "year, and import the parts one after another."
        )
        % {"size": size / 1e6, "limit": limit / 1e6}
    )


def detect_format(filename: str, content: bytes) -> str:
    name = filename.lower()
    if content[:4] == b"PK\x03\x04" or name.endswith(".xlsx"):
        return "xlsx"
    if content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or name.endswith(".xls"):
        raise ImportFileError(
            _("Old Excel files (.xls) are not supported: save the sheet as .xlsx or as CSV UTF-8.")
        )
    if name.endswith(".parquet") or content[:4] == b"PAR1":
        raise ImportFileError(_("Parquet files are read by the municipal monitor, not here."))
    return "csv"


# --- interpreting the table -----------------------------------------------------------------


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
    table = _read_xlsx(content) if fmt == "xlsx" else _read_csv(content)
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
            cell=f"{_column_letter(index)}1" if table.cell_refs else "",
        )
    for number, values in table.rows:
        if len(extract.problems) > MAX_PROBLEMS:
            break
        _read_row(extract, table, cols, number, values)
    return extract


def _read_row(extract: Extract, table: _Table, cols: _Columns, number: int, values: list) -> None:
    def ref(index: int) -> str:
        return f"{_column_letter(index)}{number}" if table.cell_refs else ""

    padded = list(values) + [None] * (len(table.header) - len(values))
    key = _cell_text(padded[cols.key_at])
    if not key:
        extract.problem(
            _("The key is empty."),
            row=number,
            column=table.header[cols.key_at],
            cell=ref(cols.key_at),
        )
        return
    if _looks_like_bsn(key):
        raise ImportFileError(
            _(
                "Row %(row)s: the key looks like a BSN. The study accepts only linkage keys or "
                "pseudonyms; the file was not stored."
            )
            % {"row": number},
            row=number,
            column=table.header[cols.key_at],
            discard=True,
        )
    year = _parse_year(padded[cols.year_at])
    if year is None:
        extract.problem(
            _("'%(value)s' is not a year.") % {"value": _cell_text(padded[cols.year_at])},
            row=number,
            column=table.header[cols.year_at],
            cell=ref(cols.year_at),
        )
        return
    if cols.layout == "long":
        code = _norm(_cell_text(padded[cols.code_at]))
        if not code:
            extract.problem(
                _("The indicator is empty."),
                row=number,
                column=table.header[cols.code_at],
                cell=ref(cols.code_at),
            )
            return
        pairs = [(code, cols.value_at)]
    else:
        pairs = [(code, index) for index, code in cols.value_columns]
    for code, index in pairs:
        raw = padded[index]
        if isinstance(raw, datetime | date | time):
            extract.problem(
                _("The cell holds a date (%(value)s), not a number.") % {"value": raw},
                row=number,
                column=table.header[index],
                cell=ref(index),
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
                cell=ref(index),
            )
        )
