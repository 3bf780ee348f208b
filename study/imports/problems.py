"""What can be wrong with a registry extract, with where it is (row, column, cell).

* :class:`ImportFileError` — the file as a whole cannot be read (wrong encoding, no recognisable
  delimiter, a damaged Excel file, too large, a BSN column). Nothing after it is checked.
* :class:`Problem` — one cell or row is wrong; checking goes on so the researcher sees them all.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.utils.translation import gettext as _

from study.linkage import DIGIT_RUN, mask_bsn

__all__ = ["DIGIT_RUN", "ImportFileError", "Problem", "mask_bsn", "too_large"]


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
        return {
            k: mask_bsn(v) if isinstance(v, str) else v
            for k, v in asdict(self).items()
            if v not in (None, "")
        }


def too_large(size: int, limit: int) -> ImportFileError:
    return ImportFileError(
        _(
            "The file is %(size).1f MB; the limit is %(limit).0f MB. Split it, for example by "
            "year, and import the parts one after another."
        )
        % {"size": size / 1e6, "limit": limit / 1e6}
    )
