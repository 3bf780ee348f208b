"""Correcting or removing recorded data with a reason: a contact, a care involvement, a family.
Who may is the rule of `study.access.may_correct` (applied by the services)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from study import access, forms, selectors
from study.access_log import family_read
from study.services import corrections
from study.services.families import family_soft_delete
from study.views.helpers import add_service_errors, care_lists, require_family_right

_CONTACT_FIELDS = corrections.CONTACT_FIELDS


def _correct_page(
    request: HttpRequest,
    *,
    form: forms.forms.Form,
    title: str,
    save: Callable[[dict, str], None],
    remove: Callable[[str], None] | None,
    done: str,
    back: str,
) -> HttpResponse:
    if request.method == "POST":
        removing = request.POST.get("action") == "remove" and remove is not None
        if removing:
            # Removing needs the reason only, not a valid correction.
            reason_form = forms.ReasonForm(request.POST)
            if reason_form.is_valid():
                try:
                    remove(reason_form.cleaned_data["reason"])
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    messages.success(request, _("Removed, with your reason, in the history."))
                    return redirect(back)
            else:
                form.is_valid()
                for error in reason_form.errors.get("reason", []):
                    form.add_error("reason", error)
        elif form.is_valid():
            data = dict(form.cleaned_data)
            reason = data.pop("reason")
            try:
                save(data, reason)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, done)
                return redirect(back)
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "title": title, "back": back, "may_remove": remove is not None}
    return render(request, "study/correct.html", context, status=status)


@login_required
def contact_correct(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact, rights = selectors.contact_get_with_rights(request.user, contact_id)
    family = contact.family
    if not access.may_correct(
        request.user,
        family,
        recorded_by_id=contact.coach_id,
        right=access.Right.CONTACT_LOG,
        rights=rights,
    ):
        raise PermissionDenied
    family_read(request, action="contact.correct", families=family, scope=f"id={contact.pk}")
    initial = {f: getattr(contact, f) for f in _CONTACT_FIELDS}
    initial["occurred_at"] = timezone.localtime(contact.occurred_at)
    form = forms.ContactCorrectForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
    form.fields["occurred_at"].initial = initial["occurred_at"]
    form.fields["initiated_by"].initial = contact.initiated_by
    if access.note_view(request.user, contact, rights=rights) != access.NoteView.FULL:
        # Only the note's own coach corrects its text: others do not read it (in full).
        for name in ("note", "note_private"):
            form.fields.pop(name, None)
            initial.pop(name, None)
    return _correct_page(
        request,
        form=form,
        title=_("Correct the contact of %(date)s with %(family)s")
        % {
            "date": date_format(initial["occurred_at"], "DATETIME_FORMAT"),
            "family": family.pseudonym,
        },
        save=lambda data, reason: corrections.contact_correct(
            contact=contact, changes=data, reason=reason, user=request.user
        ),
        remove=lambda reason: corrections.contact_soft_delete(
            contact=contact, reason=reason, user=request.user
        ),
        done=_("Contact corrected."),
        back=f"/families/{family.pk}/",
    )


@login_required
def care_involvement_correct(request: HttpRequest, involvement_id: int) -> HttpResponse:
    involvement = selectors.care_involvement_get(request.user, involvement_id)
    family = involvement.family
    if not access.may_correct(
        request.user,
        family,
        recorded_by_id=involvement.recorded_by_id,
        right=access.Right.CARE_WRITE,
    ):
        raise PermissionDenied
    family_read(request, action="care.correct", families=family, scope=f"id={involvement.pk}")
    form = forms.InvolvementCorrectForm(
        request.POST if request.method == "POST" else None,
        initial={
            "organisation": involvement.organisation,
            "discipline": involvement.discipline,
            "start_date": involvement.start_date,
            "end_date": involvement.end_date,
            "organisation_other": involvement.organisation_entry_id is None,
            "discipline_other": involvement.discipline_entry_id is None,
        },
        **care_lists(family.study),
    )
    return _correct_page(
        request,
        form=form,
        title=_("Correct the care worker %(who)s of %(family)s")
        % {"who": involvement, "family": family.pseudonym},
        save=lambda data, reason: corrections.care_involvement_correct(
            involvement=involvement, changes=data, reason=reason, user=request.user
        ),
        remove=lambda reason: corrections.care_involvement_soft_delete(
            involvement=involvement, reason=reason, user=request.user
        ),
        done=_("Care worker corrected."),
        back=f"/families/{family.pk}/care-workers/",
    )


@login_required
def family_remove(request: HttpRequest, family_id: int) -> HttpResponse:
    """A data manager removes a family entered in error (soft delete, with a reason)."""
    family = selectors.family_get(request.user, family_id)
    require_family_right(request.user, family, access.Right.DATA_CORRECT)
    family_read(request, action="family.remove", families=family)
    form = forms.ReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            family_soft_delete(family=family, reason=form.cleaned_data["reason"], user=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Family %(p)s removed; it stays in the history.") % {"p": family.pseudonym},
            )
            return redirect("study:study_detail", family.study_id)
    context = {
        "form": form,
        "title": _("Remove family %(p)s") % {"p": family.pseudonym},
        "back": f"/families/{family.pk}/",
        "may_remove": False,
        "remove_only": True,
    }
    return render(request, "study/correct.html", context, status=400 if form.errors else 200)
