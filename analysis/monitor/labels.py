"""The monitor's column labels, in English and Dutch, from one catalogue (pure, no Django).

Every column a monitor table, download or printable page can show is named here: the fixed
columns (counts, domains, overlap, support, MPG and the baseline report's per-wijk columns) in
``data/column_labels.csv``, and a classifying indicator a study added to the indicator catalogue
by its own labels there (``study/data/indicators.csv``: label_en, label_nl). A code name is never
shown: a column without a label raises, so a test finds it.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from analysis.monitor.catalogue import Catalogue, load_catalogue

LABELS_PATH = Path(__file__).resolve().parent / "data" / "column_labels.csv"
LANGUAGES = ("en", "nl")


@lru_cache(maxsize=1)
def _fixed() -> dict[str, dict[str, str]]:
    with LABELS_PATH.open(newline="", encoding="utf-8") as handle:
        return {
            row["column"]: {"en": row["label_en"].strip(), "nl": row["label_nl"].strip()}
            for row in csv.DictReader(handle)
        }


def _language(language: str | None) -> str:
    return "nl" if (language or "").lower().startswith("nl") else "en"


def column_label(column: str, language: str | None, catalogue: Catalogue | None = None) -> str:
    """The label of ``column`` in ``language`` (Dutch for any "nl…", otherwise English)."""
    lang = _language(language)
    fixed = _fixed().get(column)
    if fixed:
        return fixed[lang]
    catalogue = catalogue or load_catalogue()
    try:
        indicator = catalogue.get(column)
    except KeyError:
        raise KeyError(f"monitor column {column!r} has no label in {LABELS_PATH.name}") from None
    label = indicator.label_nl if lang == "nl" else indicator.label_en
    return label or indicator.label_en


def percent_label(column: str, language: str | None) -> str:
    """The header of a column's share of households with a child."""
    base = column_label(column, language)
    return f"% {base}"
