"""Credentials that are not a password: per-study API keys for service accounts (with a log of
every use), one-time links to enrol an authenticator, and the second factor an API token was
issued with. The rules that use them live in `study.access` and `tracker.twofactor`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from study.models.study import Study


class ApiKey(models.Model):
    """A per-study, scope-limited key of a service account (a municipal system that cannot type
    a TOTP code). Only a hash of the secret is stored; the key is shown once when it is issued.

    Every key has its own service user (no password, no memberships): writes made with the key
    are attributed to it in the audit trail, and its rights come from the scopes alone.
    """

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("key id"), max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_key"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["last_used_at"])

    class Meta:
        ordering = ["study", "-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def is_usable(self, *, at=None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and at < self.expires_at


class ApiKeyUse(models.Model):
    """One request made with an API key: when, what and from where."""

    key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="uses")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    client_address = models.CharField(max_length=45, blank=True)

    class Meta:
        verbose_name = _("API key use")
        verbose_name_plural = _("API key uses")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.key_id} {self.method} {self.path}"


class EnrolmentLink(models.Model):
    """A one-time link with which a user binds an authenticator app to their account (after
    their password). Issued by a data manager (or the invitation flow); only a hash of the link's
    secret is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolment_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # The authenticator being enrolled (unconfirmed until the first valid code).
    device = models.ForeignKey(
        "otp_totp.TOTPDevice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("authenticator link")
        verbose_name_plural = _("authenticator links")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"enrolment link {self.pk} for user {self.user_id}"

    def is_usable(self, *, at=None) -> bool:
        at = at or timezone.now()
        return self.used_at is None and at < self.expires_at


class TokenFactor(models.Model):
    """The second factor an API token was issued with (absent: password only, which a user who
    needs a second factor cannot use)."""

    token = models.OneToOneField(
        "authtoken.Token", on_delete=models.CASCADE, primary_key=True, related_name="factor"
    )
    device_id = models.CharField(max_length=100)
    verified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("token's second factor")
        verbose_name_plural = _("tokens' second factors")

    def __str__(self) -> str:
        return f"second factor of token of user {self.token_id}"
