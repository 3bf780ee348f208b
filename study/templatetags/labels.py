"""Words for codes, from the one place each is defined (the models' choices and catalogues),
never `str(code)` on a page: `{{ family.status|family_status }}` → "gestopt",
`{{ code|missing_reason }}` → "niet aangeleverd", `{{ kind|arm_kind }}` → "vergelijkingsgroep".
A code without a label shows as itself (so a new code is visible, not hidden)."""

from __future__ import annotations

from django import template

register = template.Library()


def _label(choices, code) -> str:
    return str(dict(choices).get(code, code))


@register.filter
def family_status(code: str) -> str:
    from study.models import Family

    return _label(Family.Status.choices, code)


@register.filter
def missing_reason(code: str) -> str:
    from study.models import MissingCode

    return _label(MissingCode.choices, code)


@register.filter
def arm_kind(code: str) -> str:
    from study.models import Arm

    return _label(Arm.Kind.choices, code)


@register.filter
def value_or_reason(text) -> str:
    """A stored value as text ("459.14") in the reader's number format, or a missing-data code
    ("not_delivered") as its words; anything else as it is."""
    from decimal import Decimal, InvalidOperation

    from django.utils.formats import get_format

    from study.models import MissingCode

    if text is None or text == "":
        return ""
    if text in MissingCode.values:
        return str(MissingCode(text).label)
    try:
        Decimal(str(text))
    except InvalidOperation:
        return str(text)
    return str(text).replace(".", str(get_format("DECIMAL_SEPARATOR")))


@register.filter
def role_name(code: str) -> str:
    """A per-study role's name (study.roles.Role), e.g. "wijkcoach"."""
    from study.roles import Role

    return _label(Role.choices, code)
