"""`{% load cost_labels %}`: the cost model's codes as words (analysis/costs/labels.py)."""

from __future__ import annotations

from django import template

from analysis.costs import labels

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
