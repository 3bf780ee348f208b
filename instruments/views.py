"""Instrument pages: the instruments of a wave, entering one (researcher or the coach's phone),
an administration with its scores, the locked respondent mode for the family on a tablet, the
study's versions and codebook, and the export."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from instruments import exporting, selectors
from instruments.definition import text_in
from instruments.forms import ExitForm, InstrumentForm
from instruments.models import Administration, InstrumentVersion
from instruments.respondent import LOCK_KEY, lock_of
from instruments.services import administration_record
from study import access
from study import selectors as study_selectors
from study.access_log import family_read
from study.models import Family
from study.views.helpers import (
    add_service_errors,
    require_family_right,
    require_held,
    require_study_right,
)

EXIT_ATTEMPTS = 5  # wrong exit passwords before the session is ended


def _language() -> str:
    return (get_language() or "nl")[:2]


def _mode_of(user, family) -> str:
    if access.family_has_right(user, family, access.Right.RESEARCH_WRITE):
        return Administration.Mode.RESEARCHER
    return Administration.Mode.COACH


def _version_for(wave, version_id: int) -> InstrumentVersion:
    versions = selectors.instrument_version_list(study=wave.family.study)
    return get_object_or_404(versions, pk=version_id)


def _scores_shown(admin: Administration) -> list[tuple[str, object]]:
    definition = admin.instrument_version.parsed
    return [
        (text_in(rule.label, _language()), admin.scores.get(rule.code))
        for rule in definition.scores
    ]


@login_required
def wave_instruments(request: HttpRequest, wave_id: int) -> HttpResponse:
    wave, rights = study_selectors.wave_get_with_rights(request.user, wave_id)
    require_held(rights, access.Right.INSTRUMENT_ENTER)
    family_read(request, action="wave.instruments", families=wave.family, detail=wave.label)
    # The right to enter instruments for the family was checked above: it makes every
    # administration of the wave readable, so the wave's own are read without access subqueries.
    recorded = {a.instrument_code: a for a in selectors.wave_administration_list(wave)}
    rows = [
        {
            "version": v,
            "name": text_in(v.parsed.name, _language()),
            "administration": recorded.get(v.code),
        }
        for v in selectors.entry_versions(study=wave.family.study)
        if not v.code.startswith("survey_")  # the wave survey's questions: on the wave form
    ]
    return render(request, "instruments/wave_instruments.html", {"wave": wave, "rows": rows})


@login_required
def entry(request: HttpRequest, wave_id: int, version_id: int) -> HttpResponse:
    wave = study_selectors.wave_get(request.user, wave_id)
    family = wave.family
    require_family_right(request.user, family, access.Right.INSTRUMENT_ENTER)
    version = _version_for(wave, version_id)
    family_read(
        request, action="instrument.entry", families=family, detail=f"{wave.label} {version}"
    )
    current = (
        selectors.administration_list(request.user)
        .filter(wave=wave, instrument_code=version.code)
        .first()
    )
    if current is not None and current.instrument_version_id != version.pk:
        return redirect("instruments:administration", administration_id=current.pk)
    form = InstrumentForm(
        request.POST if request.method == "POST" else None,
        definition=version.parsed,
        language=_language(),
        initial_answers=current.answers if current else None,
        initial_missing=current.missing_codes if current else None,
    )
    if request.method == "POST" and form.is_valid():
        answers, missing = form.answers_and_missing()
        try:
            admin = administration_record(
                wave=wave,
                instrument_version=version,
                answers=answers,
                missing_codes=missing,
                user=request.user,
                mode=_mode_of(request.user, family),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved. The score is shown below."))
            return redirect("instruments:administration", administration_id=admin.pk)
    status = 400 if form.is_bound and form.errors else 200
    context = {
        "wave": wave,
        "version": version,
        "name": text_in(version.parsed.name, _language()),
        "form": form,
        "locked": wave.locked,
    }
    return render(request, "instruments/entry.html", context, status=status)


@login_required
def administration(request: HttpRequest, administration_id: int) -> HttpResponse:
    admin = selectors.administration_get(request.user, administration_id)
    if admin is None:
        raise Http404
    family_read(request, action="instrument.view", families=admin.wave.family)
    definition = admin.instrument_version.parsed
    items = [
        {
            "text": text_in(item.text, _language()),
            "answer": text_in(item.scale.values[admin.answers[item.code]], _language())
            if item.code in admin.answers
            else "",
            "value": admin.answers.get(item.code),
            "missing": admin.missing_codes.get(item.code, ""),
        }
        for item in definition.items
    ]
    context = {
        "admin": admin,
        "wave": admin.wave,
        "name": text_in(definition.name, _language()),
        "scores": _scores_shown(admin),
        "items": items,
    }
    return render(request, "instruments/administration.html", context)


# --- the locked respondent mode -----------------------------------------------------------------


@login_required
@require_POST
def respondent_start(request: HttpRequest, wave_id: int, version_id: int) -> HttpResponse:
    """Hand the tablet to the family: the session shows only this instrument until the coach or
    researcher types their password (instruments/respondent.py keeps every other page shut)."""
    wave = study_selectors.wave_get(request.user, wave_id)
    require_family_right(request.user, wave.family, access.Right.INSTRUMENT_ENTER)
    version = _version_for(wave, version_id)
    if request.POST.get("start") != "respondent":
        return HttpResponse(status=400)
    request.session[LOCK_KEY] = {"wave": wave.pk, "version": version.pk, "saved": None}
    return redirect("instruments:respondent")


@login_required
def respondent(request: HttpRequest) -> HttpResponse:
    lock = lock_of(request)
    if lock is None:
        raise Http404
    wave = study_selectors.wave_get(request.user, lock["wave"])
    if not access.family_has_right(request.user, wave.family, access.Right.INSTRUMENT_ENTER):
        raise PermissionDenied
    version = _version_for(wave, lock["version"])
    if lock.get("saved"):
        return render(request, "instruments/respondent_done.html", {"exit": ExitForm()})
    form = InstrumentForm(
        request.POST if request.method == "POST" else None,
        definition=version.parsed,
        language=_language(),
    )
    if request.method == "POST" and form.is_valid():
        answers, missing = form.answers_and_missing()
        try:
            admin = administration_record(
                wave=wave,
                instrument_version=version,
                answers=answers,
                missing_codes=missing,
                user=request.user,
                mode=Administration.Mode.RESPONDENT,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            request.session[LOCK_KEY] = {**lock, "saved": admin.pk}
            return redirect("instruments:respondent")
    name = text_in(version.parsed.name, _language())
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request, "instruments/respondent.html", {"form": form, "name": name}, status=status
    )


@login_required
def respondent_exit(request: HttpRequest) -> HttpResponse:
    lock = lock_of(request)
    if lock is None:
        return redirect("study:home")
    form = ExitForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if request.user.check_password(form.cleaned_data["password"]):
            del request.session[LOCK_KEY]
            if lock.get("saved"):
                return redirect("instruments:administration", administration_id=lock["saved"])
            return redirect("instruments:wave_instruments", wave_id=lock["wave"])
        failures = int(lock.get("failures", 0)) + 1
        if failures >= EXIT_ATTEMPTS:
            # Guessing on the tablet ends the session: signing in again needs the whole login.
            logout(request)
            return redirect("login")
        request.session[LOCK_KEY] = {**lock, "failures": failures}
        form.add_error("password", _("That is not the password of this session's user."))
    return render(request, "instruments/respondent_exit.html", {"form": form}, status=200)


# --- the study's versions, codebook and export ------------------------------------------------


@login_required
def study_versions(request: HttpRequest, study_id: int) -> HttpResponse:
    study = get_object_or_404(access.visible_studies(request.user), pk=study_id)
    require_study_right(request.user, study, access.Right.RESEARCH_READ)
    versions = [
        {"row": v, "definition": v.parsed, "name": text_in(v.parsed.name, _language())}
        for v in selectors.instrument_version_list(study=study)
    ]
    return render(request, "instruments/versions.html", {"study": study, "versions": versions})


@login_required
def study_codebook(request: HttpRequest, study_id: int) -> HttpResponse:
    study = get_object_or_404(access.visible_studies(request.user), pk=study_id)
    require_study_right(request.user, study, access.Right.RESEARCH_READ)
    versions = selectors.instrument_version_list(study=study)
    rows = exporting.codebook(versions, language=_language())
    return render(request, "instruments/codebook.html", {"study": study, "rows": rows})


@login_required
def study_export(request: HttpRequest, study_id: int, fmt: str) -> HttpResponse:
    study = get_object_or_404(access.visible_studies(request.user), pk=study_id)
    require_study_right(request.user, study, access.Right.RESEARCH_READ)
    if fmt not in exporting.FORMATS:
        raise Http404
    families = access.research_families(request.user).filter(study=study)
    # the families read once (one query): what the log records and what the export reads
    ids = sorted(set(families.values_list("pk", flat=True)))
    family_read(request, action="instrument.export", families=ids, study=study, detail=fmt)
    chosen = Family.objects.filter(pk__in=ids)
    return exporting.response(study=study, families=chosen, fmt=fmt)
