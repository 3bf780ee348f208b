"""API tokens that expire and can be revoked.

A token is valid for `settings.API_TOKEN_TTL` after it was issued (`Token.created`); logging in
again replaces it (the old one stops working), `DELETE /api/auth/token/` revokes it, and a
disabled user's token fails like an unknown one. No extra table: DRF's own Token model.
"""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from study.api.authentication import token_expires


@transaction.atomic
def token_issue(user) -> Token:
    """A fresh token for the user; any earlier token stops working (rotation)."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def token_revoke(user) -> int:
    deleted, _rows = Token.objects.filter(user=user).delete()
    return deleted


_TokenResponse = inline_serializer(
    "TokenResponse",
    fields={"token": serializers.CharField(), "expires": serializers.DateTimeField()},
)


class TokenView(APIView):
    """POST: log in with username and password, get a token. DELETE: revoke your token."""

    serializer_class = AuthTokenSerializer

    def get_authenticators(self):
        # Logging in must work even when the client still sends its expired token.
        if getattr(self.request, "method", None) == "POST":
            return []
        return super().get_authenticators()

    def get_permissions(self):
        if getattr(self.request, "method", None) == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    @extend_schema(request=AuthTokenSerializer, responses={200: _TokenResponse})
    def post(self, request):
        ser = AuthTokenSerializer(data=request.data, context={"request": request})
        ser.is_valid(raise_exception=True)
        token = token_issue(ser.validated_data["user"])
        return Response({"token": token.key, "expires": token_expires(token)})

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
