"""Dutch municipalities by their CBS gemeentecode (GMxxxx), the code a study stores and the
monitor and access scoping match on. The list is `study/data/gemeenten.csv` (code,name): today
the municipalities of Overijssel and the larger cities (no full CBS list could be brought into
this repository: none ships in a package we may install). Replace it with CBS's full
"Gemeentelijke indeling" of the current year to offer every municipality, or add one with
`manage.py municipality_add --code GMxxxx --name NAME`."""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

CODE = re.compile(r"^GM\d{4}$")
_FILE = Path(__file__).resolve().parent / "data" / "gemeenten.csv"


def list_file() -> Path:
    """The list's file (`manage.py municipality_add` adds to it)."""
    return _FILE


@cache
def municipalities() -> dict[str, str]:
    """code -> name, sorted by name."""
    with list_file().open(encoding="utf-8") as handle:
        rows = [(row["code"].strip(), row["name"].strip()) for row in csv.DictReader(handle)]
    return dict(sorted(rows, key=lambda row: row[1].lstrip("'").casefold()))


def name_of(code: str) -> str | None:
    return municipalities().get(code)


def choices() -> list[tuple[str, str]]:
    return [(code, f"{name} ({code})") for code, name in municipalities().items()]
