"""Self-service password change and reset by e-mail: Django's views in the site's layout, with
the validators of AUTH_PASSWORD_VALIDATORS. A changed password also ends the user's API tokens
(their other sessions end by Django's session hash); a reset e-mail points at SITE_URL, never at
the Host header of the request."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import views as auth_views
from rest_framework.authtoken.models import Token


class PasswordChangeView(auth_views.PasswordChangeView):
    def form_valid(self, form):
        response = super().form_valid(form)
        Token.objects.filter(user=form.user).delete()
        return response


class PasswordResetView(auth_views.PasswordResetView):
    @property
    def domain_override(self):  # type: ignore[override]
        return urlsplit(settings.SITE_URL).netloc or None

    @property
    def use_https(self):  # type: ignore[override]
        return urlsplit(settings.SITE_URL).scheme == "https"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        Token.objects.filter(user=form.user).delete()
        return response
