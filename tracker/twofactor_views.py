"""The pages of the second factor: verify a session, enrol an authenticator with a one-time link,
get new recovery codes, and ask for a link of one's own from a verified session.

No page ever shows an authenticator's secret after the password alone: the secret is shown only
on the page of a one-time enrolment link, to the user it was issued for.
"""

from __future__ import annotations

from base64 import b32encode

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from study.api.authentication import session_verified
from study.services import accounts


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app (or a recovery code)"),
        max_length=16,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _safe_next(request) -> str:
    target = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return "/"
    return target


@login_required
def verify(request):
    """Pass the second factor with a code (six digits, or a recovery code)."""
    user = request.user
    has_factor = accounts.has_authenticator(user) or StaticDevice.objects.filter(user=user).exists()
    form = TokenForm(request.POST or None)
    if request.method == "POST" and has_factor and form.is_valid():
        device = accounts.second_factor_check(user=user, code=form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            return redirect(_safe_next(request))
        form.add_error(
            "token", _("This code is not valid. Check the time on your phone and try again.")
        )
    context = {"form": form, "has_factor": has_factor, "verified": session_verified(user)}
    return render(request, "registration/two_factor.html", context)


@login_required
def enrol(request, secret: str):
    """Bind an authenticator with a one-time link (issued to this user): its key, then its first
    code; the page after shows the recovery codes once."""
    link = accounts.enrolment_link_get(raw=secret, user=request.user)
    if link is None:
        raise Http404(_("This enrolment link is not valid (used, expired, or not yours)."))
    device = accounts.enrolment_device(link=link)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = accounts.enrolment_complete(link=link, code=form.cleaned_data["token"])
        if codes is not None:
            device.refresh_from_db()
            otp_login(request, device)
            return render(request, "registration/recovery_codes.html", {"codes": codes})
        form.add_error(
            "token", _("This code is not valid. Check the time on your phone and try again.")
        )
    context = {
        "form": form,
        "secret": b32encode(device.bin_key).decode(),
        "config_url": device.config_url,
    }
    return render(request, "registration/two_factor_enrol.html", context)


def _verified_only(request):
    if not session_verified(request.user):
        return redirect(f"/accounts/2fa/?next={request.path}")
    return None


@login_required
@require_POST
def recovery_codes(request):
    """New recovery codes (the old ones stop working), from a verified session only."""
    refused = _verified_only(request)
    if refused is not None:
        return refused
    codes = accounts.recovery_codes_generate(user=request.user)
    return render(request, "registration/recovery_codes.html", {"codes": codes})


@login_required
@require_POST
def new_authenticator(request):
    """A link of one's own to bind a new authenticator (a new phone), from a verified session
    only; it replaces the earlier authenticator once confirmed."""
    refused = _verified_only(request)
    if refused is not None:
        return refused
    _link, raw = accounts.enrolment_link_issue(
        user=request.user, issued_by=request.user, issuer_verified=True
    )
    return redirect(accounts.enrolment_link_path(raw))
