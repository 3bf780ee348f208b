"""Read logging (NEN 7513): every read of family-level data leaves one event per request.

The one writer is `family_read`: who (actor, role), when, from where (the client's address as
`tracker.security.client_ip` sees it behind trusted proxies), with which credential (a session,
a token or an API key, referred to by a digest or id, never the secret), and what (the ids of the
families read, their count and the scope: the filters or the export). A list of 20,000 rows is
one event holding the ids, not 20,000 events. Pages call it; every family-data API viewset gets
it from `study.api.logging.FamilyReadLogged`; `tests/study/test_read_logging.py` walks the URL
conf so a new page or endpoint cannot forget.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from study.access import api_key_of, roles_held
from study.audit import access_event_append
from study.models import AccessEvent, Family, Study
from tracker.security import client_ip


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def credential_of(request) -> str:
    """How the request signed in, without the secret: "api-key:<prefix>", "token:<digest>",
    "session:<digest>" or ""."""
    if request is None:
        return ""
    user = getattr(request, "user", None)
    key = api_key_of(user) if user is not None else None
    if key is not None:
        return f"api-key:{getattr(key, 'prefix', '') or key.pk}"
    auth = getattr(request, "_auth", None)  # DRF's authenticated credential, when there is one
    token = getattr(auth, "key", None)
    if isinstance(token, str) and token:
        return f"token:{_digest(token)}"
    session = getattr(request, "session", None)
    session_key = getattr(session, "session_key", None)
    if session_key:
        return f"session:{_digest(session_key)}"
    return ""


def _ids(families) -> list[int]:
    if families is None:
        return []
    if isinstance(families, Family):
        return [families.pk]
    if hasattr(families, "values_list"):
        return sorted(set(families.values_list("pk", flat=True)))
    return sorted({getattr(f, "pk", f) for f in families})


def family_ids_of(model, objects, lookup: str) -> list[int]:
    """The families behind rows of `model` ("pk": the rows are families; else the field that
    leads to the family, e.g. "family_id" or "wave__family_id"; "": not family data)."""
    pks = [o.pk for o in objects]
    if not pks or not lookup:
        return []
    if lookup == "pk":
        return sorted(set(pks))
    rows = model._base_manager.filter(pk__in=pks).values_list(lookup, flat=True)
    return sorted({r for r in rows if r is not None})


def family_read(
    request,
    *,
    action: str,
    families: Family | Iterable | None = None,
    study: Study | None = None,
    scope: str = "",
    detail: str = "",
    row_count: int | None = None,
    user=None,
) -> AccessEvent:
    """Log one read of family-level data (or a refusal of one: action "...refused")."""
    user = user if user is not None else getattr(request, "user", None)
    ids = _ids(families)
    family = families if isinstance(families, Family) else None
    if study is None and family is not None:
        study = family.study
    if study is None and len(ids) > 0:
        study_ids = set(Family.objects.filter(pk__in=ids[:1000]).values_list("study_id", flat=True))
        if len(study_ids) == 1:
            study = Study.objects.filter(pk=study_ids.pop()).first()
    return access_event_append(
        actor=user if getattr(user, "is_authenticated", False) else None,
        role=",".join(sorted(roles_held(user)))[:40] if user is not None else "",
        action=action[:40],
        study=study,
        pseudonym=family.pseudonym if family else "",
        row_count=len(ids) if row_count is None else row_count,
        detail=detail[:300],
        client_ip=client_ip(request) if request is not None else None,
        credential=credential_of(request)[:80],
        family_ids=ids,
        scope=scope[:300],
    )


def access_event_record(
    *,
    user,
    action: str,
    family: Family | None = None,
    study: Study | None = None,
    row_count: int = 1,
    detail: str = "",
    request=None,
) -> AccessEvent:
    """A read outside a request (a management command, a job), or an older call site."""
    return family_read(
        request,
        user=user,
        action=action,
        families=family,
        study=study,
        row_count=row_count,
        detail=detail,
    )


def membership_changed(sender, instance, created: bool = False, **kwargs) -> None:
    """A role given, changed or taken (StudyMembership saved or deleted) is logged with who did
    it (the request's user when the change comes from a page or the API)."""
    from simple_history.models import HistoricalRecords

    request = getattr(HistoricalRecords.context, "request", None)
    state = "granted" if created else ("removed" if "created" not in kwargs else "changed")
    active = "active" if getattr(instance, "active", True) else "inactive"
    family_read(
        request,
        user=getattr(request, "user", None),
        action=f"membership.{state}",
        study=instance.study,
        row_count=0,
        detail=f"user #{instance.user_id}: {instance.role} ({active})",
    )


def access_events_for(
    study: Study, *, actor: str = "", action: str = "", since=None, until=None, family: int = 0
):
    """The study's access events, newest first, filtered as the access-log page asks: actor's
    username, action (prefix), a date range, and a family id (checked in Python: the id lists
    are JSON, which SQLite cannot search)."""
    events = AccessEvent.objects.filter(study=study).select_related("actor").order_by("-at", "-pk")
    if actor:
        events = events.filter(actor__username=actor)
    if action:
        events = events.filter(action__startswith=action)
    if since:
        events = events.filter(at__date__gte=since)
    if until:
        events = events.filter(at__date__lte=until)
    if family:
        return [e for e in events.iterator(chunk_size=2000) if family in (e.family_ids or [])]
    return events


#: Route parameters that name family-level data (or the study it belongs to).
FAMILY_DATA_PARAMS = {"family_id", "wave_id", "study_id", "batch_id", "involvement_id"}


class RefusedReadMiddleware:
    """A page refused to a signed-in user (403, or 404: out of scope or unknown) that names a
    family, wave, study or import by id is logged as "page.refused": probing for other studies'
    ids leaves a trace. The API logs its own refusals (study.api.logging)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code in (403, 404) and not request.path.startswith("/api/"):
            match = getattr(request, "resolver_match", None)
            kwargs = getattr(match, "kwargs", None) or {}
            named = {k: v for k, v in kwargs.items() if k in FAMILY_DATA_PARAMS}
            user = getattr(request, "user", None)
            if named and getattr(user, "is_authenticated", False):
                family_read(
                    request,
                    action="page.refused",
                    row_count=0,
                    scope=" ".join(f"{k}={v}" for k, v in sorted(named.items()))[:300],
                    detail=f"{getattr(match, 'view_name', '')} {response.status_code}",
                )
        return response
