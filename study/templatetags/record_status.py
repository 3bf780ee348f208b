"""The words of a record status, the same on every page (the colour comes with the CSS class of
the same code; the word is always there too)."""

from __future__ import annotations

from django import template

from study.models import Wave

register = template.Library()


@register.filter
def status_word(code: str) -> str:
    return str(Wave.status_words().get(code, code))
