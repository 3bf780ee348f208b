"""The raw table of a registry extract: CSV (any of three separators, UTF-8) or the first sheet
of an XLSX workbook, as a header and numbered rows; no database."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from study.imports.problems import ImportFileError, Problem

DELIMITERS = (",", ";", "\t")


@dataclass
class Table:
    fmt: str
    header: list[str]
    rows: list[tuple[int, list]]  # (row number in the file, values)
    problems: list[Problem] = field(default_factory=list)
    cell_refs: bool = False


def column_letter(index: int) -> str:
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
    best = max(counts, key=lambda d: counts[d])
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


def read_csv(content: bytes) -> Table:
    text = _decode(content)
    if "\x00" in text:
        raise ImportFileError(_("The file holds binary data (NUL bytes): is it really a CSV file?"))
    first_line = text.split("\n", 1)[0].rstrip("\r")
    if not first_line.strip():
        raise ImportFileError(_("The first line is empty: it must hold the column names."), row=1)
    delimiter = _sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    table = Table(fmt="csv", header=[], rows=[])
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


def read_xlsx(content: bytes) -> Table:
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
        sheet.reset_dimensions()  # the declared dimension may claim a million empty rows
        table = Table(fmt="xlsx", header=[], rows=[], cell_refs=True)
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
                            cell=f"{column_letter(index)}{number}",
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
