"""Second factors of people: one-time enrolment links, enrolling an authenticator, recovery
codes, and checking a code. The pages are in tracker/twofactor_views.py; the invitation flow of
the set-up issue issues a link with `enrolment_link_issue(user=…, issued_by=None)`.

An authenticator is bound only through a one-time link (or from a session that has passed the
second factor already, which issues the user a link of their own): whoever holds a new user's
password alone cannot bind their own authenticator.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from study import access
from study.models import EnrolmentLink, StudyMembership

RECOVERY_CODES = 10


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def may_issue_enrolment_link(issuer, user, *, issuer_verified: bool = False) -> bool:
    """The installation administrator for anyone; a data manager for the members of their
    studies; a user for themselves (a new phone) from a session that passed the second factor."""
    if issuer is None or not issuer.is_authenticated:
        return False
    if access.is_installation_admin(issuer):
        return True
    if issuer.pk == user.pk:
        return issuer_verified
    managed = access.studies_with(issuer, access.Right.MEMBERS_MANAGE)
    return StudyMembership.objects.filter(user=user, study__in=managed).exists()


@transaction.atomic
def enrolment_link_issue(
    *, user, issued_by=None, issuer_verified: bool = False
) -> tuple[EnrolmentLink, str]:
    """A one-time link for `user` to enrol an authenticator; earlier unused links stop working.
    Returns the link and its secret (for `enrolment_link_url`; shown once, only a hash is
    stored). `issued_by=None` is the system itself (the invitation flow); a person must be
    allowed to (`may_issue_enrolment_link`)."""
    allowed = may_issue_enrolment_link(issued_by, user, issuer_verified=issuer_verified)
    if issued_by is not None and not allowed:
        raise PermissionDenied(_("You may not issue an enrolment link for this user."))
    now = timezone.now()
    EnrolmentLink.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    raw = secrets.token_urlsafe(32)
    link = EnrolmentLink.objects.create(
        user=user,
        token_hash=_hash(raw),
        created_by=issued_by,
        created_at=now,
        expires_at=now + timedelta(hours=settings.ENROLMENT_LINK_HOURS),
    )
    return link, raw


def enrolment_link_path(raw: str) -> str:
    return reverse("two_factor_enrol", kwargs={"secret": raw})


def enrolment_link_url(raw: str) -> str:
    """The full address of a link (for an e-mail)."""
    return settings.SITE_URL + enrolment_link_path(raw)


def enrolment_link_get(*, raw: str, user) -> EnrolmentLink | None:
    """The usable link of this secret, when it belongs to `user` (None otherwise)."""
    link = EnrolmentLink.objects.filter(token_hash=_hash(raw)).first()
    if link is None or link.user_id != user.pk or not link.is_usable():
        return None
    return link


def enrolment_device(*, link: EnrolmentLink) -> TOTPDevice:
    """The (unconfirmed) authenticator this link enrols; made on first use of the link."""
    if link.device_id is not None:
        device = TOTPDevice.objects.filter(pk=link.device_id, confirmed=False).first()
        if device is not None:
            return device
    device = TOTPDevice.objects.create(user=link.user, name="authenticator", confirmed=False)
    link.device = device
    link.save(update_fields=["device"])
    return device


@transaction.atomic
def enrolment_complete(*, link: EnrolmentLink, code: str) -> list[str] | None:
    """Confirm the link's authenticator with its first code: it replaces the user's earlier
    authenticators, the link is used up, API tokens issued before stop working, and fresh
    recovery codes are returned (to show once). None when the code is wrong."""
    link = EnrolmentLink.objects.select_for_update().get(pk=link.pk)
    if not link.is_usable():
        return None
    device = enrolment_device(link=link)
    if not device.verify_token(code.strip()):
        return None
    TOTPDevice.objects.filter(user=link.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    Token.objects.filter(user=link.user).delete()
    return recovery_codes_generate(user=link.user)


@transaction.atomic
def recovery_codes_generate(*, user) -> list[str]:
    """Ten new single-use recovery codes (the earlier ones stop working), to show once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def has_authenticator(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_check(*, user, code: str):
    """The device that accepts `code` (a six-digit code of a confirmed authenticator, or an
    unused recovery code, which is used up), or None."""
    code = (code or "").strip().replace(" ", "")
    if not code:
        return None
    # Six digits go to the authenticator, anything else to the recovery codes (eight letters
    # and digits): a failed try slows down (django-otp's throttling) only the device it was for.
    devices = TOTPDevice if len(code) == 6 and code.isdigit() else StaticDevice
    with transaction.atomic():
        for device in devices.objects.select_for_update().filter(user=user, confirmed=True):
            if device.verify_token(code):
                return device
    return None
