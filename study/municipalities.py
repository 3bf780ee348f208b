"""Dutch municipalities by their CBS gemeentecode (GMxxxx), the code a study stores and the
monitor and access scoping match on. The list is `study/data/gemeenten.csv` (code,name): all 342
municipalities of CBS's "Gemeentelijke indeling" in force since 1 January 2023 (the last
mergers: Voorne aan Zee GM1992 from Brielle, Hellevoetsluis and Westvoorne; Dijk en Waard GM1980;
Weesp into Amsterdam). Codes and names are CBS's (CC BY 4.0); the file was taken from the
municipality table of the Dutch government's open-source COVID-19 dashboard
(github.com/minvws/nl-covid19-data-dashboard, packages/common/src/data/gm.ts, EUPL-1.2, June 2024
snapshot), with 's-Gravenhage and Hengelo under their CBS names. A later herindeling is added with
`manage.py municipality_add --code GMxxxx --name NAME` (a merged municipality stays on the list
so recorded studies keep their name)."""

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
