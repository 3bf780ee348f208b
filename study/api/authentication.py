"""How the API knows who is asking (kept apart from the views: DRF imports it from settings).

Three ways in, each holding the second-factor rule of `study.access.otp_required_for`:

- `Authorization: Token …` (ExpiringTokenAuthentication): refused once older than API_TOKEN_TTL,
  and refused for a user who needs a second factor when the token was issued without one;
- `Authorization: Api-Key …` (ApiKeyAuthentication): a service account's per-study key, its
  rights its scopes; every use is logged;
- the browser session (VerifiedSessionAuthentication): refused while a user who needs a second
  factor has not passed it (a password-only session gets a readable 401, not the data).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    TokenAuthentication,
    get_authorization_header,
)
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from study import access
from study.services import api_keys

SECOND_FACTOR_MISSING = _(
    "Two-step verification required: your role needs a code from your authenticator app. "
    "Verify this session at /accounts/2fa/, or request a token with your code "
    "(POST /api/auth/token/ with username, password and otp)."
)
TOKEN_WITHOUT_FACTOR = _(
    "This token was issued without a second factor, which your role needs. Request a new one "
    "with your authenticator code (POST /api/auth/token/ with username, password and otp)."
)


def token_ttl() -> timedelta:
    return timedelta(seconds=settings.API_TOKEN_TTL)


def token_expires(token):
    return token.created + token_ttl()


def session_verified(user) -> bool:
    """Whether a session user has passed the second factor (django-otp's middleware)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token …`, refused once the token is older than API_TOKEN_TTL, and for a
    user who needs a second factor unless the token was issued with one."""

    def authenticate_credentials(self, key):
        token = Token.objects.select_related("user", "factor").filter(key=key).first()
        if token is None:
            raise AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        if timezone.now() >= token_expires(token):
            raise AuthenticationFailed(
                _("The token has expired. Log in again with POST /api/auth/token/.")
            )
        if access.otp_required_for(token.user) and not _has_factor(token):
            raise AuthenticationFailed(TOKEN_WITHOUT_FACTOR)
        return token.user, token


def _has_factor(token) -> bool:
    return hasattr(token, "factor")  # the reverse one-to-one raises AttributeError when absent


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key <key>`: a service account's per-study, scope-limited key."""

    keyword = "Api-Key"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(_("Invalid API key header: send 'Api-Key <key>'."))
        try:
            raw = parts[1].decode()
        except UnicodeError:
            raise AuthenticationFailed(_("Invalid API key.")) from None
        key = api_keys.api_key_check(raw)
        if key is None:
            raise AuthenticationFailed(_("Invalid, expired or revoked API key."))
        api_keys.api_key_use_record(key=key, request=request)
        user = key.service_user
        user._api_key = key  # type: ignore[attr-defined]  # study.access reads the scopes here
        return user, key

    def authenticate_header(self, request):
        return self.keyword


class VerifiedSessionAuthentication(SessionAuthentication):
    """The browser session, once its user has passed the second factor where it is needed."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        if access.otp_required_for(user) and not session_verified(user):
            raise AuthenticationFailed(SECOND_FACTOR_MISSING)
        return result


class LoginSessionAuthentication(SessionAuthentication):
    """For the token endpoint only: a verified session may ask for a token; anything else
    (no session, a half-logged-in one, a missing CSRF token) counts as anonymous, so that the
    client can still log in with its username, password and code."""

    def authenticate(self, request):
        try:
            result = super().authenticate(request)
        except exceptions.PermissionDenied:  # CSRF: not a session login then
            return None
        if result is None:
            return None
        user = result[0]
        if access.otp_required_for(user) and not session_verified(user):
            return None
        return result
