"""The indicator catalogue as the monitor needs it: codes, group, MPG domain, support flag (pure).

The monitor reads study/data/indicators.csv itself (no Django, and a study may point it at its
own file); study/catalogue.py reads the same file for the recorded data.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

#: The project's one indicator catalogue (shared with study/); read, never copied.
CATALOGUE_PATH = Path(__file__).resolve().parents[2] / "study" / "data" / "indicators.csv"

#: Groups whose problem threshold is not "above zero" (domain brief: high mobility is two or more
#: moves in the year).
PROBLEM_THRESHOLDS_BY_GROUP: dict[str, int] = {"mobility": 2}


@dataclass(frozen=True)
class Indicator:
    """One registry indicator, as far as the MPG classification is concerned."""

    code: str
    level: str
    kind: str
    group: str  # what kind of care or problem: police, youth_care, child_protection, ggz, ...
    min: float
    max: float
    mpg_domain: int | None
    chronic_support: bool
    label_en: str
    label_nl: str = ""

    @property
    def problem_threshold(self) -> int:
        """Smallest value that marks a problem in its domain."""
        return PROBLEM_THRESHOLDS_BY_GROUP.get(self.group, 1)


@dataclass(frozen=True)
class Catalogue:
    """The indicators in file order, with the groupings the classification uses."""

    indicators: tuple[Indicator, ...]

    @property
    def codes(self) -> list[str]:
        return [i.code for i in self.indicators]

    def domain_codes(self, domain: int) -> list[str]:
        """Codes of the indicators that classify core domain 1, 2 or 3."""
        return [i.code for i in self.indicators if i.mpg_domain == domain]

    @property
    def support_codes(self) -> list[str]:
        """Codes that count as support for the two-year chronicity rule."""
        return [i.code for i in self.indicators if i.chronic_support]

    def codes_in_group(self, group: str, level: str | None = None) -> list[str]:
        """Codes of one group (optionally of one level: household, adult, child), in file order."""
        codes = [
            i.code
            for i in self.indicators
            if i.group == group and (level is None or i.level == level)
        ]
        if not codes:
            raise KeyError(f"no indicator of group {group!r} (level {level!r}) in the catalogue")
        return codes

    def get(self, code: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.code == code:
                return indicator
        raise KeyError(code)


def _parse_row(row: dict[str, str], line: int, path: Path) -> Indicator:
    domain = row["mpg_domain"].strip()
    support = row["chronic_support"].strip().lower()
    if domain not in ("", "1", "2", "3"):
        raise ValueError(
            f"{path}, line {line}, column mpg_domain: {domain!r} is not 1, 2, 3 or empty"
        )
    if support not in ("yes", "no"):
        raise ValueError(
            f"{path}, line {line}, column chronic_support: {support!r} is not yes or no"
        )
    return Indicator(
        code=row["code"].strip(),
        level=row["level"].strip(),
        kind=row["kind"].strip(),
        group=row["group"].strip(),
        min=float(row["min"]),
        max=float(row["max"]),
        mpg_domain=int(domain) if domain else None,
        chronic_support=support == "yes",
        label_en=row["label_en"].strip(),
        label_nl=(row.get("label_nl") or "").strip(),
    )


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read the indicator catalogue (default: the project's study/data/indicators.csv)."""
    if path is None:
        return _default_catalogue()
    return _read(Path(path))


def _read(path: Path) -> Catalogue:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # Line 1 is the header, so data row i sits on line i + 2.
    return Catalogue(tuple(_parse_row(row, i + 2, path) for i, row in enumerate(rows)))


@lru_cache(maxsize=1)
def _default_catalogue() -> Catalogue:
    return _read(CATALOGUE_PATH)
