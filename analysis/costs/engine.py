"""Cost per family per period: volumes x indexed prices, scenarios and the baseline; no Django.

Rules (the baseline report's, see the domain brief "The cost model"):

* An indicator is priced by every item in its ``cost_items`` (``a+b`` = both items, e.g. a
  benefit and its administration cost, each with the indicator's volume).
* Items recorded as euros claimed (GGZ) take the indicator's value as euros of the year they
  were claimed and index them to the price year with the chained CPI; the "unit price" of
  such a row is that CPI factor.
* Foster care: the allowance is paid per child-day (the indicator's value, days summed over
  the family's children) and the guidance per foster family per day. The registry gives only
  child-days, so family-days are derived as ``min(child_days, days_per_period)``: siblings are
  placed together (one guidance per family per day, as the report counts it) and a family can
  not be in foster care on more days than the period has. A family with one child in care
  thus has family-days = child-days. This under-counts guidance when siblings are placed in
  different foster families.
* Crime: direct costs only (the catalogue's prices); moves and debt help carry no cost items.
* A missing value (NaN, or a costed indicator absent for a family-period) is not zero: its
  rows have NaN euros and the family-period's total is flagged incomplete.
* Every row names the catalogue version, price year and scenario it was computed with.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from analysis.costs.pricing import UNIT_EUROS_CLAIMED, UNIT_FAMILY_DAY, index_factor, round_cents
from analysis.costs.scenarios import REPORT_SCENARIOS, Scenario, apply_scenario

DAYS_PER_PERIOD = 366
POINT = "point"

VOLUME_COLUMNS = ("family", "period", "indicator", "value")
COST_COLUMNS = [
    "family",
    "period",
    "indicator",
    "item",
    "domain",
    "unit",
    "value",
    "volume",
    "unit_price",
    "euros",
    "catalogue_version",
    "price_year",
    "scenario",
]


BASELINE_PRICE_YEAR = 2014
BASELINE_PER_MPG = 114_291.0
BASELINE_RANGE = (108_000.0, 115_000.0)


@dataclass(frozen=True)
class BaselineEstimate:
    """The report's cost per MPG per year, indexed to ``price_year``."""

    price_year: int
    factor: float
    point: float
    low: float
    high: float


def baseline_per_family(cpi: Mapping[int, float], price_year: int) -> BaselineEstimate:
    """The report's EUR 114,291 per MPG per year (range 108,000-115,000) in ``price_year``."""
    factor = index_factor(cpi, BASELINE_PRICE_YEAR, price_year)
    factor_decimal = Decimal(repr(factor))

    def indexed(amount: float) -> float:
        return float(round_cents(Decimal(repr(amount)) * factor_decimal))

    return BaselineEstimate(
        price_year=int(price_year),
        factor=factor,
        point=indexed(BASELINE_PER_MPG),
        low=indexed(BASELINE_RANGE[0]),
        high=indexed(BASELINE_RANGE[1]),
    )


def family_days_from_child_days(child_days: float, days_per_period: int = DAYS_PER_PERIOD) -> float:
    """Foster-family days from foster-care child-days (see the module docstring)."""
    if pd.isna(child_days):
        return float("nan")
    return float(min(child_days, days_per_period))


def indicator_items(indicators: pd.DataFrame, catalogue: pd.DataFrame) -> dict[str, list[str]]:
    """Indicator code -> the item codes that price it (only indicators with cost items)."""
    known = set(catalogue["code"])
    mapping: dict[str, list[str]] = {}
    for row in indicators.itertuples(index=False):
        text = "" if pd.isna(row.cost_items) else str(row.cost_items).strip()
        if not text:
            continue
        items = [part.strip() for part in text.split("+") if part.strip()]
        unknown = [item for item in items if item not in known]
        if unknown:
            raise ValueError(
                f"indicator {row.code!r}: column cost_items: item(s) not in the catalogue: "
                f"{', '.join(unknown)}"
            )
        mapping[row.code] = items
    return mapping


def _check_volumes(volumes: pd.DataFrame, indicator_codes: set[str]) -> None:
    missing = [column for column in VOLUME_COLUMNS if column not in volumes.columns]
    if missing:
        raise ValueError(f"volumes lack column(s): {', '.join(missing)}")
    unknown = volumes.loc[~volumes["indicator"].isin(indicator_codes), "indicator"]
    if len(unknown):
        position = int(unknown.index[0])
        raise ValueError(
            f"volumes row {position}: column indicator: {unknown.iloc[0]!r} is not in the "
            "indicator catalogue"
        )
    duplicated = volumes.duplicated(subset=["family", "period", "indicator"])
    if duplicated.any():
        row = volumes.loc[duplicated].iloc[0]
        raise ValueError(
            f"volumes: indicator {row['indicator']!r} given twice for family "
            f"{row['family']!r}, period {row['period']!r}"
        )
    negative = volumes["value"].notna() & (volumes["value"] < 0)
    if negative.any():
        row = volumes.loc[negative].iloc[0]
        raise ValueError(
            f"volumes: negative value {row['value']} for indicator {row['indicator']!r}, "
            f"family {row['family']!r}, period {row['period']!r}"
        )


def _claim_year(period: Hashable, ggz_year_of: Callable[[Any], int] | None) -> int:
    if ggz_year_of is not None:
        return int(ggz_year_of(period))
    try:
        return int(period)  # type: ignore[call-overload]
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"period {period!r} is not a calendar year: pass ggz_year_of to say in which year "
            "the GGZ euros were claimed"
        ) from exc


def _money(amount: float) -> float:
    return float("nan") if pd.isna(amount) else float(round_cents(amount))


def family_costs(
    volumes: pd.DataFrame,
    catalogue: pd.DataFrame,
    indicators: pd.DataFrame,
    *,
    price_year: int,
    cpi: Mapping[int, float],
    ggz_year_of: Callable[[Any], int] | None = None,
    scenario: Scenario | None = None,
    required_indicators: Iterable[str] | None = None,
) -> pd.DataFrame:
    """One row per family, period, indicator and cost item, with volume, unit price and euros.

    ``volumes``: columns family, period, indicator, value (long format, one row per family,
    period and indicator). ``catalogue``: an indexed catalogue (``pricing.indexed_catalogue``)
    in ``price_year``. ``indicators``: the indicator catalogue (columns code, cost_items).
    ``ggz_year_of(period)`` gives the calendar year GGZ euros of a period were claimed in
    (default: the period itself is a year). ``required_indicators``: the costed indicators a
    complete family-period must have (default: every costed indicator of ``indicators``);
    those absent get a row with NaN euros. Keep the default (or the study's costed
    indicators): a family-period with no costed row at all yields no rows, so it would be
    left out of totals instead of counting as zero.
    """
    prices_years = set(catalogue["price_year"])
    if prices_years != {int(price_year)}:
        raise ValueError(
            f"catalogue is indexed to {sorted(prices_years)}, not to price year {price_year}"
        )
    catalogue = apply_scenario(catalogue, scenario, cpi)
    items_of = indicator_items(indicators, catalogue)
    _check_volumes(volumes, set(indicators["code"]))
    required = set(items_of) if required_indicators is None else set(required_indicators)
    not_costed = sorted(required - set(items_of))
    if not_costed:
        raise ValueError(f"required indicator(s) without cost items: {', '.join(not_costed)}")

    costed = volumes.loc[volumes["indicator"].isin(items_of), list(VOLUME_COLUMNS)]
    family_periods = volumes[["family", "period"]].drop_duplicates()
    if required:
        grid = family_periods.merge(pd.DataFrame({"indicator": sorted(required)}), how="cross")
        rows = grid.merge(costed, on=["family", "period", "indicator"], how="outer")
    else:
        rows = costed
    by_code = catalogue.set_index("code")[["domain", "unit", "price"]].to_dict("index")
    divisors = scenario.volume_divisors if scenario is not None else {}
    version = catalogue["catalogue_version"].iloc[0] if len(catalogue) else None
    version = None if version is None or pd.isna(version) else int(version)
    claim_factor = _claim_factors(cpi, price_year, ggz_year_of)
    code = scenario.code if scenario is not None else POINT
    records = []
    for row in rows.itertuples(index=False):
        value = float(row.value) if not pd.isna(row.value) else float("nan")
        for item in items_of[row.indicator]:
            records.append(
                _item_record(
                    row.family, row.period, row.indicator, item, by_code[item], value,
                    divisor=divisors.get(item, 1.0), claim_factor=claim_factor,
                    version=version, price_year=price_year, scenario=code,
                )
            )  # fmt: skip
    return pd.DataFrame.from_records(records, columns=COST_COLUMNS)


def _claim_factors(
    cpi: Mapping[int, float], price_year: int, ggz_year_of: Callable[[Any], int] | None
) -> Callable[[Any], float]:
    """The CPI factor from the year a period's euros were claimed to the price year, computed
    once per period."""
    factors: dict[Any, float] = {}

    def factor(period: Any) -> float:
        if period not in factors:
            factors[period] = index_factor(cpi, _claim_year(period, ggz_year_of), price_year)
        return factors[period]

    return factor


def _item_record(
    family: Any,
    period: Any,
    indicator: str,
    item: str,
    entry: Mapping[str, Any],
    value: float,
    *,
    divisor: float,
    claim_factor: Callable[[Any], float],
    version: int | None,
    price_year: int,
    scenario: str,
) -> dict:
    """One cost item of one indicator value (NaN when missing): its volume, unit price and
    euros, as a row of :data:`COST_COLUMNS` (shared by :func:`family_costs` and
    :func:`family_cost_records`)."""
    if entry["unit"] == UNIT_EUROS_CLAIMED:
        volume = value
        unit_price = float("nan") if value != value else claim_factor(period)
    else:
        volume = family_days_from_child_days(value) if entry["unit"] == UNIT_FAMILY_DAY else value
        volume = volume / divisor
        unit_price = float(entry["price"])
    euros = volume * unit_price if volume == volume else float("nan")
    return {
        "family": family,
        "period": period,
        "indicator": indicator,
        "item": item,
        "domain": entry["domain"],
        "unit": entry["unit"],
        "value": value,
        "volume": volume,
        "unit_price": unit_price,
        "euros": _money(euros),
        "catalogue_version": version,
        "price_year": int(price_year),
        "scenario": scenario,
    }


def _totals(costs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    meta = ["catalogue_version", "price_year", "scenario"]
    columns = [*keys, "total_eur", "complete", "missing_indicators", *meta]
    records = []
    for group_key, group in costs.groupby(keys + meta, sort=True, dropna=False):
        missing = group["euros"].isna()
        records.append(
            {
                **dict(zip(keys + meta, group_key, strict=True)),
                "total_eur": float(round_cents(group["euros"].sum(min_count=0))),
                "complete": not bool(missing.any()),
                "missing_indicators": ", ".join(sorted(set(group.loc[missing, "indicator"]))),
            }
        )
    return pd.DataFrame.from_records(records, columns=columns)


def family_totals(costs: pd.DataFrame) -> pd.DataFrame:
    """Total euros per family and period; ``complete`` is False when a costed value is missing.

    ``total_eur`` of an incomplete family-period sums only the known items: a lower bound,
    which reports must show as such (``missing_indicators`` names what is missing).
    """
    return _totals(costs, ["family", "period"])


def domain_totals(costs: pd.DataFrame) -> pd.DataFrame:
    """Total euros per family, period and cost domain, with the same completeness columns."""
    return _totals(costs, ["family", "period", "domain"])


def cost_range(
    volumes: pd.DataFrame,
    catalogue: pd.DataFrame,
    indicators: pd.DataFrame,
    *,
    price_year: int,
    cpi: Mapping[int, float],
    scenarios: Iterable[Scenario] = REPORT_SCENARIOS,
    ggz_year_of: Callable[[Any], int] | None = None,
    required_indicators: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Per family and period: the point estimate, each scenario's total, and low/high.

    Columns: family, period, point, one column per scenario code, low, high, complete,
    missing_indicators, catalogue_version, price_year.
    """

    def totals_of(scenario: Scenario | None) -> pd.DataFrame:
        costs = family_costs(
            volumes,
            catalogue,
            indicators,
            price_year=price_year,
            cpi=cpi,
            ggz_year_of=ggz_year_of,
            scenario=scenario,
            required_indicators=required_indicators,
        )
        return family_totals(costs)

    point = totals_of(None)
    frame = point.rename(columns={"total_eur": POINT}).drop(columns=["scenario"])
    codes = [POINT]
    for scenario in scenarios:
        totals = totals_of(scenario)
        frame[scenario.code] = totals["total_eur"].to_numpy()
        codes.append(scenario.code)
    frame["low"] = frame[codes].min(axis=1)
    frame["high"] = frame[codes].max(axis=1)
    return frame[
        ["family", "period", *codes, "low", "high", "complete", "missing_indicators"]
        + ["catalogue_version", "price_year"]
    ]


def breakdown(costs: pd.DataFrame) -> dict:
    """One family's costs shaped for a page: per period the non-zero and missing item rows
    and the total (template: costs/partials/family_breakdown.html)."""
    families = set(costs["family"])
    if len(families) > 1:
        raise ValueError(f"breakdown is for one family; got {len(families)}")
    totals = family_totals(costs).set_index("period")
    periods = []
    for period, group in costs.groupby("period", sort=True):
        shown = group.loc[group["euros"].isna() | (group["euros"] != 0)]
        periods.append(
            {
                "period": period,
                "rows": [
                    {
                        "indicator": row.indicator,
                        "item": row.item,
                        "domain": row.domain,
                        "volume": row.volume,
                        "unit_price": row.unit_price,
                        "euros": row.euros,
                        "missing": bool(pd.isna(row.euros)),
                    }
                    for row in shown.itertuples(index=False)
                ],
                "total_eur": float(totals.loc[period, "total_eur"]),
                "complete": bool(totals.loc[period, "complete"]),
                "missing_indicators": totals.loc[period, "missing_indicators"],
            }
        )
    first = costs.iloc[0] if len(costs) else None
    return {
        "price_year": None if first is None else int(first["price_year"]),
        "catalogue_version": None if first is None else first["catalogue_version"],
        "scenario": None if first is None else first["scenario"],
        "periods": periods,
    }


# --- one family on a page, without frames ---------------------------------------------------
# The cost page shows one family: a few hundred values, for which building and merging frames
# costs more than the arithmetic. These give exactly what ``breakdown(family_costs(...))`` gives
# for the point estimate with the default required indicators (tests pin them to it); they
# return None where that would raise, so the caller can let the frame functions say why.


def _light_items(
    indicators: Iterable[tuple[str, Any]], known: set[str]
) -> tuple[set[str], dict[str, list[str]]] | None:
    """:func:`indicator_items` on (code, cost_items) pairs, with every code (None: unknown item)."""
    codes: set[str] = set()
    items_of: dict[str, list[str]] = {}
    for code, cost_items in indicators:
        codes.add(code)
        text = "" if cost_items is None or pd.isna(cost_items) else str(cost_items).strip()
        if not text:
            continue
        items = [part.strip() for part in text.split("+") if part.strip()]
        if any(item not in known for item in items):
            return None
        items_of[code] = items
    return codes, items_of


def _light_volumes(
    volumes: Iterable[tuple[Any, Any, str, float]], codes: set[str]
) -> tuple[dict[tuple[Any, Any, str], float], dict[tuple[Any, Any], None]] | None:
    """The values by (family, period, indicator) and the family-periods in order; None where
    :func:`_check_volumes` would refuse them."""
    values: dict[tuple[Any, Any, str], float] = {}
    family_periods: dict[tuple[Any, Any], None] = {}
    for family, period, indicator, value in volumes:
        if indicator not in codes or (family, period, indicator) in values:
            return None
        if not pd.isna(value) and value < 0:
            return None
        values[(family, period, indicator)] = value
        family_periods[(family, period)] = None
    return values, family_periods


def family_cost_records(
    volumes: Sequence[tuple[Any, Any, str, float]],
    catalogue: Sequence[Mapping[str, Any]],
    indicators: Iterable[tuple[str, Any]],
    *,
    price_year: int,
    cpi: Mapping[int, float],
    ggz_year_of: Callable[[Any], int] | None = None,
) -> list[dict] | None:
    """:func:`family_costs` (point estimate, every costed indicator required) on plain rows.

    ``volumes``: (family, period, indicator, value) tuples (value a float, NaN when missing);
    ``catalogue``: rows of ``pricing.indexed_catalogue_rows``; ``indicators``: (code,
    cost_items) pairs. The records in the order of ``family_costs``' frame, or None when
    ``family_costs`` would refuse the input (call it to get its error)."""
    if {row["price_year"] for row in catalogue} != {int(price_year)}:
        return None
    found_items = _light_items(indicators, {row["code"] for row in catalogue})
    found_volumes = None if found_items is None else _light_volumes(volumes, found_items[0])
    if found_items is None or found_volumes is None:
        return None
    items_of = found_items[1]
    values, family_periods = found_volumes
    required = sorted(items_of)
    # family_costs' outer merge: every family-period and required indicator, sorted.
    keys = [
        (family, period, indicator)
        for family, period in sorted(family_periods)
        for indicator in required
    ]
    by_code = {row["code"]: row for row in catalogue}
    claim_factor = _claim_factors(cpi, price_year, ggz_year_of)
    version = catalogue[0]["catalogue_version"] if catalogue else None
    version = None if version is None or pd.isna(version) else int(version)
    records = []
    for family, period, indicator in keys:
        found = values.get((family, period, indicator), float("nan"))
        value = float(found) if not pd.isna(found) else float("nan")
        for item in items_of[indicator]:
            records.append(
                _item_record(
                    family, period, indicator, item, by_code[item], value,
                    divisor=1.0, claim_factor=claim_factor,
                    version=version, price_year=price_year, scenario=POINT,
                )
            )  # fmt: skip
    return records


def breakdown_of_records(records: Sequence[Mapping[str, Any]]) -> dict | None:
    """:func:`breakdown` of one family's :func:`family_cost_records` (None when there are
    none, or when they are of more than one family: ``breakdown`` refuses those)."""
    if not records or len({row["family"] for row in records}) > 1:
        return None
    by_period: dict[Any, list[Mapping[str, Any]]] = {}
    for row in records:
        by_period.setdefault(row["period"], []).append(row)
    periods = []
    for period in sorted(by_period):
        group = by_period[period]
        missing = sorted({row["indicator"] for row in group if pd.isna(row["euros"])})
        periods.append(
            {
                "period": period,
                "rows": [
                    {
                        "indicator": row["indicator"],
                        "item": row["item"],
                        "domain": row["domain"],
                        "volume": row["volume"],
                        "unit_price": row["unit_price"],
                        "euros": row["euros"],
                        "missing": bool(pd.isna(row["euros"])),
                    }
                    for row in group
                    if pd.isna(row["euros"]) or row["euros"] != 0
                ],
                "total_eur": float(
                    round_cents(sum(row["euros"] for row in group if not pd.isna(row["euros"])))
                ),
                "complete": not missing,
                "missing_indicators": ", ".join(missing),
            }
        )
    first = records[0]
    return {
        "price_year": int(first["price_year"]),
        "catalogue_version": first["catalogue_version"],
        "scenario": first["scenario"],
        "periods": periods,
    }
