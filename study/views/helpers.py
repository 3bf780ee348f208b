"""What the study pages share: access guards and putting a service's errors on a form."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.functions import Lower
from django.urls import reverse

from study import access
from study.models import CareCatalogueEntry, Family


def require_family_right(user, family: Family, right: access.Right) -> None:
    """403 unless the user holds `right` for this family (callers look the family up through a
    selector first, so a family outside the user's scope is a 404 before this)."""
    if not access.family_has_right(user, family, right):
        raise PermissionDenied


def require_held(rights: set[access.Right], right: access.Right) -> None:
    """403 unless `right` is among the family's rights already read (`family_get_with_rights`,
    `wave_get_with_rights`): `require_family_right` without asking again."""
    if right not in rights:
        raise PermissionDenied


def require_study_right(user, study, right: access.Right) -> None:
    if not access.has_right(user, study, right):
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


def care_lists(study) -> dict[str, list[str]]:
    """The names of the study's coded list of care workers, for the forms' search lists."""
    kinds = CareCatalogueEntry.Kind
    # Both lists in one query, in `care_catalogue.listed`'s order (by name, any case).
    names: dict[str, list[str]] = {kinds.ORGANISATION: [], kinds.DISCIPLINE: []}
    for kind, name in (
        CareCatalogueEntry.objects.filter(
            study=study, kind__in=list(names), merged_into__isnull=True
        )
        .order_by(Lower("name"))
        .values_list("kind", "name")
    ):
        names[kind].append(name)
    return {"organisations": names[kinds.ORGANISATION], "disciplines": names[kinds.DISCIPLINE]}


def url_maker(name: str):
    """pk -> the URL of a route with one integer argument, reversed once (not once per row or
    cell of a long table)."""
    marker = 7_654_321_987
    prefix, suffix = reverse(name, args=[marker]).split(str(marker))
    return lambda pk: f"{prefix}{pk}{suffix}"
