"""Data-entry pages: wave entry, enrolment, contacts, care workers, due waves, surveys.

Thin views: look the object up through the selectors (404 outside the user's scope), check the
role, let a form parse the input, call one service and show its errors next to the fields.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from study import forms, selectors, services
from study.access_log import access_event_record
from study.catalogue import indicators_for
from study.models import CareInvolvement, Professional, ProfessionalSurvey, Wave
from study.roles import Role, is_data_manager, is_researcher, is_wijkcoach


def _require_registry_role(user) -> None:
    # Registry values are for researchers and data managers; a wijkcoach never sees them.
    if not (is_researcher(user) or is_data_manager(user)):
        raise PermissionDenied


def _require_coach(user) -> None:
    if not is_wijkcoach(user):
        raise PermissionDenied


# --- wave entry ----------------------------------------------------------------------------


@login_required
def wave_entry(request: HttpRequest, wave_id: int) -> HttpResponse:
    wave = selectors.wave_get(request.user, wave_id)
    _require_registry_role(request.user)
    family = wave.family
    access_event_record(user=request.user, action="wave.view", family=family, detail=wave.label)
    start = selectors.wave_entry_values(wave)
    form = forms.WaveEntryForm(
        request.POST if request.method == "POST" else None,
        indicators=indicators_for(family.study),
        current=start["current"],
        suggestions=start["suggestions"],
        with_survey=not wave.is_pre_intake,
        read_only=wave.locked,
        initial=start["survey"],
    )
    if request.method == "POST" and not wave.locked and form.is_valid():
        try:
            outcome = services.wave_entry_record(
                wave=wave,
                values=form.indicator_values(),
                survey=form.survey_data(),
                user=request.user,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                _("Saved %(wave)s: %(new)d new, %(changed)d changed, %(same)d unchanged.")
                % {
                    "wave": wave.label,
                    "new": outcome.created,
                    "changed": outcome.updated,
                    "same": outcome.unchanged,
                },
            )
            if request.POST.get("then") == "family":
                return redirect("study:family_detail", family.pk)
            return redirect("study:wave_entry", wave.pk)
    elif request.method == "POST" and wave.locked:
        messages.error(request, _("This wave is locked; nothing was saved."))
    waves = list(family.waves.alive().order_by("index"))
    context = {
        "wave": wave,
        "family": family,
        "form": form,
        "waves": waves,
        "has_errors": form.is_bound and bool(form.errors),
        "complete_form": forms.WaveCompleteForm(initial={"completed_date": timezone.localdate()}),
        "missed_form": forms.WaveMissedForm(),
        "unlock_form": forms.WaveUnlockForm(),
        "may_unlock": is_data_manager(request.user),
    }
    return render(request, "study/wave_entry.html", context, status=400 if form.errors else 200)


def _wave_action(request: HttpRequest, wave_id: int, action) -> HttpResponse:
    wave = selectors.wave_get(request.user, wave_id)
    _require_registry_role(request.user)
    try:
        message = action(wave)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.success(request, message)
    return redirect("study:wave_entry", wave.pk)


def _form_or_error(form) -> dict:
    if not form.is_valid():
        raise ValidationError(
            [f"{form.fields[name].label}: {' '.join(errs)}" for name, errs in form.errors.items()]
        )
    return form.cleaned_data


@login_required
@require_POST
def wave_complete(request: HttpRequest, wave_id: int) -> HttpResponse:
    def action(wave: Wave) -> str:
        data = _form_or_error(forms.WaveCompleteForm(request.POST))
        services.wave_complete(wave=wave, on=data["completed_date"], user=request.user)
        return _("%(wave)s marked as completed.") % {"wave": wave.label}

    return _wave_action(request, wave_id, action)


@login_required
@require_POST
def wave_missed(request: HttpRequest, wave_id: int) -> HttpResponse:
    def action(wave: Wave) -> str:
        data = _form_or_error(forms.WaveMissedForm(request.POST))
        services.wave_mark_missed(wave=wave, reason=data["missed_reason"], user=request.user)
        return _("%(wave)s marked as missed.") % {"wave": wave.label}

    return _wave_action(request, wave_id, action)


@login_required
@require_POST
def wave_lock(request: HttpRequest, wave_id: int) -> HttpResponse:
    def action(wave: Wave) -> str:
        services.wave_lock(wave=wave, user=request.user)
        return _("%(wave)s is locked.") % {"wave": wave.label}

    return _wave_action(request, wave_id, action)


@login_required
@require_POST
def wave_unlock(request: HttpRequest, wave_id: int) -> HttpResponse:
    if not is_data_manager(request.user):
        selectors.wave_get(request.user, wave_id)  # 404 before 403 outside the user's scope
        raise PermissionDenied

    def action(wave: Wave) -> str:
        data = _form_or_error(forms.WaveUnlockForm(request.POST))
        services.wave_unlock(wave=wave, reason=data["reason"], user=request.user)
        return _("%(wave)s is unlocked.") % {"wave": wave.label}

    return _wave_action(request, wave_id, action)


# --- enrolment -----------------------------------------------------------------------------


@login_required
def family_enrol(request: HttpRequest, study_id: int) -> HttpResponse:
    study = selectors.study_get(request.user, study_id)
    if not selectors.study_role(request.user, study) & {Role.RESEARCHER, Role.DATA_MANAGER}:
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    form = forms.EnrolForm(data, initial={"intake_date": timezone.localdate()})
    members = forms.MemberFormSet(data, prefix="members")
    member_errors: list[str] = []
    if request.method == "POST" and form.is_valid() and members.is_valid():
        specs = [
            services.MemberSpec(m["role"], m["birth_year"], m.get("relation", ""))
            for m in members.cleaned_data
            if m and not m.get("DELETE")
        ]
        try:
            family = services.family_enrol(
                study=study,
                arm_kind=form.cleaned_data["arm"],
                intake_date=form.cleaned_data["intake_date"],
                allocation=form.cleaned_data["allocation"],
                eligibility=form.eligibility(),
                members=specs,
                wijk=form.cleaned_data["wijk"],
                identifier=form.cleaned_data["identifier"] or None,
                user=request.user,
            )
        except ValidationError as exc:
            member_errors = form.add_service_errors(exc)
        else:
            messages.success(
                request, _("Family %(pseudonym)s enrolled.") % {"pseudonym": family.pseudonym}
            )
            return redirect("study:family_detail", family.pk)
    context = {"study": study, "form": form, "members": members, "member_errors": member_errors}
    invalid = request.method == "POST"
    return render(request, "study/family_enrol.html", context, status=400 if invalid else 200)


# --- wijkcoach -----------------------------------------------------------------------------


@login_required
def contact_new(request: HttpRequest, family_id: int) -> HttpResponse:
    family = selectors.family_get(request.user, family_id)
    _require_coach(request.user)
    form = forms.ContactForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_log(family=family, coach=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request, _("Contact with %(pseudonym)s logged.") % {"pseudonym": family.pseudonym}
            )
            return redirect("study:caseload")
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request, "study/contact_form.html", {"family": family, "form": form}, status=status
    )


def _add_errors(form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, texts in exc.message_dict.items():
        for text in texts:
            form.add_error(key if key in form.fields else None, text)


@login_required
def care_workers(request: HttpRequest, family_id: int) -> HttpResponse:
    family = selectors.family_get(request.user, family_id)
    access_event_record(user=request.user, action="family.care_workers", family=family)
    form = forms.InvolvementForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.care_involvement_add(family=family, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Care worker added."))
            return redirect("study:care_workers", family.pk)
    context = {
        "family": family,
        "form": form,
        "involvements": list(family.care_involvements.alive().order_by("-start_date")),
        "end_form": forms.InvolvementEndForm(initial={"end_date": timezone.localdate()}),
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "study/care_workers.html", context, status=status)


@login_required
@require_POST
def care_involvement_end(request: HttpRequest, involvement_id: int) -> HttpResponse:
    involvement = (
        CareInvolvement.objects.alive()
        .filter(family__in=selectors.family_list(request.user), pk=involvement_id)
        .select_related("family")
        .first()
    )
    if involvement is None:
        raise Http404
    form = forms.InvolvementEndForm(request.POST)
    try:
        data = _form_or_error(form)
        services.care_involvement_end(
            involvement=involvement, end_date=data["end_date"], user=request.user
        )
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.success(request, _("Involvement of %(org)s ended.") % {"org": involvement})
    return redirect("study:care_workers", involvement.family_id)


@login_required
def waves_due(request: HttpRequest) -> HttpResponse:
    waves = selectors.waves_due_list(request.user)
    return render(
        request,
        "study/waves_due.html",
        {"waves": waves, "may_enter": is_researcher(request.user) or is_data_manager(request.user)},
    )


# --- professionals -------------------------------------------------------------------------


@login_required
def professional_survey(request: HttpRequest) -> HttpResponse:
    professionals = list(
        Professional.objects.alive().filter(user=request.user).select_related("study")
    )
    if not professionals:
        return render(request, "study/professional_survey.html", {"professional": None})
    chosen = request.GET.get("professional") or request.POST.get("professional")
    professional = next((p for p in professionals if str(p.pk) == chosen), professionals[0])
    year = timezone.localdate().year
    done = ProfessionalSurvey.objects.alive().filter(professional=professional)
    existing = done.filter(year=year).first()
    initial = {"year": year}
    if existing is not None:
        initial.update({name: getattr(existing, name) for name in ProfessionalSurvey.SCALES})
    form = forms.ProfessionalSurveyForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.professional_survey_record(
                professional=professional,
                year=form.cleaned_data["year"],
                answers=form.answers(),
                user=request.user,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
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
        "professionals": professionals,
        "form": form,
        "years_done": sorted(done.values_list("year", flat=True)),
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "study/professional_survey.html", context, status=status)
