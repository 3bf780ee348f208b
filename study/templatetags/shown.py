"""A value as a template's `{{ value }}` (or `{{ value|date }}`) shows it, for the tags that
build their rows' HTML in Python (page_rows, caseload_rows, dashboard_rows, field_rows): one
place, so every such tag escapes, localizes and converts to local time as Django does.

Not a tag library (no `register`): imported by the libraries."""

from __future__ import annotations

import html
from datetime import date, datetime
from functools import cache

from django.template.base import render_value_in_context
from django.utils.dateformat import format as date_format
from django.utils.formats import get_format, localize
from django.utils.html import conditional_escape
from django.utils.timezone import template_localtime


def shown(value: object, context=None) -> str:
    """`{{ value }}`: local time, localized, escaped (a safe string as it is). With a template
    `context` whose autoescape, time zone or localization is switched: as that context shows it
    (Django's `render_value_in_context`)."""
    if context is not None and (
        not context.autoescape or context.use_tz is not None or context.use_l10n is not None
    ):
        return render_value_in_context(value, context)
    if type(value) is str:  # most cells: what `escape` does, without its lazy-text wrapper
        return html.escape(value)
    value = localize(template_localtime(value))
    return conditional_escape(value if isinstance(value, str) else str(value))


def shown_date(value: object, fmt: str | None = None) -> str:
    """`{{ value|date }}` (the language's DATE_FORMAT), or `{{ value|date:"NAME" }}` with `fmt`
    the format string `get_format("NAME")` (read once per table by the caller: the filter reads
    it once per cell); nothing for none or an empty string."""
    if value in (None, ""):
        return ""
    value = template_localtime(value)
    fmt = get_format("DATE_FORMAT") if fmt is None else fmt
    numeric = _numeric_format(fmt) if isinstance(value, date) else None
    if numeric is not None and (isinstance(value, datetime) or not numeric[1]):
        return conditional_escape(numeric[0].format(value))
    return conditional_escape(date_format(value, fmt))


# What Django's `dateformat` writes for its numeric format characters (`DateFormat.d` etc.).
_NUMERIC_DATE = {
    "d": "{0.day:02d}",
    "j": "{0.day}",
    "m": "{0.month:02d}",
    "n": "{0.month}",
    "Y": "{0.year:04d}",
}
_NUMERIC_TIME = {"H": "{0.hour:02d}", "G": "{0.hour}", "i": "{0.minute:02d}", "s": "{0.second:02d}"}


@cache
def _numeric_format(fmt: str) -> tuple[str, bool] | None:
    """A date format made of numbers and punctuation only (such as Dutch "d-m-Y H:i") as a
    `str.format` template giving `dateformat.format`'s text, and whether it shows the time;
    None for any other format (names, am/pm, escapes: those go through `dateformat`)."""
    template, timed = [], False
    for char in fmt:
        if char in _NUMERIC_DATE:
            template.append(_NUMERIC_DATE[char])
        elif char in _NUMERIC_TIME:
            template.append(_NUMERIC_TIME[char])
            timed = True
        elif char.isalpha() or char in "\\{}":
            return None
        else:
            template.append(char)
    return "".join(template), timed
