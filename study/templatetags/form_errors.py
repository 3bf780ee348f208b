"""The error summary every form shares: each error with a link to its field."""

from __future__ import annotations

from django import forms, template
from django.core.exceptions import NON_FIELD_ERRORS

register = template.Library()


@register.filter
def error_links(form: forms.BaseForm) -> list[dict]:
    """[{"label", "href", "messages"}] for the form's errors, in field order (errors not tied to
    a field first, without a link)."""
    if not form.is_bound or not form.errors:
        return []
    items = []
    if NON_FIELD_ERRORS in form.errors:
        items.append({"label": "", "href": "", "messages": list(form.errors[NON_FIELD_ERRORS])})
    for name in form.fields:
        if name in form.errors:
            bound = form[name]
            items.append(
                {
                    "label": bound.label,
                    "href": f"#{bound.id_for_label or 'id_' + name}",
                    "messages": list(form.errors[name]),
                }
            )
    return items
