"""API tokens: issued with a second factor, expiring, revocable.

`POST /api/auth/token/` with `username`, `password` and, for a user who needs a second factor
(`study.access.otp_required_for`), `otp` (the six-digit code of their authenticator, or a
recovery code) returns a token; so does a POST from a browser session that has passed the second
factor (with its CSRF token). Every failure answers the same 400 (no telling which part was
wrong, or whether the user exists), counts as a failed login for the lockout, and the endpoint is
throttled per client address and per username.

A token is valid for `settings.API_TOKEN_TTL` after it was issued (`Token.created`); logging in
again replaces it (the old one stops working), `DELETE /api/auth/token/` revokes it, and a
disabled user's token fails like an unknown one. The second factor a token was issued with is
kept beside it (`TokenFactor`): a token without one is refused for a user who needs one.
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from study import access
from study.api.authentication import LoginSessionAuthentication, session_verified, token_expires
from study.models import TokenFactor
from study.services.accounts import second_factor_check
from tracker.security import client_ip

LOGIN_FAILED = _("Unable to log in with the given username, password and code.")


@transaction.atomic
def token_issue(user, *, device=None) -> Token:
    """A fresh token for the user; any earlier token stops working (rotation). `device`: the
    second factor it is issued with (None: password only)."""
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    if device is not None:
        TokenFactor.objects.create(token=token, device_id=device.persistent_id)
    return token


def token_revoke(user) -> int:
    deleted, _rows = Token.objects.filter(user=user).delete()
    return deleted


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(required=False, max_length=150)
    password = serializers.CharField(
        required=False, trim_whitespace=False, max_length=4096, style={"input_type": "password"}
    )
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text="The code of your authenticator app (or a recovery code), when your role "
        "needs a second factor.",
    )


_TokenResponse = inline_serializer(
    "TokenResponse",
    fields={"token": serializers.CharField(), "expires": serializers.DateTimeField()},
)


class _LoginThrottle(SimpleRateThrottle):
    def allow_request(self, request, view):
        if request.method != "POST":
            return True
        return super().allow_request(request, view)


class TokenAddressThrottle(_LoginThrottle):
    """Token requests per client address (the trusted-proxy aware one)."""

    scope = "token_address"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "-"}


class TokenUsernameThrottle(_LoginThrottle):
    """Token requests per username, from whatever address (unknown names count alike)."""

    scope = "token_username"

    def get_cache_key(self, request, view):
        data = request.data
        username = str(data.get("username", "") if hasattr(data, "get") else "")
        username = username.strip().lower()[:150]
        if not username:
            return None
        return self.cache_format % {"scope": self.scope, "ident": username}


class TokenView(APIView):
    """POST: log in (username, password, otp), or from a verified session, and get a token.
    DELETE: revoke your token."""

    serializer_class = TokenRequestSerializer

    def get_authenticators(self):
        # Logging in must work even when the client still sends its expired token; a session
        # counts only once it has passed the second factor.
        if getattr(self.request, "method", None) == "POST":
            return [LoginSessionAuthentication()]
        return super().get_authenticators()

    def get_permissions(self):
        if getattr(self.request, "method", None) == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    def get_throttles(self):
        return [TokenAddressThrottle(), TokenUsernameThrottle(), *super().get_throttles()]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: _TokenResponse, 400: OpenApiResponse(description="login failed")},
    )
    def post(self, request):
        ser = TokenRequestSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        if "username" not in data and request.user.is_authenticated:
            device = getattr(request.user, "otp_device", None)
            verified = session_verified(request.user)
            token = token_issue(request.user, device=device if verified else None)
            return Response({"token": token.key, "expires": token_expires(token)})
        user, device = self._credentials(request, data)
        token = token_issue(user, device=device)
        return Response({"token": token.key, "expires": token_expires(token)})

    def _credentials(self, request, data):
        """The user and the second factor they passed, or the one uniform 400."""
        username, password = data.get("username", ""), data.get("password", "")
        user = None
        if username and password:
            user = authenticate(request=request._request, username=username, password=password)
        if user is None:
            self._refuse()
        device = second_factor_check(user=user, code=data.get("otp", ""))
        if device is None and access.otp_required_for(user):
            # A right password with a missing or wrong code is a failed login too (lockout).
            user_login_failed.send(
                sender=__name__, credentials={"username": username}, request=request._request
            )
            self._refuse()
        return user, device

    @staticmethod
    def _refuse():
        raise ValidationError({"non_field_errors": [LOGIN_FAILED]})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        token_revoke(request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRevokeView(APIView):
    """POST: revoke your token (for clients that cannot send DELETE)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        token_revoke(request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
