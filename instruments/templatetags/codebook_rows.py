"""`{% codebook_rows rows %}`: the rows of the instrument codebook page written in Python
(issue 21), the bytes the template loop gave without a with/if/blocktranslate per row. Values go
through `render_value_in_context` as `{{ }}` does, the rule words through gettext with the
msgids the template had; tests/instruments/test_codebook_rows.py compares with the loop."""

from __future__ import annotations

from django import template
from django.template.base import render_value_in_context
from django.template.defaultfilters import join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

register = template.Library()


def _rule(method: str) -> str:
    if method == "sum":
        return gettext("sum of %(n)s items, at least %(m)s answered")
    if method == "value":
        return gettext("value of %(n)s items, at least %(m)s answered")
    if method == "share_at_most":
        return gettext("share of %(n)s items at or below the threshold, at least %(m)s answered")
    return gettext("mean of %(n)s items, at least %(m)s answered")


@register.simple_tag(takes_context=True)
def codebook_rows(context, rows) -> SafeString:
    """What `{% for r in rows %}<tr>...</tr>{% endfor %}` gave in instruments/codebook.html."""

    def out(value) -> str:
        return render_value_in_context(value, context)

    parts = []
    for r in rows:
        score = r["score"]
        if score:
            last = _rule(score["method"]) % {"n": out(score["items"]), "m": out(score["min_items"])}
            comparable = r["comparable_with"]
            if comparable:
                others = join(comparable[1], mark_safe(", v"), autoescape=True)
                last += " " + gettext("v%(v)s comparable with v%(others)s") % {
                    "v": out(comparable[0]),
                    "others": out(others),
                }
        else:
            last = out(r["changes"])
        parts.append(
            f"<tr><td><code>{out(r['variable'])}</code></td><td>{out(r['label'])}</td>"
            f"<td>{out(r['value_labels'])}</td><td>{out(r['versions'])}</td><td>{last}</td></tr>"
        )
    return mark_safe("".join(parts))
