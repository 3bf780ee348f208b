"""Token authentication with expiry (kept apart from the views: DRF imports it from settings)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from study.roles import Role


def token_ttl() -> timedelta:
    return timedelta(seconds=settings.API_TOKEN_TTL)


def token_expires(token):
    return token.created + token_ttl()


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token …`, refused once the token is older than API_TOKEN_TTL.

    On PostgreSQL the user's role names come with the token in the same query, so a request pays
    one round trip for who-is-this and what-may-they-do (study.roles.user_roles reads the cache).
    """

    def authenticate_credentials(self, key):
        tokens = self.get_model().objects.select_related("user")
        if connection.vendor == "postgresql":
            from django.contrib.postgres.aggregates import ArrayAgg

            tokens = tokens.annotate(role_names=ArrayAgg("user__groups__name", default=Value([])))
        token = tokens.filter(key=key).first()
        if token is None:
            raise AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        if timezone.now() >= token_expires(token):
            raise AuthenticationFailed(
                _("The token has expired. Log in again with POST /api/auth/token/.")
            )
        names = getattr(token, "role_names", None)
        if names is not None:
            roles = {name for name in names if name} & set(Role.values)
            if token.user.is_superuser:
                roles.add(Role.DATA_MANAGER)
            token.user._role_cache = roles
        return token.user, token
