"""The locked respondent mode: while a session holds a respondent lock, every page but the
respondent form and its exit answers with a redirect to the form, so the family on the tablet
sees only this instrument; the exit asks for the signed-in user's password."""

from __future__ import annotations

from django.shortcuts import redirect

LOCK_KEY = "instrument_respondent_lock"
OPEN_PREFIXES = ("/instruments/respondent/", "/static/", "/i18n/")


def lock_of(request) -> dict | None:
    session = getattr(request, "session", None)
    return None if session is None else session.get(LOCK_KEY)


class RespondentLockMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if lock_of(request) is not None and not request.path.startswith(OPEN_PREFIXES):
            return redirect("instruments:respondent")
        return self.get_response(request)
