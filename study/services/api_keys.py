"""Per-study API keys for service accounts (a municipal system): issue (shown once, hashed at
rest), check, log every use, revoke. What a key may do is `study.access.SCOPES`."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from study import access
from study.models import ApiKey, ApiKeyUse, Study
from study.services.common import audited_save
from tracker.security import client_ip

KEY_PREFIX = "etk"
#: The longest a key may live; a shorter expiry is chosen when it is issued.
MAX_DAYS = 366


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _split(raw: str) -> tuple[str, str] | None:
    parts = raw.strip().split("_", 2)  # the secret itself may hold "_"
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


@transaction.atomic
def api_key_issue(
    *, study: Study, name: str, scopes: list[str], days: int, user, second_factor: bool
) -> tuple[ApiKey, str]:
    """A new key for `study`, issued by `user` (a data manager of the study, from a session that
    passed the second factor); returns the key and its secret, which is shown once and never
    stored."""
    if not access.has_right(user, study, access.Right.API_KEYS_MANAGE):
        raise PermissionDenied(_("Only a data manager of the study issues its API keys."))
    if not second_factor:
        raise PermissionDenied(_("Verify this session with your authenticator first."))
    errors = {}
    if not name.strip():
        errors["name"] = _("Give the key a name (the system that uses it).")
    unknown = sorted(set(scopes) - set(access.SCOPES))
    if not scopes or unknown:
        errors["scopes"] = _("Choose one or more scopes of: %(scopes)s.") % {
            "scopes": ", ".join(access.SCOPES)
        }
    if not 1 <= days <= MAX_DAYS:
        errors["days"] = _("A key lives 1 to %(max)d days.") % {"max": MAX_DAYS}
    if errors:
        raise ValidationError(errors)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    service_user = get_user_model().objects.create_user(username=f"apikey-{prefix}")
    service_user.set_unusable_password()
    service_user.save(update_fields=["password"])
    now = timezone.now()
    key = ApiKey(
        study=study,
        name=name.strip()[:100],
        prefix=prefix,
        key_hash=_hash(secret),
        scopes=sorted(set(scopes)),
        service_user=service_user,
        created_by=user,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    audited_save(key, user=user, reason="API key issued")
    return key, f"{KEY_PREFIX}_{prefix}_{secret}"


def api_key_check(raw: str) -> ApiKey | None:
    """The usable key a presented secret belongs to, or None (unknown, wrong, expired,
    revoked)."""
    parts = _split(raw)
    if parts is None:
        return None
    prefix, secret = parts
    key = ApiKey.objects.select_related("service_user").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.key_hash, _hash(secret)):
        return None
    if not key.is_usable() or not key.service_user.is_active:
        return None
    return key


def api_key_use_record(*, key: ApiKey, request) -> None:
    """Log one request made with the key (every use is logged)."""
    now = timezone.now()
    ApiKeyUse.objects.create(
        key=key,
        at=now,
        method=request.method[:10],
        path=request.path[:300],
        client_address=client_ip(request) or "",
    )
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)


@transaction.atomic
def api_key_revoke(*, key: ApiKey, user) -> ApiKey:
    """Stop a key at once (it stays listed, revoked, with its log)."""
    if not access.has_right(user, key.study, access.Right.API_KEYS_MANAGE):
        raise PermissionDenied(_("Only a data manager of the study revokes its API keys."))
    if key.revoked_at is None:
        key.revoked_at, key.revoked_by = timezone.now(), user
        audited_save(key, user=user, reason="API key revoked")
        key.service_user.is_active = False
        key.service_user.save(update_fields=["is_active"])
    return key


def default_days() -> int:
    return min(settings.API_KEY_DEFAULT_DAYS, MAX_DAYS)
