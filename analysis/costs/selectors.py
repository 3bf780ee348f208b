"""Read side of the cost model: catalogue versions, the CPI series and scenarios as pure data,
and the costs of study families (the study's indicator values priced with the cost model).

``costs_for_families`` is the only bridge from recorded data to the cost engine; periods are
calendar years (the wave's registry year), so GGZ euros are indexed from their own year.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from analysis.costs import engine, pricing
from analysis.costs.models import CpiYear, PriceCatalogue, PriceItem, SensitivityScenario
from analysis.costs.scenarios import Scenario
from study import panels
from study.catalogue import catalogue_specs
from study.models import IndicatorValue

ITEM_FIELDS = [
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


class CatalogueNotFound(LookupError):
    """No published catalogue (version) to compute with."""


def catalogue_list():
    """Every catalogue version, newest first."""
    return PriceCatalogue.objects.select_related("created_by", "parent").order_by("-version")


def published_versions() -> QuerySet[PriceCatalogue]:
    """The published versions, newest first, with only what the version picker shows."""
    return (
        PriceCatalogue.objects.filter(published=True)
        .order_by("-version")
        .only("version", "created_at")
    )


def catalogue_current() -> PriceCatalogue:
    """The newest published catalogue version."""
    catalogue = PriceCatalogue.objects.filter(published=True).order_by("-version").first()
    if catalogue is None:
        raise CatalogueNotFound(_("There is no published price catalogue."))
    return catalogue


def catalogue_get(*, version: int | None = None) -> PriceCatalogue:
    """A published catalogue by version number; the current one when ``version`` is None."""
    if version is None:
        return catalogue_current()
    catalogue = PriceCatalogue.objects.filter(version=version, published=True).first()
    if catalogue is None:
        raise CatalogueNotFound(
            _("Price catalogue version %(version)s does not exist.") % {"version": version}
        )
    return catalogue


def cpi_series() -> dict[int, float]:
    """The CPI series: year -> annual change in percent."""
    return {
        year: float(change)
        for year, change in CpiYear.objects.order_by("year").values_list(
            "year", "annual_change_pct"
        )
    }


def catalogue_items_frame(catalogue: PriceCatalogue) -> pd.DataFrame:
    """The items of a catalogue version as a frame (prices as floats, NaN when empty)."""
    rows = list(PriceItem.objects.filter(catalogue=catalogue).order_by("id").values(*ITEM_FIELDS))
    frame = pd.DataFrame.from_records(rows, columns=ITEM_FIELDS)
    for column in ("price_at_reference_year", "index_factor_to_base", "price_base_year"):
        frame[column] = pd.to_numeric(frame[column].astype(object), errors="coerce").astype(float)
    return frame


def catalogue_frame(
    version: int | PriceCatalogue | None = None,
    price_year: int | None = None,
    *,
    cpi: dict[int, float] | None = None,
) -> pd.DataFrame:
    """A catalogue version's items with the unit price indexed to ``price_year`` (``price``).

    Defaults: the current version and its base year. Carries ``catalogue_version``,
    ``base_year`` and ``price_year`` columns for :func:`engine.family_costs`. Raises
    :class:`pricing.MissingCpiYearError` when the CPI series lacks a year it needs.
    """
    catalogue = version if isinstance(version, PriceCatalogue) else catalogue_get(version=version)
    year = catalogue.base_year if price_year is None else int(price_year)
    return pricing.indexed_catalogue(
        catalogue_items_frame(catalogue),
        base_year=catalogue.base_year,
        price_year=year,
        cpi=cpi_series() if cpi is None else cpi,
        version=catalogue.version,
    )


def catalogue_rows(
    catalogue: PriceCatalogue, price_year: int | None = None, *, cpi: dict[int, float] | None = None
) -> list[dict]:
    """``catalogue_frame(catalogue, price_year).to_dict("records")`` without a frame (a page's
    few dozen items): the same rows and values (tests pin it to the frame)."""
    items = list(PriceItem.objects.filter(catalogue=catalogue).order_by("id").values(*ITEM_FIELDS))
    return pricing.indexed_catalogue_rows(
        items,
        base_year=catalogue.base_year,
        price_year=catalogue.base_year if price_year is None else int(price_year),
        cpi=cpi_series() if cpi is None else cpi,
        version=catalogue.version,
    )


def scenario_list() -> list[Scenario]:
    """The sensitivity scenarios as pure engine scenarios, in their order."""
    return [
        Scenario(
            code=row.code,
            name=row.name,
            description=row.description,
            price_overrides={k: float(v) for k, v in row.price_overrides.items()},
            price_factors={k: float(v) for k, v in row.price_factors.items()},
            volume_divisors={k: float(v) for k, v in row.volume_divisors.items()},
        )
        for row in SensitivityScenario.objects.order_by("position", "code")
    ]


def family_costs_for(
    volumes: pd.DataFrame,
    indicators: pd.DataFrame,
    *,
    price_year: int,
    version: int | None = None,
    ggz_year_of: Callable[[Any], int] | None = None,
    required_indicators: Iterable[str] | None = None,
    scenario: Scenario | None = None,
) -> pd.DataFrame:
    """:func:`engine.family_costs` with a stored catalogue version (default: current) and CPI."""
    cpi = cpi_series()
    return engine.family_costs(
        volumes,
        catalogue_frame(version, price_year, cpi=cpi),
        indicators,
        price_year=price_year,
        cpi=cpi,
        ggz_year_of=ggz_year_of,
        scenario=scenario,
        required_indicators=required_indicators,
    )


def cost_range_for(
    volumes: pd.DataFrame,
    indicators: pd.DataFrame,
    *,
    price_year: int,
    version: int | None = None,
    ggz_year_of: Callable[[Any], int] | None = None,
    required_indicators: Iterable[str] | None = None,
) -> pd.DataFrame:
    """:func:`engine.cost_range` with a stored catalogue version and the stored scenarios."""
    cpi = cpi_series()
    return engine.cost_range(
        volumes,
        catalogue_frame(version, price_year, cpi=cpi),
        indicators,
        price_year=price_year,
        cpi=cpi,
        scenarios=scenario_list(),
        ggz_year_of=ggz_year_of,
        required_indicators=required_indicators,
    )


def indicator_catalogue_frame() -> pd.DataFrame:
    """The study's indicator catalogue in the shape the cost engine reads."""
    return pd.DataFrame(
        [
            {"code": s.code, "level": s.level, "kind": s.kind, "cost_items": s.cost_items}
            for s in catalogue_specs()
        ]
    )


def volumes_frame(families: QuerySet) -> pd.DataFrame:
    """family, period (calendar year), indicator, value — NaN for a missing-data code."""
    long = panels.indicator_long_frame(families)
    volumes = long.rename(columns={"family_id": "family", "year": "period"})
    return volumes[["family", "period", "indicator", "value"]]


def costs_for_families(
    families: QuerySet, *, price_year: int, version: int | None = None, max_year: int | None = None
) -> pd.DataFrame:
    """One row per family, year and cost item (see analysis.costs.engine.family_costs).

    ``max_year`` leaves out later years (e.g. those the published CPI series does not reach yet).
    """
    volumes = volumes_frame(families)
    if max_year is not None:
        volumes = volumes.loc[volumes["period"] <= max_year]
    return family_costs_for(
        volumes,
        indicator_catalogue_frame(),
        price_year=price_year,
        version=version,
        ggz_year_of=int,
    )


def family_breakdown(families: QuerySet, *, price_year: int) -> dict | None:
    """``engine.breakdown(costs_for_families(families, price_year=...))`` for one family's page
    (None without costed values), computed on plain rows (engine.family_cost_records; tests pin
    it to the frames); input the frame functions would refuse goes to them, so their error is
    the one raised. Raises :class:`pricing.MissingCpiYearError` as they do."""
    cpi = cpi_series()
    catalogue = catalogue_rows(catalogue_get(), price_year, cpi=cpi)
    nan = float("nan")
    volumes = [
        (family, year, code, nan if value is None else float(value))
        for family, year, code, value in IndicatorValue.objects.alive()
        .filter(wave__family__in=families, wave__is_deleted=False)
        .values_list("wave__family_id", "wave__year", "indicator__code", "value")
    ]
    indicators = [(spec.code, spec.cost_items) for spec in catalogue_specs()]
    records = engine.family_cost_records(
        volumes, catalogue, indicators, price_year=price_year, cpi=cpi, ggz_year_of=int
    )
    if records is not None:
        return engine.breakdown_of_records(records) if records else None
    costs = costs_for_families(families, price_year=price_year)
    return engine.breakdown(costs) if len(costs) else None
