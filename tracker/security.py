"""Security plumbing that belongs to no app: the client's address, lockout backend and
response, session timeouts, CSP, no-store caching, 503 page."""

from __future__ import annotations

import ipaddress
import logging
import time

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import logout
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, resolve_url
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

SESSION_LOGIN_AT = "_login_at"
# When the session's idle expiry was last moved forward (epoch seconds); see SessionTimeoutMiddleware.
SESSION_SEEN_AT = "_seen_at"


def _valid_ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, unless the app runs behind trusted proxies
    (BEHIND_PROXY), then the address the outermost trusted proxy saw, which is the
    TRUSTED_PROXY_COUNT-th entry from the right of X-Forwarded-For (entries further left were
    written by the client and prove nothing)."""
    meta = getattr(request, "META", {})
    remote = _valid_ip(meta.get("REMOTE_ADDR", "") or "")
    if not settings.BEHIND_PROXY:
        return remote
    hops = [h for h in (meta.get("HTTP_X_FORWARDED_FOR", "") or "").split(",") if h.strip()]
    count = max(1, settings.TRUSTED_PROXY_COUNT)
    if len(hops) < count:
        return remote
    return _valid_ip(hops[-count]) or remote


def lockout_response(request, response=None, credentials=None, *args, **kwargs):
    """django-axes' answer to a locked-out login: JSON under /api/, the page elsewhere."""
    message = _(
        "Too many failed login attempts from this address or for this account. Try again "
        "later, or ask a data manager to unlock the account."
    )
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    body = render_to_string(settings.AXES_LOCKOUT_TEMPLATE, request=request)
    return HttpResponse(body, status=429)


class LockoutBackend(AxesStandaloneBackend):
    """django-axes lockout for every interactive login (pages and the API token endpoint).

    Logins without a request (Django's test client, internal calls) are not counted: there is no
    client to lock out, and axes would otherwise refuse them with an exception.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class SessionTimeoutMiddleware:
    """Absolute session lifetime and idle expiry, enforced on the server.

    Idle expiry: a session expires SESSION_COOKIE_AGE (20 minutes) after it was last saved, and
    each request of a signed-in user moves that forward — but at most once per
    SESSION_REFRESH_SECONDS (a minute), instead of rewriting the session row on every request
    (Django's SESSION_SAVE_EVERY_REQUEST): the idle timeout is then between 19 and 20 minutes,
    and a page costs no database write for it. Disabled users lose their session on the next
    request because Django's ModelBackend refuses inactive users."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            session = request.session
            started = session.get(SESSION_LOGIN_AT)
            if started is None:
                session[SESSION_LOGIN_AT] = now
            elif now - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"detail": _("Your session has expired. Log in again.")}, status=401
                    )
                return redirect(f"{resolve_url(settings.LOGIN_URL)}?next={request.path}")
            if now - session.get(SESSION_SEEN_AT, 0) >= settings.SESSION_REFRESH_SECONDS:
                session[SESSION_SEEN_AT] = now  # modified: saved with a new expiry
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Adds the Content-Security-Policy header (Django 5.2 has no built-in CSP)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = "; ".join(f"{k} {v}" for k, v in settings.CONTENT_SECURITY_POLICY.items())

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/admin/"):
            response.setdefault("Content-Security-Policy", self.policy)
        return response


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response to a signed-in user and on every API
    response: family data never waits in a browser's or a proxy's cache (pages, exports, API)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)  # DRF sets the token user on the request too
        if request.path.startswith("/api/") or (user is not None and user.is_authenticated):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response


class DatabaseUnavailableMiddleware:
    """A clear 503 page (not a traceback) when the database is briefly unreachable; the next
    request reconnects by itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        log.error("database unavailable: %s", exception.__class__.__name__)
        for conn in connections.all(initialized_only=True):
            conn.close_if_unusable_or_obsolete()
        body = render_to_string("503.html", request=None)
        response = HttpResponse(body, status=503)
        response["Retry-After"] = "10"
        return response
