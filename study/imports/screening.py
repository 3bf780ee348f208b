"""Screening an uploaded extract before anything of it reaches the database; no database.

Runs in the dry-run job on the spooled file (a temporary file outside the database) and reads
all of it, however many other problems it has:

- **No BSN, ever**: the file name, every header and every cell is searched for a number that
  passes the BSN 11-proof (9 digits, with or without dots, spaces or dashes, also inside text
  such as `BSN123456782`; 8 digits when that is the whole cell, as Excel drops a leading zero),
  and every header for the name of a direct identifier (`BSN-nummer`, `bsn_moeder`,
  `burgerservicenummer`, `sofinummer`, `client_naam`, ...). A hit refuses the file, which is then
  deleted; the message says where, never the number.
- **Bounded**: the file's bytes, its uncompressed size (XLSX is a zip: the sum of its members and
  their compression ratio, checked before unpacking), and the rows and columns counted while
  streaming (the XLSX's declared dimension is ignored), each against a limit.
- The caller's `heartbeat` is called while reading, so a long file keeps its job alive.
"""

from __future__ import annotations

import csv
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.utils.translation import gettext as _

from study.imports.problems import ImportFileError
from study.imports.tables import DELIMITERS, column_letter
from study.linkage import DIGIT_RUN, bsn_is_valid, has_bsn, mask_bsn

_BSN_WORDS = ("bsn", "burgerservice", "sofinummer", "sofinr")
_IDENTIFIER_TOKENS = {
    "bsn",
    "sofi",
    "name",
    "naam",
    "achternaam",
    "voornaam",
    "voornamen",
    "roepnaam",
    "geslachtsnaam",
    "postcode",
    "adres",
    "address",
    "straat",
    "huisnummer",
    "geboortedatum",
    "telefoon",
    "telefoonnummer",
    "email",
    "mail",
}


def identifier_header(name: str) -> bool:
    """Whether a column name says the column holds a direct identifier."""
    low = str(name).strip().lower()
    joined = re.sub(r"[^a-z0-9]", "", low)
    if any(word in joined for word in _BSN_WORDS):
        return True
    tokens = [t for t in re.split(r"[^a-z0-9]+", low) if t]
    return any(t in _IDENTIFIER_TOKENS or t.endswith("naam") for t in tokens)


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_rows: int
    max_columns: int
    max_uncompressed_bytes: int
    max_zip_ratio: int


@dataclass
class Screened:
    fmt: str
    rows: int
    columns: int
    bytes_read: int


def _bsn_refusal(where: str, *, row: int | None = None) -> ImportFileError:
    return ImportFileError(
        _(
            "%(where)s holds a number that passes the BSN check (the 11-proof). The study never "
            "takes a BSN: remove it, or ask the registry to apply the linkage protocol. The file "
            "was deleted and nothing of it was stored."
        )
        % {"where": where},
        row=row,
        discard=True,
    )


def _identifier_refusal(name: str, index: int) -> ImportFileError:
    shown = f"'{name}'" if not has_bsn(name) else column_letter(index)
    return ImportFileError(
        _(
            "The column %(column)s holds direct identifiers. The study accepts only linkage keys "
            "or pseudonyms; ask the registry to apply the linkage protocol. The file was deleted "
            "and nothing of it was stored."
        )
        % {"column": shown},
        row=1,
        discard=True,
    )


def _limit_refusal(what: str, limit: int) -> ImportFileError:
    return ImportFileError(
        _(
            "The file has more %(what)s than the limit of %(limit)s: split it, for example by "
            "year, and import the parts one after another. Nothing of it was stored."
        )
        % {"what": what, "limit": f"{limit:,}".replace(",", ".")},
        discard=True,
    )


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _Walk:
    """Counts rows and columns and checks each header and cell."""

    def __init__(self, limits: Limits, heartbeat: Callable[[int], None] | None):
        self.limits, self.heartbeat = limits, heartbeat
        self.rows, self.columns = 0, 0
        self._beat = time.monotonic()

    def row(self, number: int, values) -> None:
        self.rows += 1
        if self.rows > self.limits.max_rows:
            raise _limit_refusal(_("rows"), self.limits.max_rows)
        width = len(values)
        if width > self.limits.max_columns:
            raise _limit_refusal(_("columns"), self.limits.max_columns)
        self.columns = max(self.columns, width)
        for index, value in enumerate(values):
            text = _text(value)
            if not text:
                continue
            if number == 1 and identifier_header(text):
                raise _identifier_refusal(text, index)
            if has_bsn(text):
                where = (
                    _("The header, column %(col)s,") % {"col": column_letter(index)}
                    if number == 1
                    else _("Row %(row)s, column %(col)s,")
                    % {"row": number, "col": column_letter(index)}
                )
                raise _bsn_refusal(where, row=number)
        self.beat(self.rows)

    def beat(self, rows: int) -> None:
        if self.heartbeat is not None and time.monotonic() - self._beat > 2:
            self._beat = time.monotonic()
            self.heartbeat(rows)


def _csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    with path.open("rb") as raw:
        first = raw.readline(64 * 1024)
    try:
        first_text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        return  # the reader reports the encoding with its line (no value is echoed)
    counts = {d: first_text.count(d) for d in DELIMITERS}
    delimiter = max(counts, key=lambda d: counts[d])
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as text:
        reader = csv.reader(text, delimiter=delimiter)
        try:
            for values in reader:
                yield reader.line_num, values
        except csv.Error:
            return  # the reader reports it


_PIECE = 1 << 20
_EIGHT_DIGITS = re.compile(r"(?<!\d)\d{8}(?!\d)")


def _long_digit_runs(piece: str) -> bool:
    """Whether the text has a run of at least 8 digits, counting across the separators BSNs
    are written with (space, dot, dash): numpy over the bytes, no regular expression. Text
    beyond ASCII (other digits) always answers yes."""
    data = np.frombuffer(piece.encode("utf-8", errors="replace"), dtype=np.uint8)
    if len(data) and data.max() >= 0x80:
        return True
    digit = (data >= 48) & (data <= 57)
    inside = digit | (data == 32) | (data == 46) | (data == 45)
    run = np.cumsum(
        ~inside, dtype=np.int32
    )  # a run's characters share the count of non-run characters before
    counts = np.bincount(run[digit], minlength=1) if digit.any() else np.zeros(1, dtype=np.int64)
    return bool(counts.max() >= 8)


def _may_hold_bsn(text: str) -> bool:
    """Whether some cell of the text might hold a BSN: every 9-digit run of `has_bsn` and
    every 8-digit run (a superset of its whole-cell 8-digit case), over the whole text at once.
    No delimiter or line end can be part of a run, so a run never spans two cells."""
    for match in DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", match.group(1))
        if len(digits) == 9 and bsn_is_valid(digits):
            return True
    return any(bsn_is_valid("0" + m.group(0)) for m in _EIGHT_DIGITS.finditer(text))


def _screen_csv_at_once(path: Path, limits: Limits, walk: _Walk) -> Screened | None:
    """The CSV screen over the whole text at once, for a file without quotes (each line one
    row): rows and columns counted with numpy, the header checked as the walk checks it, BSNs
    searched with one pass of the expressions. None when the file has quotes, or anything is
    found or over a limit: then the row-by-row walk finds the same and words it."""
    data = path.read_bytes()
    if b'"' in data or data.count(b"\r") != data.count(b"\r\n"):
        return None
    try:
        data[: data.find(b"\n") if b"\n" in data else len(data)].decode("utf-8-sig")
    except UnicodeDecodeError:
        return None  # as the walk: the reader reports the encoding with its line
    text = data.decode("utf-8-sig", errors="replace")
    first = text.split("\n", 1)[0].rstrip("\r")
    counts = {d: first.count(d) for d in DELIMITERS}
    delimiter = max(counts, key=lambda d: counts[d])
    raw = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(raw == ord("\n"))
    rows = len(ends) + (0 if data.endswith(b"\n") or not data else 1)
    separators = np.flatnonzero(raw == ord(delimiter))
    per_line = np.bincount(np.searchsorted(ends, separators), minlength=1)
    columns = int(per_line.max()) + 1 if rows else 0
    if rows > limits.max_rows or columns > limits.max_columns:
        return None
    walk.row(1, first.split(delimiter))  # identifier column names
    start = 0
    while start < len(text):  # in pieces of whole lines, the heartbeat between them
        end = text.find("\n", start + _PIECE)
        end = len(text) if end < 0 else end + 1
        piece = text[start:end]
        if _long_digit_runs(piece) and _may_hold_bsn(piece):
            return None
        start = end
        walk.beat(text.count("\n", 0, end))
    return Screened("csv", rows, columns, len(data))


def _check_zip(path: Path, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return  # the reader reports a damaged file
    unpacked = sum(m.file_size for m in members)
    packed = max(1, sum(m.compress_size for m in members))
    if unpacked > limits.max_uncompressed_bytes:
        raise _limit_refusal(_("bytes once unpacked"), limits.max_uncompressed_bytes)
    if unpacked / packed > limits.max_zip_ratio and unpacked > 1_000_000:
        raise ImportFileError(
            _(
                "The Excel file unpacks to %(ratio)s times its size (a 'zip bomb'?): save it "
                "again from Excel, or as CSV UTF-8. Nothing of it was stored."
            )
            % {"ratio": int(unpacked / packed)},
            discard=True,
        )


def _xlsx_rows(path: Path) -> Iterator[tuple[int, tuple]]:
    from openpyxl import load_workbook

    unreadable = ImportFileError(
        _("The Excel file cannot be read: it is damaged or incomplete. Nothing of it was stored."),
        discard=True,
    )
    with path.open("rb") as fh:  # a file object: the spool's name has no .xlsx to please openpyxl
        try:
            workbook = load_workbook(fh, read_only=True, data_only=False)
        except Exception:
            raise unreadable from None
        try:
            for sheet in workbook.worksheets:
                sheet.reset_dimensions()  # never trust the declared A1:XFD1048576
                yield from enumerate(sheet.iter_rows(values_only=True), start=1)
        except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError):
            raise unreadable from None
        finally:
            workbook.close()


def screen_file(
    path: Path,
    filename: str,
    *,
    limits: Limits,
    heartbeat: Callable[[int], None] | None = None,
) -> Screened:
    """Screen the spooled file; raises ImportFileError (discard=True: delete the file)."""
    if has_bsn(filename):
        raise _bsn_refusal(_("The file name"))
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise _limit_refusal(_("bytes"), limits.max_bytes)
    with path.open("rb") as fh:
        magic = fh.read(4)
    walk = _Walk(limits, heartbeat)
    if magic == b"PK\x03\x04":
        _check_zip(path, limits)
        for number, cells in _xlsx_rows(path):
            walk.row(number, cells)
        return Screened("xlsx", walk.rows, walk.columns, size)
    at_once = _screen_csv_at_once(path, limits, walk)
    if at_once is not None:
        return at_once
    walk = _Walk(limits, heartbeat)
    for number, texts in _csv_rows(path):
        walk.row(number, texts)
    return Screened("csv", walk.rows, walk.columns, size)


def screen_bytes(content: bytes, filename: str, *, limits: Limits) -> Screened:
    """The same for bytes in memory (tests, the command line): spooled to a temporary file."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".upload") as spool:
        spool.write(content)
        spool.flush()
        return screen_file(Path(spool.name), filename, limits=limits)


__all__ = [
    "Limits",
    "Screened",
    "has_bsn",
    "identifier_header",
    "mask_bsn",
    "screen_bytes",
    "screen_file",
]
