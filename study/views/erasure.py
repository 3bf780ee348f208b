"""Erasing a withdrawn family's values (data managers, verified session): the study's list of
families that may be erased with the state of each erasure, and one family's erasure in two
steps (reason and the typed pseudonym, then the confirmation of what will be erased)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from study import access, selectors
from study.access_log import family_read
from study.models import Family, FamilyErasure
from study.services import erasure as erasure_services
from study.views.helpers import add_service_errors, require_study_right
from tracker.twofactor import second_factor_passed


class ErasureForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for the erasure"), widget=forms.Textarea(attrs={"rows": 2})
    )
    typed_pseudonym = forms.CharField(
        label=gettext_lazy("Type the family's pseudonym to confirm"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    confirmed = forms.BooleanField(
        label=gettext_lazy("I understand that the values cannot be restored."), required=False
    )


def _erasable_families(user, study):
    require_study_right(user, study, access.Right.DATA_CORRECT)
    return Family.objects.withdrawn_removed().filter(study=study).order_by("pseudonym")


@login_required
def erasure_list(request: HttpRequest, study_id: int) -> HttpResponse:
    study = selectors.study_get(request.user, study_id)
    families = list(_erasable_families(request.user, study))
    erasures = {e.family_id: e for e in FamilyErasure.objects.filter(family__in=families)}
    family_read(request, action="erasure.list", families=families, study=study)
    rows = [{"family": f, "erasure": erasures.get(f.pk)} for f in families]
    return render(request, "study/erasure_list.html", {"study": study, "rows": rows})


@login_required
def family_erase(request: HttpRequest, family_id: int) -> HttpResponse:
    family = (
        Family.objects.withdrawn_removed()
        .filter(
            pk=family_id, study__in=access.studies_with(request.user, access.Right.DATA_CORRECT)
        )
        .select_related("study")
        .first()
    )
    if family is None:
        raise Http404
    family_read(request, action="family.erase", families=family)
    done = FamilyErasure.objects.filter(family=family).first()
    form = ErasureForm(request.POST if request.method == "POST" else None)
    step = request.POST.get("step", "")
    confirming = False
    if request.method == "POST" and form.is_valid() and done is None:
        data = form.cleaned_data
        if step == "check":
            confirming = data["typed_pseudonym"].strip() == family.pseudonym
            if not confirming:
                form.add_error("typed_pseudonym", _("Type the family's pseudonym exactly."))
        else:
            try:
                requested = erasure_services.family_erasure_request(
                    family=family,
                    reason=data["reason"],
                    typed_pseudonym=data["typed_pseudonym"],
                    confirmed=data["confirmed"],
                    user=request.user,
                    second_factor=second_factor_passed(request),
                )
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                add_service_errors(form, exc)
                confirming = True
            else:
                _carry_out(request, requested)
                return redirect("study:family_erase", family.pk)
    context = {
        "family": family,
        "study": family.study,
        "form": form,
        "confirming": confirming,
        "erasure": done,
        "preview": erasure_services.erasure_preview(family),
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "study/family_erase.html", context, status=status)


def _carry_out(request: HttpRequest, requested: FamilyErasure) -> None:
    try:
        erasure_services.family_erasure_execute(erasure=requested, user=request.user)
    except erasure_services.AuditRewriteRefused:
        messages.warning(
            request,
            _(
                "The erasure is requested. This database lets only its owner rewrite the "
                "history: an operator carries it out with “manage.py erase_family --erasure "
                "%(id)s” as the database's owner role."
            )
            % {"id": requested.pk},
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The family's values are erased; the history is sealed again."))
