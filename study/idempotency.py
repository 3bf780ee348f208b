"""Idempotent writes: the same `Idempotency-Key` header (API) or form token (pages) sent again by
the same person to the same endpoint returns the first result instead of writing twice.

The key's row is inserted first, in the write's transaction: a second request with the same key
waits on the unique index until the first commits, then finds the stored answer. A write that
fails stores nothing (its transaction, the key's row included, is rolled back), so a retry after
an error runs again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from study.models import IdempotencyRecord

MAX_KEY = 100


class KeyReusedError(Exception):
    """The key was used before for a different request body."""


@dataclass
class Outcome:
    status_code: int
    body: Any
    replayed: bool = False


def request_digest(payload: object) -> str:
    text = json.dumps(payload, sort_keys=True, cls=DjangoJSONEncoder, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def run_once(
    *,
    user,
    scope: str,
    key: str,
    payload: object,
    produce: Callable[[], tuple[int, Any]],
) -> Outcome:
    """Run `produce` (returning (status, JSON-able body)) once per (user, scope, key)."""
    if not key or len(key) > MAX_KEY:
        raise ValueError(_("An idempotency key has 1 to %(n)d characters.") % {"n": MAX_KEY})
    digest = request_digest(payload)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user, scope=scope, key=key, request_hash=digest
                )
        except IntegrityError:
            prior = IdempotencyRecord.objects.get(user=user, scope=scope, key=key)
            if prior.request_hash != digest:
                raise KeyReusedError(
                    _("This idempotency key was already used for a different request.")
                ) from None
            return Outcome(prior.status_code, prior.body, replayed=True)
        status_code, body = produce()
        record.status_code = status_code
        record.body = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
        record.save(update_fields=["status_code", "body"])
    return Outcome(status_code, body)


KEEP_DAYS = 7


def idempotency_prune(*, days: int = KEEP_DAYS) -> int:
    """Forget keys older than `days` (a client retries within minutes, not weeks)."""
    from datetime import timedelta

    from django.utils import timezone

    cutoff = timezone.now() - timedelta(days=days)
    deleted, _rows = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
