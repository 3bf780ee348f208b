"""Sensitivity scenarios of the cost model: the baseline report's variants of prices and
volumes, and the catalogue a scenario prices with (pure: pandas and decimals, no Django).

A scenario changes prices (an override at the item's reference year, indexed like the
catalogue's own price, or a factor on the base-year price) and volumes (a divisor); the
engine (analysis/costs/engine.py) applies the volumes, this module the prices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from analysis.costs.pricing import base_year_price, index_factor, round_cents


@dataclass(frozen=True)
class Scenario:
    """A named variant of the catalogue for the sensitivity analysis.

    ``price_overrides``: item code -> price at the item's reference year (then indexed to the
    base year like the catalogue's own price). ``price_factors``: item code -> factor on the
    base-year price. ``volume_divisors``: item code -> divisor of the volume.
    """

    code: str
    name: str
    description: str = ""
    price_overrides: Mapping[str, float] = field(default_factory=dict)
    price_factors: Mapping[str, float] = field(default_factory=dict)
    volume_divisors: Mapping[str, float] = field(default_factory=dict)


CRIME_ITEMS = (
    "crime_murder",
    "crime_sexual",
    "crime_property",
    "crime_assault",
    "crime_threat",
    "crime_vandalism_public_order",
    "crime_traffic",
    "crime_economic",
    "crime_drugs",
    "crime_other",
)


# The report's crime total for MPG including production loss and suffering, against its
# direct-cost total; the report gives no per-offence prices with suffering, so every crime
# item is scaled by the ratio of the totals.
CRIME_TOTAL_DIRECT = 1_001_975.62


CRIME_TOTAL_WITH_SUFFERING = 1_811_180.67


CRIME_SUFFERING_FACTOR = CRIME_TOTAL_WITH_SUFFERING / CRIME_TOTAL_DIRECT


TRAJECTORIES_PER_PERSON = 1.3


REPORT_SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "ww_minimum_wage",
        "WW on minimum wage",
        "WW benefit at 70% of the minimum wage: 13,624 (2015) instead of 24,850.",
        price_overrides={"ww_benefit": 13_624.00},
    ),
    Scenario(
        "disability_alternative",
        "Alternative disability benefit",
        "Sickness/disability benefit 14,440.80 instead of 13,295.",
        price_overrides={"disability_benefit": 14_440.80},
    ),
    Scenario(
        "other_benefit_alternative",
        "Alternative other provision",
        "Other social provision 11,951.12 instead of 14,900.",
        price_overrides={"other_benefit": 11_951.12},
    ),
    Scenario(
        "crime_with_suffering",
        "Crime including suffering",
        "Crime items scaled by 1,811,180.67 / 1,001,975.62 (production loss and suffering).",
        price_factors=dict.fromkeys(CRIME_ITEMS, CRIME_SUFFERING_FACTOR),
    ),
    Scenario(
        "youth_care_1_3_trajectories",
        "1.3 youth-care trajectories per person",
        "Ambulant and day-treatment volumes divided by 1.3.",
        volume_divisors={
            "youth_care_ambulant": TRAJECTORIES_PER_PERSON,
            "youth_care_day_treatment": TRAJECTORIES_PER_PERSON,
        },
    ),
)


def trajectories_per_person(count: float, per_person: float = TRAJECTORIES_PER_PERSON) -> int:
    """Persons from a count of trajectories, rounded half up as the report does (34 -> 26).

    For aggregate counts only; the family-level engine divides without rounding, so that the
    sum over families stays the aggregate divided by ``per_person``.
    """
    return int(
        (Decimal(repr(float(count))) / Decimal(repr(per_person))).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
    )


def apply_scenario(
    catalogue: pd.DataFrame, scenario: Scenario | None, cpi: Mapping[int, float]
) -> pd.DataFrame:
    """The indexed catalogue with the scenario's prices (volumes are applied by the engine)."""
    if scenario is None or not (scenario.price_overrides or scenario.price_factors):
        return catalogue
    _require_codes(catalogue, scenario.price_overrides, scenario)
    _require_codes(catalogue, scenario.price_factors, scenario)
    frame = catalogue.copy()
    for position, row in enumerate(frame.itertuples(index=False)):
        base = row.price_base_year
        if row.code in scenario.price_overrides:
            base = base_year_price(
                price_at_reference_year=scenario.price_overrides[row.code],
                reference_year=row.reference_year,
                base_year=row.base_year,
                index_factor_to_base=getattr(row, "index_factor_to_base", None),
                cpi=cpi,
            )
        if row.code in scenario.price_factors:
            base = round_cents(Decimal(str(base)) * Decimal(repr(scenario.price_factors[row.code])))
        if base is pd.NA or pd.isna(base):
            continue
        factor = (
            1.0
            if row.price_year == row.base_year
            else index_factor(cpi, row.base_year, row.price_year)
        )
        frame.iloc[position, frame.columns.get_loc("price_base_year")] = float(base)
        frame.iloc[position, frame.columns.get_loc("price")] = float(
            round_cents(Decimal(str(base)) * Decimal(repr(factor)))
        )
    return frame


def _require_codes(catalogue: pd.DataFrame, codes: Iterable[str], scenario: Scenario) -> None:
    unknown = sorted(set(codes) - set(catalogue["code"]))
    if unknown:
        raise ValueError(
            f"scenario {scenario.code!r}: item(s) not in the catalogue: {', '.join(unknown)}"
        )
