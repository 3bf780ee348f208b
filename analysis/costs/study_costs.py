"""Costs of study families: the study's indicator values priced with the cost model.

The only bridge from recorded data to the cost engine; periods are calendar years (the wave's
registry year), so GGZ euros are indexed from their own year.
"""

from __future__ import annotations

import pandas as pd
from django.db.models import QuerySet

from analysis.costs import selectors
from study import panels
from study.catalogue import catalogue_specs


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
    return selectors.family_costs_for(
        volumes,
        indicator_catalogue_frame(),
        price_year=price_year,
        version=version,
        ggz_year_of=int,
    )
