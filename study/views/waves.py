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
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from study import access, forms, selectors
from study.access_log import family_read
from study.catalogue import indicators_for
from study.models import Wave
from study.services import waves as wave_services
from study.services.values import ConflictError, RecordOutcome, indicator_values_check
from study.views.helpers import cleaned_or_error, require_family_right


def _saved_message(wave: Wave, outcome: RecordOutcome, unconfirmed: int, source: str) -> str:
    text = _("Saved %(wave)s: %(new)d new, %(changed)d changed, %(cleared)d cleared.") % {
        "wave": wave.label,
        "new": outcome.created,
        "changed": outcome.updated,
        "cleared": outcome.cleared,
    }
    if unconfirmed:
        text += " " + ngettext(
            "%(n)d suggestion from %(source)s was left unconfirmed and not saved.",
            "%(n)d suggestions from %(source)s were left unconfirmed and not saved.",
            unconfirmed,
        ) % {"n": unconfirmed, "source": source}
    return text


def _entry_form(
    wave: Wave, data=None, version: str | None = None, *, waves: list[Wave] | None = None
) -> tuple[forms.WaveEntryForm, dict]:
    start = selectors.wave_entry_values(wave, version, waves=waves)
    form = forms.WaveEntryForm(
        data,
        indicators=indicators_for(wave.family.study),
        current=start["current"],
        suggestions=start["suggestions"],
        with_survey=not wave.is_pre_intake,
        read_only=wave.locked,
        initial={**start["survey"], "version": start["version"]},
    )
    return form, start


def _after_conflict(
    wave: Wave, form: forms.WaveEntryForm, start: dict, exc: ConflictError
) -> forms.WaveEntryForm:
    """The form again, now based on the current version: the person's own changes kept (the
    conflicting ones marked, with both values), every other field showing what is stored now, so
    saving again overwrites nothing they did not mean to."""
    mine = set(form.indicator_values()) | set(form.cleared())
    now = selectors.wave_entry_values(wave)
    data = form.data.copy()
    data["version"] = now["version"]
    for indicator in form.indicators:
        if indicator.code not in mine:
            number, code = now["current"].get(indicator.code, ("", ""))
            data[f"v_{indicator.code}"], data[f"m_{indicator.code}"] = number, code
    for name in forms.WaveEntryForm.SURVEY_FIELDS:
        posted = data.get(name, "")
        if str(start["survey"].get(name, "")) == posted:
            data[name] = now["survey"].get(name, "")
    fresh, _start = _entry_form(wave, data, now["version"])
    fresh.is_valid()
    fresh.add_service_errors(exc)
    return fresh


@login_required
def wave_entry(request: HttpRequest, wave_id: int) -> HttpResponse:
    wave = selectors.wave_get(request.user, wave_id)
    family = wave.family
    # Registry values are research data: a wijkcoach's caseload never opens them.
    require_family_right(request.user, family, access.Right.RESEARCH_READ)
    if request.method == "POST":
        require_family_right(request.user, family, access.Right.RESEARCH_WRITE)
    family_read(request, action="wave.view", families=family, detail=wave.label)
    posted = request.method == "POST"
    waves = selectors.family_wave_list(family)
    form, start = _entry_form(
        wave,
        request.POST if posted else None,
        request.POST.get("version") if posted else None,
        waves=waves,
    )
    conflict = False
    if posted and not wave.locked:
        valid = form.is_valid()
        values, clears = form.indicator_values(), form.cleared()
        if not valid:
            # Check the registry part too, so every wrong field is marked in one pass.
            _entries, problems, _ok = indicator_values_check(
                wave=wave,
                values=values,
                clears=clears,
                soft_confirmed=form.soft_confirmed(),
                soft_limits=True,
            )
            if problems:
                form.add_service_errors(ValidationError(problems))
        else:
            try:
                outcome = wave_services.wave_entry_record(
                    wave=wave,
                    values=values,
                    clears=clears,
                    survey=form.survey_data(),
                    base_version=form.cleaned_data.get("version") or None,
                    soft_confirmed=form.soft_confirmed(),
                    reason=form.cleaned_data.get("change_reason", ""),
                    user=request.user,
                )
            except ConflictError as exc:
                form, conflict = _after_conflict(wave, form, start, exc), True
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                source = next(iter(start["suggestions"].values()), ("", "", ""))[2]
                messages.success(request, _saved_message(wave, outcome, form.unconfirmed(), source))
                if request.POST.get("then") == "family":
                    return redirect("study:family_detail", family.pk)
                return redirect("study:wave_entry", wave.pk)
    elif posted and wave.locked:
        messages.error(request, _("This wave is locked; nothing was saved."))
    context = {
        "wave": wave,
        "family": family,
        "form": form,
        "conflict": conflict,
        "record_status": wave.record_status(timezone.localdate()),
        "open_queries": list(
            wave.queries.exclude(status="closed").select_related("indicator").order_by("pk")
        ),
        "waves": waves,
        "has_errors": form.is_bound and bool(form.errors),
        "complete_form": forms.WaveCompleteForm(initial={"completed_date": timezone.localdate()}),
        "missed_form": forms.WaveMissedForm(),
        "unlock_form": forms.WaveUnlockForm(),
        "may_unlock": access.has_right(request.user, family.study, access.Right.WAVE_UNLOCK),
    }
    status = 409 if conflict else 400 if form.is_bound and form.errors else 200
    return render(request, "study/wave_entry.html", context, status=status)


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
    # The families' study from the waves read (what the read log would look up in two queries).
    study = selectors.study_of_families({w.family_id: w.study_id for w in waves})
    family_read(request, action="waves.due", families={w.family_id for w in waves}, study=study)
    return render(
        request,
        "study/waves_due.html",
        {"waves": waves, "enterable": selectors.research_family_ids(request.user, waves)},
    )
