"""Pages of the cost model: the price catalogue in a chosen price year, with the baseline."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from analysis.costs import engine, pricing, selectors
from study import access
from study import selectors as study_selectors
from study.access_log import family_read
from study.models import Family
from study.views.helpers import require_held


def _int_param(request, name: str) -> int | None:
    text = request.GET.get(name, "").strip()
    return int(text) if text.isdigit() else None


@login_required
def catalogue(request):
    if not access.may_read_reference_data(request.user):
        raise PermissionDenied
    try:
        current = selectors.catalogue_get(version=_int_param(request, "version"))
    except selectors.CatalogueNotFound as not_found:
        raise Http404(str(not_found)) from not_found
    price_year = _int_param(request, "price_year") or current.base_year
    error = ""
    items, baseline = [], None
    try:
        cpi = selectors.cpi_series()
        items = selectors.catalogue_rows(current, price_year, cpi=cpi)
        baseline = engine.baseline_per_family(cpi, price_year)
    except pricing.MissingCpiYearError as missing:
        error = _("No CPI for %(year)s yet: add it to index prices to %(price_year)s.") % {
            "year": missing.year,
            "price_year": price_year,
        }
    return render(
        request,
        "costs/catalogue.html",
        {
            "catalogue": current,
            "versions": selectors.published_versions(),
            "price_year": price_year,
            "items": items,
            "baseline": baseline,
            "error": error,
            "scenarios": selectors.scenario_list(),
        },
    )


@login_required
def family_costs(request, family_id: int):
    """A family's costs per year, item by item, in the study's price year (researchers)."""
    family, rights = study_selectors.family_get_with_rights(request.user, family_id)
    require_held(rights, access.Right.RESEARCH_READ)  # may_read_research, not asked again
    family_read(request, action="family.costs", families=family)
    price_year = _int_param(request, "price_year") or family.study.price_year
    error, breakdown = "", None
    try:
        breakdown = selectors.family_breakdown(
            Family.objects.filter(pk=family.pk), price_year=price_year
        )
    except pricing.MissingCpiYearError as missing:
        error = _("No CPI for %(year)s yet: add it to index prices to %(price_year)s.") % {
            "year": missing.year,
            "price_year": price_year,
        }
    return render(
        request,
        "costs/family.html",
        {"family": family, "breakdown": breakdown, "price_year": price_year, "error": error},
    )
