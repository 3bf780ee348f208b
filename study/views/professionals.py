"""The professionals' own page: their yearly survey."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from study import forms, selectors
from study.services.professionals import professional_survey_record
from study.views.helpers import add_service_errors


@login_required
def professional_survey(request: HttpRequest) -> HttpResponse:
    chosen = request.GET.get("professional") or request.POST.get("professional")
    start = selectors.professional_survey_start(
        request.user, chosen=chosen, year=timezone.localdate().year
    )
    if start is None:
        return render(request, "study/professional_survey.html", {"professional": None})
    professional = start.professional
    form = forms.ProfessionalSurveyForm(
        request.POST if request.method == "POST" else None, initial=start.initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            professional_survey_record(
                professional=professional,
                year=form.cleaned_data["year"],
                answers=form.answers(),
                user=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Thank you: your answers for %(year)s are saved.")
                % {"year": form.cleaned_data["year"]},
            )
            return redirect(
                f"{reverse('study:professional_survey')}?professional={professional.pk}"
            )
    context = {
        "professional": professional,
        "professionals": start.professionals,
        "form": form,
        "years_done": start.years_done,
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "study/professional_survey.html", context, status=status)
