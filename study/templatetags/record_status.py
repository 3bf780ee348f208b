"""The words of a record status, the same on every page (the colour comes with the CSS class of
the same code; the word is always there too)."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from study.models import Wave

register = template.Library()

#: The words per language, built once per process (the choices and catalogues are code).
_WORDS: dict[str | None, dict[str, str]] = {}


def status_words() -> dict[str, str]:
    """Every record status's word in the active language (for a view that fills long tables)."""
    language = get_language()
    if language not in _WORDS:
        _WORDS[language] = {k: str(v) for k, v in Wave.status_words().items()}
    return _WORDS[language]


@register.filter
def status_word(code: str) -> str:
    return status_words().get(code, code)
