"""CPI indexation and price-catalogue indexing: pure functions on pandas, no Django.

Conventions (they reproduce the baseline report's factors to three decimals):

* The CPI series maps a year to its annual change in percent (CBS): the change of year ``y``
  is the price rise from ``y - 1`` to ``y``.
* Indexing a price forward from year ``A`` to year ``B`` (``A < B``) multiplies by
  ``(1 + c_y / 100)`` for every ``y`` in ``A + 1 .. B``; so 2013 -> 2014 uses only the 2014
  change (1.0 %): factor 1.010.
* Indexing backwards (``A > B``) divides by the same product for ``y`` in ``B + 1 .. A``;
  so 2015 -> 2014 is ``1 / 1.006 = 0.994``.
* A year the series lacks is an error (:class:`MissingCpiYearError`), never a silent 1.0.
* Money is rounded to cents (half up) once, at the end of a computation; factors are not
  rounded, except the report's explicit three-decimal factors stored in a catalogue.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd

DATA_DIR = Path(__file__).resolve().parent / "data"
CATALOGUE_2014_CSV = DATA_DIR / "cost_catalogue_2014.csv"
CPI_CSV = DATA_DIR / "cpi_nl_annual_change.csv"

CENT = Decimal("0.01")

# Units of a cost item (the values are stored in the database; see models.Unit).
UNIT_BENEFIT_YEAR = "per_benefit_year"
UNIT_OFFENCE = "per_offence"
UNIT_TRAJECTORY = "per_trajectory"
UNIT_TRAJECTORY_YEAR = "per_trajectory_year"
UNIT_DAY = "per_day"
UNIT_PERSON_YEAR = "per_person_year"
UNIT_FAMILY_DAY = "per_family_day"
UNIT_HOUSEHOLD_YEAR = "per_household_year"
UNIT_EUROS_CLAIMED = "euros_claimed"

UNITS: dict[str, str] = {
    UNIT_BENEFIT_YEAR: "per benefit per year",
    UNIT_OFFENCE: "per offence",
    UNIT_TRAJECTORY: "per trajectory",
    UNIT_TRAJECTORY_YEAR: "per trajectory per year",
    UNIT_DAY: "per day",
    UNIT_PERSON_YEAR: "per person per year",
    UNIT_FAMILY_DAY: "per family per day",
    UNIT_HOUSEHOLD_YEAR: "per household per year",
    UNIT_EUROS_CLAIMED: "euros claimed",
}

# How the unit column of cost_catalogue_2014.csv spells the units.
CSV_UNITS: dict[str, str] = {
    **{label: code for code, label in UNITS.items()},
    "per household below low-income line per year": UNIT_HOUSEHOLD_YEAR,
    "actual claimed euros": UNIT_EUROS_CLAIMED,
}

CATALOGUE_COLUMNS = [
    "code",
    "domain",
    "description",
    "unit",
    "reference_year",
    "price_at_reference_year",
    "index_factor_to_base",
    "price_base_year",
    "source_note",
]


class MissingCpiYearError(ValueError):
    """The CPI series has no annual change for a year an indexation needs."""

    def __init__(self, year: int, from_year: int, to_year: int):
        self.year = year
        super().__init__(
            f"CPI series has no annual change for {year} "
            f"(needed to index {from_year} to {to_year}); add the year to the CPI series."
        )


def index_factor(cpi: Mapping[int, float], from_year: int, to_year: int) -> float:
    """Chained CPI factor that turns a price of ``from_year`` into one of ``to_year``."""
    from_year, to_year = int(from_year), int(to_year)
    low, high = sorted((from_year, to_year))
    product = 1.0
    for year in range(low + 1, high + 1):
        if year not in cpi or cpi[year] is None or pd.isna(cpi[year]):
            raise MissingCpiYearError(year, from_year, to_year)
        product *= 1.0 + float(cpi[year]) / 100.0
    return product if to_year >= from_year else 1.0 / product


def round_cents(value: float | Decimal | str) -> Decimal:
    """Round an amount to cents, half up (2.345 -> 2.35), via its decimal representation."""
    amount = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def index_amount(
    cpi: Mapping[int, float], amount: float | Decimal, from_year: int, to_year: int
) -> Decimal:
    """An amount of ``from_year`` expressed in prices of ``to_year``, rounded to cents."""
    factor = Decimal(repr(index_factor(cpi, from_year, to_year)))
    return round_cents(Decimal(str(amount)) * factor)


def base_year_price(
    *,
    price_at_reference_year: float | Decimal | None,
    reference_year: int,
    base_year: int,
    index_factor_to_base: float | Decimal | None,
    cpi: Mapping[int, float] | None = None,
) -> Decimal | None:
    """The price of an item in the catalogue's base year, rounded to cents.

    Uses the explicit factor (the report's) when there is one, CPI chaining otherwise.
    Items recorded as euros claimed have no price: the result is ``None``.
    """
    if price_at_reference_year is None or pd.isna(price_at_reference_year):
        return None
    price = Decimal(str(price_at_reference_year))
    if index_factor_to_base is not None and not pd.isna(index_factor_to_base):
        factor = Decimal(str(index_factor_to_base))
    elif int(reference_year) == int(base_year):
        factor = Decimal(1)
    else:
        if cpi is None:
            raise ValueError("a CPI series is needed to index a price without an index factor")
        factor = Decimal(repr(index_factor(cpi, int(reference_year), int(base_year))))
    return round_cents(price * factor)


def load_cpi_csv(path: Path | str = CPI_CSV) -> dict[int, float]:
    """The CPI series of a CSV with columns year, cpi_annual_change_pct."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    series: dict[int, float] = {}
    for number, row in enumerate(rows, start=2):
        try:
            series[int(row["year"])] = float(row["cpi_annual_change_pct"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: line {number}: bad year or cpi_annual_change_pct") from exc
    return series


def _optional_float(text: str) -> float | None:
    text = (text or "").strip()
    return float(text) if text else None


def load_catalogue_csv(path: Path | str = CATALOGUE_2014_CSV) -> pd.DataFrame:
    """The report's catalogue CSV as a frame with the catalogue columns (prices as floats)."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    records = []
    for number, row in enumerate(rows, start=2):
        unit = CSV_UNITS.get(row["unit"].strip())
        if unit is None:
            raise ValueError(f"{path}: line {number}: column unit: unknown unit {row['unit']!r}")
        records.append(
            {
                "code": row["code"].strip(),
                "domain": row["domain"].strip(),
                "description": row["description"].strip(),
                "unit": unit,
                "reference_year": int(row["reference_year"]),
                "price_at_reference_year": _optional_float(row["price_at_reference_year_eur"]),
                "index_factor_to_base": _optional_float(row["index_factor_to_2014"]),
                "price_base_year": _optional_float(row["price_2014_eur"]),
                "source_note": row["source_note"].strip(),
            }
        )
    return pd.DataFrame.from_records(records, columns=CATALOGUE_COLUMNS)


def indexed_catalogue(
    items: pd.DataFrame,
    *,
    base_year: int,
    price_year: int,
    cpi: Mapping[int, float],
    version: int | None = None,
) -> pd.DataFrame:
    """The catalogue's items with their unit price in ``price_year`` (column ``price``).

    In the base year the catalogue's own base-year price is used (so the 2014 catalogue gives
    the report's prices to the cent). For any other year the base-year price is indexed with
    the chained CPI from the base year: the report's prices stay the anchor, as does its
    EUR 114,291 per family. Items recorded as euros claimed get no price (NaN); the engine
    indexes their euros from the year they were claimed.
    """
    missing = [column for column in ("code", "unit", "reference_year") if column not in items]
    if missing:
        raise ValueError(f"catalogue lacks column(s): {', '.join(missing)}")
    frame = items.copy()
    base_prices: list[Decimal | None] = []
    for row in frame.itertuples(index=False):
        stored = getattr(row, "price_base_year", None)
        if stored is not None and not pd.isna(stored):
            base_prices.append(round_cents(stored))
        else:
            base_prices.append(
                base_year_price(
                    price_at_reference_year=getattr(row, "price_at_reference_year", None),
                    reference_year=row.reference_year,
                    base_year=base_year,
                    index_factor_to_base=getattr(row, "index_factor_to_base", None),
                    cpi=cpi,
                )
            )
    factor = 1.0 if int(price_year) == int(base_year) else index_factor(cpi, base_year, price_year)
    factor_decimal = Decimal(repr(factor))
    frame["price_base_year"] = [float(p) if p is not None else float("nan") for p in base_prices]
    frame["price"] = [
        float(round_cents(p * factor_decimal)) if p is not None else float("nan")
        for p in base_prices
    ]
    frame["base_year"] = int(base_year)
    frame["price_year"] = int(price_year)
    frame["catalogue_version"] = version
    return frame.reset_index(drop=True)


def _number(value) -> float:
    """A stored amount as the frames hold it: a float, NaN when empty."""
    return float("nan") if value is None or pd.isna(value) else float(value)


def indexed_catalogue_rows(
    items: Sequence[Mapping],
    *,
    base_year: int,
    price_year: int,
    cpi: Mapping[int, float],
    version: int | None = None,
) -> list[dict]:
    """:func:`indexed_catalogue` for a few dozen plain rows (a page's catalogue), without a
    frame: the same columns and values, one dict per item in the given order (the stored
    amounts may be Decimals or None; they come back as floats, NaN when empty), as
    ``indexed_catalogue(frame, ...).to_dict("records")`` gives them."""
    rows: list[dict] = []
    base_prices: list[Decimal | None] = []
    for item in items:
        missing = [column for column in ("code", "unit", "reference_year") if column not in item]
        if missing:
            raise ValueError(f"catalogue lacks column(s): {', '.join(missing)}")
        row = dict(item)
        for column in ("price_at_reference_year", "index_factor_to_base", "price_base_year"):
            if column in row:
                row[column] = _number(row[column])
        stored = row.get("price_base_year")
        if stored is not None and not pd.isna(stored):
            base_prices.append(round_cents(stored))
        else:
            base_prices.append(
                base_year_price(
                    price_at_reference_year=row.get("price_at_reference_year"),
                    reference_year=row["reference_year"],
                    base_year=base_year,
                    index_factor_to_base=row.get("index_factor_to_base"),
                    cpi=cpi,
                )
            )
        rows.append(row)
    factor = 1.0 if int(price_year) == int(base_year) else index_factor(cpi, base_year, price_year)
    factor_decimal = Decimal(repr(factor))
    for row, base in zip(rows, base_prices, strict=True):
        row["price_base_year"] = float(base) if base is not None else float("nan")
        row["price"] = (
            float(round_cents(base * factor_decimal)) if base is not None else float("nan")
        )
        row["base_year"] = int(base_year)
        row["price_year"] = int(price_year)
        row["catalogue_version"] = version
    return rows
