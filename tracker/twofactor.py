"""Two-factor authentication (TOTP via django-otp), required for researchers and data managers.

After the password step, a user with a required role is sent to /accounts/2fa/: a user without a
confirmed authenticator first registers one (the key is shown once as text and as an otpauth://
link), then every session is verified with a six-digit code.
"""

from __future__ import annotations

from base64 import b32encode

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from study.roles import user_roles

VERIFY_PATH = "/accounts/2fa/"
EXEMPT_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/accounts/login/", "/static/", "/i18n/")


def otp_required_for(user) -> bool:
    return bool(settings.OTP_REQUIRED and user_roles(user) & set(settings.OTP_REQUIRED_ROLES))


class TwoFactorRequiredMiddleware:
    """Sends users whose role needs a second factor to the verification page until verified."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(EXEMPT_PREFIXES)
            and not request.path.startswith("/api/")  # the API uses expiring tokens instead
            and otp_required_for(user)
            and not user.is_verified()
        ):
            return redirect(f"{VERIFY_PATH}?next={request.get_full_path()}")
        return self.get_response(request)


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Six-digit code from your authenticator app"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


@login_required
def verify(request):
    device = TOTPDevice.objects.filter(user=request.user).order_by("-confirmed", "id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="authenticator", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            if not device.confirmed:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            otp_login(request, device)
            target = request.GET.get("next", "/")
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = "/"
            return redirect(target)
        form.add_error(
            "token", _("This code is not valid. Check the time on your phone and try again.")
        )
    context = {"form": form, "setup": not device.confirmed}
    if not device.confirmed:
        context["secret"] = b32encode(device.bin_key).decode()
        context["config_url"] = device.config_url
    return render(request, "registration/two_factor.html", context)
