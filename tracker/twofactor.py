"""Two-factor authentication (TOTP via django-otp) on every door: pages, the API and its docs.

Who needs it is `study.access.otp_required_for` (researchers, data managers, coordinators, staff,
the installation administrator, and wijkcoaches of studies that require it). Until such a user
has passed the second factor, every page sends them to /accounts/2fa/ and every API request
answers 401 with a readable JSON body (an API token issued with a code, or a service account's
API key, is checked by the API's own authentication instead). The pages are in
tracker/twofactor_views.py.
"""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect

from study.access import otp_required_for
from study.api.authentication import SECOND_FACTOR_MISSING, session_verified

VERIFY_PATH = "/accounts/2fa/"
EXEMPT_PREFIXES = (
    "/accounts/2fa/",
    "/accounts/logout/",
    "/accounts/login/",
    "/accounts/password_reset/",
    "/accounts/reset/",
    "/static/",
    "/i18n/",
)
# Under /api/ these are pages for a browser: sent to the verification page like any page.
API_PAGES = ("/api/docs/", "/api/redoc/")
# The token endpoint takes the code itself.
API_LOGIN = "/api/auth/token/"

__all__ = ["TwoFactorRequiredMiddleware", "otp_required_for", "second_factor_passed"]


def second_factor_passed(request) -> bool:
    """Whether the request's session may do what needs a second factor: it passed one, or the
    installation runs without (`OTP_REQUIRED` off: the local DEBUG demo only)."""
    return not settings.OTP_REQUIRED or session_verified(request.user)


class TwoFactorRequiredMiddleware:
    """Pages: to the verification page until verified. API: 401 for a password-only session
    (requests carrying their own credentials, a token or an API key, are judged by the API's
    authentication, which holds the same rule)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._needs_second_factor(request):
            path = request.path
            if path.startswith("/api/") and not path.startswith(API_PAGES):
                if not path.startswith(API_LOGIN) and "HTTP_AUTHORIZATION" not in request.META:
                    return JsonResponse({"detail": str(SECOND_FACTOR_MISSING)}, status=401)
            else:
                return redirect(f"{VERIFY_PATH}?next={request.get_full_path()}")
        return self.get_response(request)

    @staticmethod
    def _needs_second_factor(request) -> bool:
        user = getattr(request, "user", None)
        return bool(
            user is not None
            and user.is_authenticated
            and not request.path.startswith(EXEMPT_PREFIXES)
            and not session_verified(user)
            and otp_required_for(user)
        )
