"""Write side of the cost model: revise a price catalogue (a new version), set a CPI year."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from analysis.costs import pricing
from analysis.costs.models import CpiYear, PriceCatalogue, PriceItem, Unit
from analysis.costs.selectors import cpi_series

EDITABLE_FIELDS = (
    "domain",
    "description",
    "unit",
    "reference_year",
    "price_at_reference_year",
    "index_factor_to_base",
    "source_note",
)
REQUIRED_NEW_FIELDS = ("domain", "description", "unit", "reference_year")
COPIED_FIELDS = (*EDITABLE_FIELDS, "price_base_year")


def _decimal_or_none(code: str, field: str, value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValidationError(
            _("Item %(code)s, field %(field)s: %(value)s is not a number.")
            % {"code": code, "field": field, "value": value}
        ) from exc
    if number < 0 or not number.is_finite():
        raise ValidationError(
            _("Item %(code)s, field %(field)s: must be zero or more.")
            % {"code": code, "field": field}
        )
    return number


def _clean_change(code: str, change: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(change) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationError(
            _("Item %(code)s: field(s) %(fields)s cannot be changed.")
            % {"code": code, "fields": ", ".join(unknown)}
        )
    cleaned = dict(change)
    for field in ("price_at_reference_year", "index_factor_to_base"):
        if field in cleaned:
            cleaned[field] = _decimal_or_none(code, field, cleaned[field])
    if "unit" in cleaned and cleaned["unit"] not in Unit.values:
        raise ValidationError(
            _("Item %(code)s, field unit: unknown unit %(unit)s.")
            % {"code": code, "unit": cleaned["unit"]}
        )
    if "reference_year" in cleaned:
        try:
            cleaned["reference_year"] = int(cleaned["reference_year"])
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                _("Item %(code)s, field reference_year: not a year.") % {"code": code}
            ) from exc
    return cleaned


def _apply_change(item: PriceItem, change: dict[str, Any]) -> bool:
    """Apply a cleaned change to an unsaved item; True when anything differs."""
    changed = False
    for field, value in change.items():
        if getattr(item, field) != value:
            setattr(item, field, value)
            changed = True
    # A new reference year without a new factor: the old (report's) factor no longer holds.
    if "reference_year" in change and "index_factor_to_base" not in change and changed:
        item.index_factor_to_base = None
    return changed


def _price_base_year(item: PriceItem, base_year: int, cpi: dict[int, float]) -> Decimal | None:
    try:
        return pricing.base_year_price(
            price_at_reference_year=item.price_at_reference_year,
            reference_year=item.reference_year,
            base_year=base_year,
            index_factor_to_base=item.index_factor_to_base,
            cpi=cpi,
        )
    except pricing.MissingCpiYearError as exc:
        raise ValidationError(
            _("Item %(code)s: %(error)s") % {"code": item.code, "error": exc}
        ) from exc


@transaction.atomic
def price_catalogue_revise(
    *,
    catalogue: PriceCatalogue,
    changes: Mapping[str, Mapping[str, Any] | None],
    user=None,
    note: str = "",
    name: str | None = None,
) -> PriceCatalogue:
    """A new published catalogue version: ``catalogue``'s items with ``changes`` applied.

    ``changes`` maps an item code to the fields to change (see ``EDITABLE_FIELDS``); an
    unknown code adds an item (needs domain, description, unit, reference_year), ``None``
    removes it. The base-year price is derived: price at reference year x the explicit factor,
    or CPI chaining when there is none. ``catalogue`` itself is left as it was.
    """
    if not changes:
        raise ValidationError(_("No changes given: a new version needs at least one."))
    # Serialise revisions: the next version number is taken under a lock.
    PriceCatalogue.objects.select_for_update().filter(pk=catalogue.pk).first()
    next_version = (PriceCatalogue.objects.aggregate(top=Max("version"))["top"] or 0) + 1
    items = {item.code: item for item in catalogue.items.order_by("id")}
    cpi = cpi_series()
    revised: list[PriceItem] = []
    any_change = False
    for code, item in items.items():
        change = changes.get(code, {})
        if change is None:
            any_change = True
            continue
        copy = PriceItem(**{field: getattr(item, field) for field in ("code", *COPIED_FIELDS)})
        if _apply_change(copy, _clean_change(code, change)):
            any_change = True
            copy.price_base_year = _price_base_year(copy, catalogue.base_year, cpi)
        revised.append(copy)
    for code in [code for code in changes if code not in items]:
        change = changes[code]
        if change is None:
            raise ValidationError(_("Item %(code)s does not exist.") % {"code": code})
        missing = [field for field in REQUIRED_NEW_FIELDS if field not in change]
        if missing:
            raise ValidationError(
                _("New item %(code)s: missing field(s) %(fields)s.")
                % {"code": code, "fields": ", ".join(missing)}
            )
        item = PriceItem(code=code)
        _apply_change(item, _clean_change(code, change))
        item.price_base_year = _price_base_year(item, catalogue.base_year, cpi)
        revised.append(item)
        any_change = True
    if not any_change:
        raise ValidationError(_("The changes leave every price as it was."))

    new = PriceCatalogue.objects.create(
        version=next_version,
        name=name or catalogue.name,
        base_year=catalogue.base_year,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        note=note,
        parent=catalogue,
        published=False,
    )
    for item in revised:
        item.catalogue = new
        item.full_clean(exclude=["catalogue"])
    PriceItem.objects.bulk_create(revised)
    new.published = True
    new.save(update_fields=["published"])
    return new


@transaction.atomic
def cpi_year_set(
    *, year: int, annual_change_pct: Decimal | float | str, source: str = "CBS"
) -> CpiYear:
    """Add or correct the CPI annual change of a year."""
    try:
        change = Decimal(str(annual_change_pct))
    except InvalidOperation as exc:
        raise ValidationError(
            _("CPI %(year)s: %(value)s is not a number.")
            % {"year": year, "value": annual_change_pct}
        ) from exc
    if not -100 < change < 1000:
        raise ValidationError(_("CPI %(year)s: annual change out of range.") % {"year": year})
    cpi_year, _created = CpiYear.objects.update_or_create(
        year=int(year), defaults={"annual_change_pct": change, "source": source}
    )
    return cpi_year
