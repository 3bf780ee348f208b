"""The cost per MPG household of a municipality: the cost model's average, or the baseline
report's default with the reason why, and the note that says which.

Reads the published price catalogue (analysis.costs); writes nothing. The reason is stored with
each report, the note is worded from it in the reader's language.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.utils import formats, translation
from django.utils.translation import gettext as _

from analysis.costs import engine
from analysis.costs import selectors as cost_selectors
from analysis.costs.pricing import MissingCpiYearError
from analysis.effects.disclosure import suppress_count
from analysis.monitor.trend import DEFAULT_COST_PER_MPG_EUR

#: Below this many MPG households the cost engine's average would describe too few families to
#: publish: the report's default is used instead (and the page says so).
MIN_FAMILIES_FOR_OWN_COST = 10
SOURCE_ENGINE = "cost_engine"
SOURCE_DEFAULT = "default"
REASON_ENGINE = "cost_engine"
REASON_NO_CATALOGUE = "no_catalogue"
REASON_FEW = "fewer_than_10_mpg"
REASON_FAILED = "pricing_failed"
REASON_NO_MPG = "no_mpg"


def cost_note(cost: dict[str, Any]) -> str:
    """Where the cost per MPG comes from, in the active language (from the stored reason)."""
    reason = cost.get("reason")
    if reason == REASON_ENGINE:
        return _(
            "average cost of the municipality's MPG households in %(year)s from the cost "
            "model (price catalogue version %(version)s, prices of %(price_year)s)"
        ) % {
            "year": cost.get("year"),
            "version": cost.get("catalogue_version"),
            "price_year": cost.get("price_year"),
        }
    if reason == REASON_NO_CATALOGUE:
        return _("no published price catalogue; the baseline report's EUR 114,291 is used")
    if reason == REASON_FEW:
        return _(
            "fewer than 10 MPG households: an average of so few families is not "
            "shown; the baseline report's EUR 114,291 (2014 prices) is used"
        )
    if reason == REASON_FAILED:
        return _("the cost model could not price the extract (%(error)s); the default is used") % {
            "error": cost.get("error", "")
        }
    if reason == REASON_NO_MPG:
        return _("no MPG households to price; the baseline report's default is used")
    return str(cost.get("note", ""))


def default_cost(reason: str, **extra: Any) -> dict[str, Any]:
    """The baseline report's EUR 114,291 (2014 prices), with the reason it is used."""
    cost = {
        "cost_per_mpg_eur": DEFAULT_COST_PER_MPG_EUR,
        "source": SOURCE_DEFAULT,
        "price_year": 2014,
        "catalogue_version": None,
        "families": None,
        "reason": reason,
        **extra,
    }
    return _with_note(cost)


def _with_note(cost: dict[str, Any]) -> dict[str, Any]:
    """Store the note in English (the API's language); pages translate it from ``reason``."""
    with translation.override("en"):
        cost["note"] = cost_note(cost)
    return cost


def _priced(volumes: pd.DataFrame, *, year: int, catalogue) -> tuple[pd.DataFrame, int]:
    """Family costs in prices of ``year``, or of the catalogue's base year when the CPI series
    does not reach ``year``; and that price year."""
    priced = volumes[["family", "period", "indicator", "value"]]
    indicators = cost_selectors.indicator_catalogue_frame()

    def in_prices_of(price_year: int) -> pd.DataFrame:
        return cost_selectors.family_costs_for(
            priced, indicators, price_year=price_year, version=catalogue.version, ggz_year_of=int
        )

    try:
        return in_prices_of(int(year)), int(year)
    except MissingCpiYearError:
        return in_prices_of(int(catalogue.base_year)), int(catalogue.base_year)


def mpg_cost_per_family(volumes: pd.DataFrame, *, year: int) -> dict[str, dict[str, Any]]:
    """Per municipality: the average yearly cost of its MPG households from the cost engine.

    ``volumes`` comes from ``pipeline.mpg_volumes``. The current published price catalogue
    prices the households' indicator values of ``year`` (in prices of ``year``, or of the
    catalogue's base year when the CPI series does not reach ``year``). A municipality falls
    back to the baseline report's EUR 114,291 (2014 prices) when there is no catalogue, when
    it has fewer than 10 MPG households, or when pricing fails; ``note`` says which and why.
    """
    names = sorted(volumes["municipality"].unique()) if len(volumes) else []
    try:
        catalogue = cost_selectors.catalogue_current()
    except cost_selectors.CatalogueNotFound:
        return {name: default_cost(REASON_NO_CATALOGUE) for name in names}
    try:
        costs, price_year = _priced(volumes, year=year, catalogue=catalogue)
    except ValueError as exc:
        return {name: default_cost(REASON_FAILED, error=str(exc)) for name in names}
    totals = engine.family_totals(costs)
    home = volumes.drop_duplicates("family").set_index("family")["municipality"]
    totals["municipality"] = totals["family"].map(home)
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        own = totals[totals["municipality"] == name]
        if len(own) < MIN_FAMILIES_FOR_OWN_COST:
            out[name] = default_cost(REASON_FEW)
            continue
        out[name] = _with_note(
            {
                "cost_per_mpg_eur": round(float(own["total_eur"].mean()), 2),
                "source": SOURCE_ENGINE,
                "reason": REASON_ENGINE,
                "year": int(year),
                "price_year": price_year,
                "catalogue_version": catalogue.version,
                "families": int(len(own)),
                # Stored for the gemeente too: a count of 1-9 is "*" like every other count.
                "complete_families": suppress_count(int(own["complete"].sum())),
            }
        )
    return out


def _euros(amount: float) -> str:
    return "EUR " + formats.number_format(round(float(amount)), decimal_pos=0, force_grouping=True)


def _baseline_in(price_year: int | None) -> float | None:
    """The baseline report's cost per MPG indexed to ``price_year`` (None without CPI years)."""
    if not price_year:
        return None
    try:
        return float(engine.baseline_per_family(cost_selectors.cpi_series(), int(price_year)).point)
    except MissingCpiYearError:
        return None


def cost_explanation(cost: dict[str, Any], *, municipality: str, year: int) -> dict[str, str]:
    """Two sentences for the gemeente, in the active language: how the cost per MPG on the
    monitor page is computed, and why it differs from the baseline figure in the effect report
    (the baseline report's EUR 114,291 per MPG per year, Almelo 2014, indexed to the study's
    price year)."""
    price_year = cost.get("price_year")
    base = _euros(engine.BASELINE_PER_MPG)
    low, high = (_euros(v) for v in engine.BASELINE_RANGE)
    indexed = _baseline_in(price_year) if price_year != engine.BASELINE_PRICE_YEAR else None
    indexed_text = (
        _(" (in prices of %(year)s, as on this page: %(amount)s)")
        % {"amount": _euros(indexed), "year": price_year}
        if indexed is not None
        else ""
    )
    if cost.get("source") == SOURCE_ENGINE:
        families = suppress_count(int(cost.get("families") or 0))
        how = _(
            "How it is computed: for each MPG household of %(municipality)s in %(year)s the "
            "care and benefits registered that year are priced with the cost model (volume "
            "times the unit price of price catalogue version %(version)s; mental-health care "
            "as the euros claimed), indexed with the CBS consumer price index to prices of "
            "%(price_year)s, and added up to the household's yearly cost to the local "
            "government; moving costs, the parental contribution and the indirect costs of "
            "crime are left out. The figure is the average over those %(families)s households."
        ) % {
            "municipality": municipality,
            "year": year,
            "version": cost.get("catalogue_version"),
            "price_year": price_year,
            "families": families,
        }
        why = _(
            "Why it differs from the baseline figure in the effect report: the effect report "
            "compares the study families' costs with the baseline report's %(base)s per MPG per "
            "year (Almelo, 2014; range %(low)s to %(high)s), indexed to the study's price "
            "year%(indexed)s. That figure describes Almelo's MPG households in 2014; this one "
            "describes the MPG households of %(municipality)s in %(year)s, from this year's "
            "registry extract and the current price catalogue. Other households, another year "
            "and other care use give another amount."
        ) % {
            "base": base,
            "low": low,
            "high": high,
            "indexed": indexed_text,
            "municipality": municipality,
            "year": year,
        }
    else:
        how = _(
            "How it is computed: %(note)s. The figure is then the baseline report's %(base)s "
            "per MPG per year (Almelo, 2014, prices of 2014), not a figure of %(municipality)s."
        ) % {"note": cost_note(cost), "base": base, "municipality": municipality}
        why = _(
            "Why it differs from the baseline figure in the effect report: it is the same "
            "baseline figure, here in prices of 2014; the effect report shows it indexed to the "
            "study's price year%(indexed)s, so the two amounts differ only by the price index."
        ) % {"indexed": indexed_text}
    return {"how": how, "why": why}
