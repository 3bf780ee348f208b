"""The language switch (Django's set_language, remembered per user) and the middleware that
speaks a signed-in user's chosen language on every page, whatever the browser asks for. The
choice is read once per session (kept there), so pages cost no extra query."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from study.services.languages import user_language, user_language_set


@require_POST
def set_language(request):
    """Django's set_language (cookie, safe redirect to `next`), and for a signed-in user the
    choice is stored, so it follows them to another browser and into their e-mails."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user_language_set(user=request.user, language=language)
        request.session[SESSION_KEY] = language
    return response


SESSION_KEY = "user_language"


def remember_language_on_login(sender, request, user, **kwargs):
    """Read the user's choice once, at login, into their session (connected in study/apps.py)."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = user_language(user)


def _chosen(request) -> str:
    """The signed-in user's stored choice, read at login (or once in a session older than
    that) and kept in the session ("" when none)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return ""
    if SESSION_KEY not in request.session:
        request.session[SESSION_KEY] = user_language(user)
    return request.session[SESSION_KEY]


class UserLanguageMiddleware:
    """After authentication: a user who chose a language gets it (over the cookie and the
    browser's Accept-Language); the cookie follows, so the login page after logout stays in it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = _chosen(request)
        if chosen and chosen != translation.get_language():
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        response = self.get_response(request)
        if chosen and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != chosen:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                chosen,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            )
        return response
