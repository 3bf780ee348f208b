"""Dutch municipalities by their CBS gemeentecode (GMxxxx), the code a study stores and the
monitor and access scoping match on. The list is `study/data/gemeenten.csv` (code,name): today
the municipalities of Overijssel and the larger cities; replace it with CBS's full
"Gemeentelijke indeling" of the current year to offer every municipality."""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

CODE = re.compile(r"^GM\d{4}$")
_FILE = Path(__file__).resolve().parent / "data" / "gemeenten.csv"


@cache
def municipalities() -> dict[str, str]:
    """code -> name, sorted by name."""
    with _FILE.open(encoding="utf-8") as handle:
        rows = [(row["code"].strip(), row["name"].strip()) for row in csv.DictReader(handle)]
    return dict(sorted(rows, key=lambda row: row[1].lstrip("'").casefold()))


def name_of(code: str) -> str | None:
    return municipalities().get(code)


def choices() -> list[tuple[str, str]]:
    return [(code, f"{name} ({code})") for code, name in municipalities().items()]
