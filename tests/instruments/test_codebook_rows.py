"""`{% codebook_rows %}` (issue 21) gives the rows the codebook template's loop gave (kept
here as it was): for the shipped instruments' codebook, nl and en, and for rows of every scoring
method, with comparable versions and text to escape."""

from __future__ import annotations

import pytest
from django.template import engines
from django.utils import translation

from instruments import exporting, selectors

LOOP = (
    "{% load i18n %}"
    "{% for r in rows %}<tr><td><code>{{ r.variable }}</code></td><td>{{ r.label }}</td><td>"
    "{{ r.value_labels }}</td><td>{{ r.versions }}</td><td>{% if r.score %}{% with n=r.score.items "
    'm=r.score.min_items %}{% if r.score.method == "sum" %}{% blocktranslate %}sum of {{ n }} '
    'items, at least {{ m }} answered{% endblocktranslate %}{% elif r.score.method == "value" %}'
    "{% blocktranslate %}value of {{ n }} items, at least {{ m }} answered{% endblocktranslate %}"
    '{% elif r.score.method == "share_at_most" %}{% blocktranslate %}share of {{ n }} items at or '
    "below the threshold, at least {{ m }} answered{% endblocktranslate %}{% else %}"
    "{% blocktranslate %}mean of {{ n }} items, at least {{ m }} answered{% endblocktranslate %}"
    "{% endif %}{% endwith %}{% if r.comparable_with %} {% with v=r.comparable_with.0 "
    'others=r.comparable_with.1|join:", v" %}{% blocktranslate %}v{{ v }} comparable with '
    "v{{ others }}{% endblocktranslate %}{% endwith %}{% endif %}{% else %}{{ r.changes }}"
    "{% endif %}</td></tr>{% endfor %}"
)


def _row(**extra) -> dict:
    row = {
        "variable": "x_<1>",
        "label": "Label & 'quote'",
        "value_labels": "1=<ja>; 2=nee",
        "versions": "1, 2",
        "changes": "item <b>added</b> in v2",
        "score": None,
        "comparable_with": None,
    }
    return {**row, **extra}


SYNTHETIC = [
    _row(),
    _row(changes=""),
    *[
        _row(score={"method": method, "items": n, "min_items": 1200}, comparable_with=comparable)
        for method, n in (("sum", 3), ("value", 1), ("share_at_most", 12), ("mean", 5))
        for comparable in (None, (2, [1]), (3, [1, 2]))
    ],
]


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["nl", "en"])
def test_codebook_rows_are_the_loop_rows(language):
    engine = engines["django"]
    with translation.override(language):
        shipped = exporting.codebook(selectors.instrument_version_list(), language=language)
        assert any(r["score"] for r in shipped)
        for rows in (shipped, SYNTHETIC):
            expected = engine.from_string(LOOP).render({"rows": rows})
            got = engine.from_string("{% load codebook_rows %}{% codebook_rows rows %}")
            assert got.render({"rows": rows}) == expected
