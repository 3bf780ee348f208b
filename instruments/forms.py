"""The entry form of an instrument version: one tap group per item with the scale's value
labels and, beside them, the item's missing-data codes."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.utils.translation import gettext_lazy as _

from instruments.definition import Definition, text_in
from study.models import MissingCode

MISSING_PREFIX = "m:"


def missing_label(code: str) -> str:
    try:
        return str(MissingCode(code).label)
    except ValueError:
        return code.replace("_", " ")


class InstrumentForm(forms.Form):
    """Each item is optional: an item left open is not answered (it counts as missing for the
    score's missing-item rule, without a code)."""

    def __init__(
        self,
        *args,
        definition: Definition,
        language: str = "nl",
        initial_answers: Mapping[str, int] | None = None,
        initial_missing: Mapping[str, str] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.definition = definition
        answers, missing = initial_answers or {}, initial_missing or {}
        for item in definition.items:
            choices = [(str(v), text_in(label, language)) for v, label in item.scale.values.items()]
            choices += [(MISSING_PREFIX + c, missing_label(c)) for c in definition.missing_codes]
            initial = answers.get(item.code)
            if initial is None and missing.get(item.code):
                initial = MISSING_PREFIX + missing[item.code]
            self.fields[item.code] = forms.ChoiceField(
                label=text_in(item.text, language),
                choices=choices,
                required=False,
                widget=forms.RadioSelect,
                initial=None if initial is None else str(initial),
            )

    def answers_and_missing(self) -> tuple[dict[str, int], dict[str, str]]:
        answers, missing = {}, {}
        for code in self.definition.item_codes:
            value = self.cleaned_data.get(code) or ""
            if value.startswith(MISSING_PREFIX):
                missing[code] = value.removeprefix(MISSING_PREFIX)
            elif value:
                answers[code] = int(value)
        return answers, missing


class ExitForm(forms.Form):
    password = forms.CharField(
        label=_("Password of the coach or researcher"), widget=forms.PasswordInput, strip=False
    )
