"""`{% field_row field %}`, `{% check_row field %}` and `{% choices_row field %}`: what
`{% include "partials/field.html" with field=... %}`, `{% include "partials/check.html" ... %}`
and `{% include "partials/choices.html" ... %}` give, written in Python (issue 21: an include
costs a template render and a dozen variable lookups per field). Every value goes through `shown`
(study.templatetags.shown), as `{{ }}` does; tests/study/views/test_field_rows.py compares them
with the includes for every field of the forms that use them. Anything but a bound field renders
through the partial itself."""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString, mark_safe

from study.templatetags.shown import shown

register = template.Library()


def _partial(context, name: str, field) -> SafeString:
    partial = context.template.engine.get_template(name)
    with context.push(field=field):
        return partial.render(context)


@register.simple_tag(takes_context=True)
def field_row(context, field) -> SafeString:
    """partials/field.html."""
    if type(field) is not BoundField:
        return _partial(context, "partials/field.html", field)

    def out(value) -> str:
        return shown(value, context)

    errors = field.errors
    help_text = field.help_text
    parts = [
        f'<div class="field{" has-error" if errors else ""}">\n'
        f'  <label for="{out(field.id_for_label)}">{out(field.label)}</label>{out(field)}\n  '
    ]
    if help_text:
        parts.append(f'<small class="muted">{out(help_text)}</small>')
    parts.append("\n  ")
    if errors:
        items = "".join(f"<li>{out(e)}</li>" for e in errors)
        parts.append(f'<ul class="errorlist" id="error-{out(field.html_name)}">{items}</ul>')
    parts.append("\n</div>\n")
    return mark_safe("".join(parts))


@register.simple_tag(takes_context=True)
def check_row(context, field) -> SafeString:
    """partials/check.html."""
    if type(field) is not BoundField:
        return _partial(context, "partials/check.html", field)

    def out(value) -> str:
        return shown(value, context)

    errors = field.errors
    return mark_safe(
        f'<div class="field check{" has-error" if errors else ""}"><label>{out(field)} '
        f"{out(field.label)}</label>{out(errors)}</div>\n"
    )


@register.simple_tag(takes_context=True)
def choices_row(context, field) -> SafeString:
    """partials/choices.html (a field of radio buttons as taps)."""
    if type(field) is not BoundField:
        return _partial(context, "partials/choices.html", field)

    def out(value) -> str:
        return shown(value, context)

    errors = field.errors
    name = out(field.html_name)
    taps = "".join(
        f'<label class="tap">{out(radio.tag())}<span>{out(radio.choice_label)}</span></label>'
        for radio in field
    )
    parts = [
        f'<fieldset class="field taps{" has-error" if errors else ""}" id="fs-{name}">\n'
        f"  <legend>{out(field.label)}</legend>\n"
        f'  <div class="tap-group">{taps}</div>\n  '
    ]
    if errors:
        items = "".join(f"<li>{out(e)}</li>" for e in errors)
        parts.append(f'<ul class="errorlist" id="error-{name}">{items}</ul>')
    parts.append("\n</fieldset>\n")
    return mark_safe("".join(parts))
