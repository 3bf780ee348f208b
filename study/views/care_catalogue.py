"""The study's coded list of care workers (data managers): search it, add names, merge
duplicates and code the names typed as "anders" (other), each with a reason, audited."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from study import access, selectors
from study.models import CareCatalogueEntry, CareInvolvement
from study.services import care_catalogue
from study.views.helpers import require_study_right

Kind = CareCatalogueEntry.Kind


class _ListedChoices(forms.models.ModelChoiceIterator):
    """A choice field's options from the list the page read once (`field.listed_rows`), not a
    query per field: the merge and code forms show the same listed entries three times."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.field.listed_rows:
            yield self.choice(obj)

    def __len__(self):
        return len(self.field.listed_rows) + (self.field.empty_label is not None)

    def __bool__(self):
        return self.field.empty_label is not None or bool(self.field.listed_rows)


def _show_listed(form: forms.Form, names: tuple[str, ...], rows: list) -> forms.Form:
    """A form to show (not to validate) whose choice fields offer `rows`."""
    for name in names:
        field = form.fields[name]
        field.listed_rows = rows  # type: ignore[attr-defined]
        field.iterator = _ListedChoices  # type: ignore[attr-defined]
        field.widget.choices = field.choices  # type: ignore[attr-defined]
    return form


class AddForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=150)


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(
        label=gettext_lazy("Keep"), queryset=CareCatalogueEntry.objects.none()
    )
    sources = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Merge into it"),
        queryset=CareCatalogueEntry.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300)

    def __init__(self, *args, listed, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = listed
        self.fields["sources"].queryset = listed


class CodeForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Typed as"), max_length=150)
    target = forms.ModelChoiceField(
        label=gettext_lazy("Code as"), queryset=CareCatalogueEntry.objects.none()
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300)

    def __init__(self, *args, listed, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = listed


def _add(request, study, kind: str, data: dict) -> str:
    entry = care_catalogue.care_catalogue_add(
        study=study, kind=kind, name=data["name"], user=request.user
    )
    return _("“%(name)s” is on the list.") % {"name": entry.name}


def _merge(request, study, kind: str, data: dict) -> str:
    moved = care_catalogue.care_catalogue_merge(
        study=study,
        sources=list(data["sources"]),
        target=data["target"],
        reason=data["reason"],
        user=request.user,
    )
    return _("Merged into “%(name)s”; %(n)d care workers moved.") % {
        "name": data["target"].name,
        "n": moved,
    }


def _code(request, study, kind: str, data: dict) -> str:
    coded = care_catalogue.care_other_code(
        study=study,
        kind=kind,
        name=data["name"],
        target=data["target"],
        reason=data["reason"],
        user=request.user,
    )
    return _("%(n)d care workers coded as “%(name)s”.") % {"n": coded, "name": data["target"].name}


ACTIONS = {"add": (AddForm, _add), "merge": (MergeForm, _merge), "code": (CodeForm, _code)}


def _post(request, study, kind: str, listed) -> str | None:
    """Carry out the posted action; the success message, or None after errors (as messages)."""
    action = ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        messages.error(request, _("Unknown action."))
        return None
    form_class, run = action
    form = (
        form_class(request.POST)
        if form_class is AddForm
        else form_class(request.POST, listed=listed)
    )
    errors: list[str] = []
    if form.is_valid():
        try:
            return run(request, study, kind, form.cleaned_data)
        except ValidationError as exc:
            errors = exc.messages
    else:
        errors = [e for field_errors in form.errors.values() for e in field_errors]
    for error in errors:
        messages.error(request, error)
    return None


@login_required
def care_catalogue_page(request: HttpRequest, study_id: int) -> HttpResponse:
    study = selectors.study_get(request.user, study_id)
    require_study_right(request.user, study, access.Right.DATA_CORRECT)
    kind = request.GET.get("kind", Kind.ORGANISATION)
    if kind not in Kind.values:
        kind = Kind.ORGANISATION
    entry_field = care_catalogue.FIELDS[kind][1]
    listed = CareCatalogueEntry.objects.filter(study=study, kind=kind, merged_into__isnull=True)
    if request.method == "POST":
        done = _post(request, study, kind, listed)
        if done:
            messages.success(request, done)
        return redirect(f"{request.path}?kind={kind}")
    q = request.GET.get("q", "").strip()
    found = care_catalogue.search(study, kind, q)
    in_use = dict(
        CareInvolvement.objects.alive()
        .filter(**{f"{entry_field}__in": found})
        .values_list(entry_field)
        .annotate(n=Count("pk"))
    )
    aliases = dict(
        CareCatalogueEntry.objects.filter(study=study, kind=kind, merged_into__in=found)
        .values_list("merged_into")
        .annotate(n=Count("pk"))
    )
    entries = [
        {"entry": e, "count": in_use.get(e.pk, 0), "aliases": aliases.get(e.pk, 0)} for e in found
    ]
    rows = list(listed)  # the merge and code forms' choices, read once
    context = {
        "study": study,
        "kind": kind,
        "kinds": Kind.choices,
        "q": q,
        "entries": entries,
        "others": care_catalogue.other_names(study, kind),
        "add_form": AddForm(),
        "merge_form": _show_listed(MergeForm(listed=listed), ("target", "sources"), rows),
        "code_form": _show_listed(CodeForm(listed=listed), ("target",), rows),
    }
    return render(request, "study/care_catalogue.html", context)
