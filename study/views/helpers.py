"""What the study pages share: role guards and putting a service's errors on a form."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError

from study.roles import is_data_manager, is_researcher, is_wijkcoach


def require_registry_role(user) -> None:
    # Registry values are for researchers and data managers; a wijkcoach never sees them.
    if not (is_researcher(user) or is_data_manager(user)):
        raise PermissionDenied


def require_coach(user) -> None:
    if not is_wijkcoach(user):
        raise PermissionDenied


def cleaned_or_error(form: forms.Form) -> dict:
    """The form's cleaned data, or a ValidationError listing each field's errors."""
    if not form.is_valid():
        raise ValidationError(
            [f"{form.fields[name].label}: {' '.join(errs)}" for name, errs in form.errors.items()]
        )
    return form.cleaned_data


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's errors next to their fields (the rest at the top of the form)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, texts in exc.message_dict.items():
        for text in texts:
            form.add_error(key if key in form.fields else None, text)
