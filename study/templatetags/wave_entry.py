"""The rows of the wave entry form written in Python (issue 21): `{% entry_rows group.rows %}`
gives the bytes the template loop gave (its labels, the value and missing-code widgets, the
suggestion with its confirm box, the field's errors and the soft-limit box per indicator), without
a template include, a blocktranslate and a dozen variable lookups per row; `{% survey_rows
form.survey_fields %}` does the same for the survey's rows. Every value goes through `shown`
(study.templatetags.shown), as `{{ }}` does (escaped unless safe, localised), and the words
through gettext as `{% translate %}` / `{% blocktranslate %}` do; the template before these tags
is kept in tests/study/views/reference/ and the test there compares both renderings."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import capfirst
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from study.templatetags.shown import shown

register = template.Library()


@register.simple_tag(takes_context=True)
def entry_rows(context, rows) -> SafeString:
    """What `{% for row in rows %}` gave in study/wave_entry.html, each row starting with a new
    line and two spaces and ending with one (as the loop's text around the row's markup)."""

    def out(value) -> str:
        return shown(value, context)

    # {% translate %} escapes the translation; the words are literals (found by makemessages).
    missing_because = conditional_escape(gettext("Missing because"))
    confirm_word = conditional_escape(gettext("confirm"))
    from_msg = gettext("%(v)s from %(w)s")
    parts: list[str] = []
    for row in rows:
        value, code = row["value"], out(row["indicator"].code)
        errors = value.errors
        suggested_from = row["suggested_from"]
        parts.append(
            f'\n  <div class="entry-row{" has-error" if errors else ""}'
            f'{" suggested" if suggested_from else ""}" id="row-{code}">\n'
            f'    <label for="{out(value.id_for_label)}">{out(capfirst(value.label))} '
            f'<span class="muted range">{out(value.help_text)}</span></label>\n'
            f'    <div class="pair">\n      {out(value)}\n'
            f'      <label class="sr-only" for="{out(row["missing"].id_for_label)}">'
            f"{missing_because}</label>{out(row['missing'])}\n      "
        )
        if suggested_from:
            confirm = row["confirm"]
            badge = from_msg % {"v": out(row["suggested_text"]), "w": out(suggested_from)}
            parts.append(
                f'<label class="suggestion" for="{out(confirm.id_for_label)}">{out(confirm)} '
                f'<span class="badge suggested">{badge}</span> {confirm_word}</label>'
            )
        parts.append("\n    </div>\n    ")
        if errors:  # partials/field_errors.html with field=row.value name=row.indicator.code
            items = "".join(f"<li>{out(e)}</li>" for e in errors)
            parts.append(f'<ul class="errorlist" id="error-{code}">{items}</ul>')
        parts.append("\n\n    ")
        soft = row["soft"]
        if soft:
            parts.append(f'<label class="soft-confirm">{out(soft)} {out(soft.label)}</label>')
        parts.append("\n  </div>\n  ")
    return mark_safe("".join(parts))


@register.simple_tag(takes_context=True)
def survey_rows(context, fields) -> SafeString:
    """What `{% for field in fields %}` gave in study/wave_entry.html's survey fieldset: each
    field's label, widget and (partials/field_errors.html) errors."""
    parts: list[str] = []
    for field in fields:
        errors = field.errors
        parts.append(
            f'\n  <div class="entry-row{" has-error" if errors else ""}">\n'
            f'    <label for="{shown(field.id_for_label, context)}">'
            f"{shown(field.label, context)}</label>{shown(field, context)}\n    "
        )
        if errors:
            items = "".join(f"<li>{shown(e, context)}</li>" for e in errors)
            parts.append(
                f'<ul class="errorlist" id="error-{shown(field.html_name, context)}">{items}</ul>'
            )
        parts.append("\n\n  </div>\n  ")
    return mark_safe("".join(parts))
