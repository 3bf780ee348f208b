"""`study.templatetags.shown`, the one helper of the row tags (page_rows, caseload_rows,
dashboard_rows, field_rows) that shows a value as `{{ value }}` or `{{ value|date }}` does:
the same text as the template engine for every kind of value, in both languages, also in a
context whose autoescape or localization is switched."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils.formats import get_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override

from study.templatetags.shown import shown, shown_date

VALUES = [
    "",
    "plain",
    "a <b> & \"c\" 'd'",
    mark_safe("<i>safe</i>"),
    gettext_lazy("Correct"),
    0,
    1234567,
    -3,
    Decimal("1234.50"),
    1.5,
    True,
    None,
    date(2026, 12, 3),
    datetime(2026, 12, 3, 23, 30, tzinfo=UTC),
    ["<x>", 1],
]


@pytest.mark.parametrize("language", ["nl", "en"])
def test_shown_is_the_template_s_output(language):
    with override(language):
        for value in VALUES:
            assert shown(value) == Template("{{ v }}").render(Context({"v": value})), value
            for options in ({}, {"autoescape": False}, {"use_l10n": False}, {"use_tz": False}):
                context = Context({"v": value}, **options)
                expected = Template("{{ v }}").render(Context({"v": value}, **options))
                assert shown(value, context) == expected, (value, options)
            for name in (None, "DATETIME_FORMAT", "SHORT_DATE_FORMAT"):
                source = "{{ v|date }}" if name is None else f'{{{{ v|date:"{name}" }}}}'
                fmt = None if name is None else get_format(name)
                dated = isinstance(value, datetime if name == "DATETIME_FORMAT" else date)
                if dated or value in (None, ""):
                    expected = Template(source).render(Context({"v": value}))
                    assert shown_date(value, fmt) == expected, (value, name)


FORMATS = [
    "d-m-Y H:i",
    "j-n-Y G:i:s",
    "Y/m/d",
    "d.m.Y",
    "H:i",
    "j F Y",
    "N j, Y, P",
    r"\d d",
    "d {m} Y",
    "Y-m-d & <H>",
    "d-m-y",
    "é d",
]
DATES = [
    date(2026, 1, 5),
    date(5, 12, 31),
    datetime(2026, 3, 29, 0, 5, 9),  # noqa: DTZ001 - a naive datetime is shown too
    datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
]


@pytest.mark.parametrize("language", ["nl", "en"])
def test_shown_date_is_the_date_filter_s_output_for_any_format(language):
    """The numeric formats are written without `dateformat` (`shown._numeric_format`): the
    same text as the filter, for dates and naive and aware datetimes (also around the clock
    change); a date with a time format fails as the filter does."""
    with override(language):
        for fmt in FORMATS:
            for value in DATES:
                template = Template("{{ v|date:f }}")
                if type(value) is date and any(c in fmt for c in "HGisP"):
                    with pytest.raises(TypeError):
                        shown_date(value, fmt)
                    continue
                expected = template.render(Context({"v": value, "f": fmt}))
                assert shown_date(value, fmt) == expected, (fmt, value)
