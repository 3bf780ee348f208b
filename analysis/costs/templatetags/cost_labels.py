"""`{% load cost_labels %}`: the cost model's codes as words (analysis/costs/labels.py)."""

from __future__ import annotations

from django import template
from django.templatetags.l10n import unlocalize
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from analysis.costs import labels
from study.templatetags.amounts import amount

register = template.Library()


@register.filter
def cost_domain(code: str) -> str:
    return labels.domain_label(code)


@register.filter
def cost_unit(code: str) -> str:
    return labels.unit_label(code)


@register.filter
def scenario_name(scenario) -> str:
    return labels.scenario_name(scenario.code, scenario.name)


@register.filter
def scenario_description(scenario) -> str:
    return labels.scenario_description(scenario.code, scenario.description)


@register.filter
def catalogue_note(note: str) -> str:
    return labels.catalogue_note(note)


@register.filter
def cost_item(code: str, description: str = "") -> str:
    return labels.item_label(code, description)


@register.filter
def indicator_names(codes: str) -> str:
    return labels.indicator_labels(codes or "")


_CATALOGUE_ROW = (
    "\n  <tr>\n"
    '    <td>{}<br><small class="muted"><code>{}</code></small></td><td>{}</td><td>{}</td>'
    "<td>{}</td>\n"
    '    <td class="num">{}</td><td class="num">{}</td>\n'
    '    <td class="num">{}</td><td class="num">{}</td>\n'
    "  </tr>\n  "
)


@register.simple_tag
def catalogue_item_rows(items) -> str:
    """The rows of the price catalogue's table (costs/catalogue.html), built here rather than
    by a template loop over a few dozen items with eight filters each: the same markup and
    words (tests compare it with the loop it replaces); every value is escaped."""
    # As {% translate %} gives it: a template's own words are not escaped.
    claimed = mark_safe(gettext("euros claimed, indexed"))
    rows = []
    for item in items:
        factor = item["index_factor_to_base"]
        rows.append(
            format_html(
                _CATALOGUE_ROW,
                labels.item_label(item["code"], item["description"]),
                item["code"],
                labels.domain_label(item["domain"]),
                labels.unit_label(item["unit"]),
                unlocalize(item["reference_year"]),
                amount(item["price_at_reference_year"]),
                amount(factor, 4) if factor is not None else "",
                amount(item["price_base_year"]),
                claimed if item["unit"] == "euros_claimed" else amount(item["price"]),
            )
        )
    return mark_safe("".join(rows))  # every part went through format_html
