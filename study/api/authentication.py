"""Token authentication with expiry (kept apart from the views: DRF imports it from settings)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


def token_ttl() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "API_TOKEN_TTL", 8 * 3600)))


def token_expires(token):
    return token.created + token_ttl()


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token …`, refused once the token is older than API_TOKEN_TTL."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if timezone.now() >= token_expires(token):
            raise AuthenticationFailed(
                _("The token has expired. Log in again with POST /api/auth/token/.")
            )
        return user, token
