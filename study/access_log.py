"""Read logging (NEN 7513): every family page, record retrieval and export leaves an event."""

from __future__ import annotations

from study.access import roles_held
from study.audit import access_event_append
from study.models import AccessEvent, Family, Study


def access_event_record(
    *,
    user,
    action: str,
    family: Family | None = None,
    study: Study | None = None,
    row_count: int = 1,
    detail: str = "",
) -> AccessEvent:
    return access_event_append(
        actor=user if getattr(user, "is_authenticated", False) else None,
        role=",".join(sorted(roles_held(user)))[:40],
        action=action,
        study=study or (family.study if family else None),
        pseudonym=family.pseudonym if family else "",
        row_count=row_count,
        detail=detail[:300],
    )
