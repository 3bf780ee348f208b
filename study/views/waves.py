"""Wave pages: the wave entry form (values and survey), its actions (complete, missed, lock,
unlock) and the list of due waves."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from study import access, forms, selectors
from study.access_log import family_read
from study.catalogue import indicators_for
from study.models import Wave
from study.services import waves as wave_services
from study.services.values import RecordOutcome
from study.views.helpers import cleaned_or_error, require_family_right


def _saved_message(wave: Wave, outcome: RecordOutcome) -> str:
    return _("Saved %(wave)s: %(new)d new, %(changed)d changed, %(same)d unchanged.") % {
        "wave": wave.label,
        "new": outcome.created,
        "changed": outcome.updated,
        "same": outcome.unchanged,
    }


def _entry_form(request: HttpRequest, wave: Wave) -> forms.WaveEntryForm:
    start = selectors.wave_entry_values(wave)
    return forms.WaveEntryForm(
        request.POST if request.method == "POST" else None,
        indicators=indicators_for(wave.family.study),
        current=start["current"],
        suggestions=start["suggestions"],
        with_survey=not wave.is_pre_intake,
        read_only=wave.locked,
        initial=start["survey"],
    )


@login_required
def wave_entry(request: HttpRequest, wave_id: int) -> HttpResponse:
    wave = selectors.wave_get(request.user, wave_id)
    family = wave.family
    # Registry values are research data: a wijkcoach's caseload never opens them.
    require_family_right(request.user, family, access.Right.RESEARCH_READ)
    if request.method == "POST":
        require_family_right(request.user, family, access.Right.RESEARCH_WRITE)
    family_read(request, action="wave.view", families=family, detail=wave.label)
    form = _entry_form(request, wave)
    if request.method == "POST" and not wave.locked and form.is_valid():
        try:
            outcome = wave_services.wave_entry_record(
                wave=wave,
                values=form.indicator_values(),
                survey=form.survey_data(),
                user=request.user,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _saved_message(wave, outcome))
            if request.POST.get("then") == "family":
                return redirect("study:family_detail", family.pk)
            return redirect("study:wave_entry", wave.pk)
    elif request.method == "POST" and wave.locked:
        messages.error(request, _("This wave is locked; nothing was saved."))
    context = {
        "wave": wave,
        "family": family,
        "form": form,
        "waves": selectors.family_wave_list(family),
        "has_errors": form.is_bound and bool(form.errors),
        "complete_form": forms.WaveCompleteForm(initial={"completed_date": timezone.localdate()}),
        "missed_form": forms.WaveMissedForm(),
        "unlock_form": forms.WaveUnlockForm(),
        "may_unlock": access.has_right(request.user, family.study, access.Right.WAVE_UNLOCK),
    }
    return render(request, "study/wave_entry.html", context, status=400 if form.errors else 200)


def _wave_action(request: HttpRequest, wave_id: int, action: Callable[[Wave], str]) -> HttpResponse:
    wave = selectors.wave_get(request.user, wave_id)
    require_family_right(request.user, wave.family, access.Right.RESEARCH_WRITE)
    try:
        message = action(wave)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.success(request, message)
    return redirect("study:wave_entry", wave.pk)


@login_required
@require_POST
def wave_complete(request: HttpRequest, wave_id: int) -> HttpResponse:
    def action(wave: Wave) -> str:
        data = cleaned_or_error(forms.WaveCompleteForm(request.POST))
        wave_services.wave_complete(wave=wave, on=data["completed_date"], user=request.user)
        return _("%(wave)s marked as completed.") % {"wave": wave.label}

    return _wave_action(request, wave_id, action)


@login_required
@require_POST
def wave_missed(request: HttpRequest, wave_id: int) -> HttpResponse:
    def action(wave: Wave) -> str:
        data = cleaned_or_error(forms.WaveMissedForm(request.POST))
        wave_services.wave_mark_missed(wave=wave, reason=data["missed_reason"], user=request.user)
        return _("%(wave)s marked as missed.") % {"wave": wave.label}

    return _wave_action(request, wave_id, action)


@login_required
@require_POST
def wave_lock(request: HttpRequest, wave_id: int) -> HttpResponse:
    def action(wave: Wave) -> str:
        wave_services.wave_lock(wave=wave, user=request.user)
        return _("%(wave)s is locked.") % {"wave": wave.label}

    return _wave_action(request, wave_id, action)


@login_required
@require_POST
def wave_unlock(request: HttpRequest, wave_id: int) -> HttpResponse:
    wave = selectors.wave_get(request.user, wave_id)  # 404 before 403 outside the user's scope
    if not access.has_right(request.user, wave.family.study, access.Right.WAVE_UNLOCK):
        raise PermissionDenied

    def action(wave: Wave) -> str:
        data = cleaned_or_error(forms.WaveUnlockForm(request.POST))
        wave_services.wave_unlock(wave=wave, reason=data["reason"], user=request.user)
        return _("%(wave)s is unlocked.") % {"wave": wave.label}

    return _wave_action(request, wave_id, action)


@login_required
def waves_due(request: HttpRequest) -> HttpResponse:
    waves = selectors.waves_due_list(request.user)
    family_read(request, action="waves.due", families={w.family_id for w in waves})
    return render(
        request,
        "study/waves_due.html",
        {"waves": waves, "enterable": selectors.research_family_ids(request.user, waves)},
    )
