"""Readable, translated names for the third-party apps the admin lists (issue 20: the admin
showed "AXES" and "OTP_TOTP"). INSTALLED_APPS names these configs instead of the bare apps;
their labels (and so their tables and migrations) stay the same."""

from __future__ import annotations

from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.apps import DefaultConfig as StaticConfig
from django_otp.plugins.otp_totp.apps import DefaultConfig as TotpConfig


class Axes(AxesAppConfig):
    verbose_name = _("Login lockouts")


class Totp(TotpConfig):
    verbose_name = _("Authenticator apps")


class Static(StaticConfig):
    verbose_name = _("Recovery codes")


class Otp(AppConfig):
    name = "django_otp"
    verbose_name = _("Two-factor authentication")
