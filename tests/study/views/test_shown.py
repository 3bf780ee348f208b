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
