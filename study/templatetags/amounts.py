"""Amounts as people read them: `{{ x|euro }}` is "€ 149.723" in Dutch ("€ 149,723" in
English), whole euros with the thousands grouped; `*` (a suppressed count) and empty values
pass through. The one way pages and the report show money (issue 20)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

register = template.Library()

NBSP = "\u00a0"


@register.filter
def euro(value, decimals: int = 0) -> str:
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not amount.is_finite():
        return ""
    text = number_format(
        round(amount, int(decimals)), decimal_pos=int(decimals), force_grouping=True
    )
    return f"€{NBSP}{text}"


@register.filter
def amount(value, decimals: int = 2) -> str:
    """A number with the language's separators ("1.234,56"); a missing one (None, NaN) as
    "–", never "nan"."""
    if value is None or value == "":
        return "–"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return "–"
    return number_format(round(number, int(decimals)), decimal_pos=int(decimals))
