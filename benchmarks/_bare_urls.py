"""Benchmark-only URL configuration: the app's own URLs plus /bench/bare/, a bare DRF endpoint to
compare contact logging with. It goes through the same middleware and DRF defaults as the API
(token authentication, which reads the token and user, and per-user throttling) and validates
the same JSON body, but runs no access check and writes nothing: the difference is the cost of
contact logging itself. GET answers without authentication (the start-up probe)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import include, path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class _Echo(serializers.Serializer):
    family = serializers.IntegerField(required=False)
    duration_minutes = serializers.IntegerField(required=False)


class BareView(APIView):
    """What DRF plus the middleware stack and token authentication cost on this server."""

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else super().get_permissions()

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        ser = _Echo(data=request.data)
        ser.is_valid(raise_exception=True)
        return Response({"ok": True, **ser.validated_data}, status=201)


@login_required
def layout_only(request):
    """The base layout and nothing else, through the same middleware: the pages' baseline."""
    return render(request, "base.html", {})


urlpatterns = [
    path("bench/bare/", BareView.as_view(), name="bench-bare"),
    path("bench/layout/", layout_only, name="bench-layout"),
    path("", include("tracker.urls")),
]
