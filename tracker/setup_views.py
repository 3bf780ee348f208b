"""The page that sets up a new study (the installation administrator, or a data manager of a
study): a guided form; the study, its arms, the creator's data-manager membership and the
research questions are made in one transaction (`tracker.setup.study_set_up`)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from study import setup_forms
from study.services.studies import may_create_study
from study.views.helpers import add_service_errors
from tracker.setup import study_set_up


@login_required
def study_new(request: HttpRequest) -> HttpResponse:
    if not may_create_study(request.user):
        raise PermissionDenied
    form = setup_forms.StudySetUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            study = study_set_up(
                name=data["name"],
                municipality_code=data["municipality_code"],
                start_date=data["start_date"],
                intervention_name=data["intervention_name"],
                comparison_name=data["comparison_name"],
                acknowledge_warnings=data["acknowledge_warnings"],
                user=request.user,
                data_manager=request.user,
                **form.options(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Study %(name)s is set up.") % {"name": study.name})
            return redirect("study:study_detail", study.pk)
    status = 400 if form.errors else 200
    return render(request, "study/study_new.html", {"form": form}, status=status)
