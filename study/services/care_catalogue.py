"""The study's coded list of care workers' organisations and disciplines: adding names, finding
the entry a typed name means, and merging duplicates (a data manager, with a reason, audited).
A name not on the list is stored only as "anders" (other), and a data manager can later code
such names to an entry of the list."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from study import access
from study.models import CareCatalogueEntry, CareInvolvement, Study
from study.services.common import audited_save

Kind = CareCatalogueEntry.Kind
#: The involvement's text and coded fields of each kind.
FIELDS: dict[str, tuple[str, str]] = {
    Kind.ORGANISATION: ("organisation", "organisation_entry"),
    Kind.DISCIPLINE: ("discipline", "discipline_entry"),
}
MAX_LENGTH: dict[str, int] = {Kind.ORGANISATION: 150, Kind.DISCIPLINE: 100}


def normalise(name: str) -> str:
    """One spelling for the comparison of names: spaces collapsed, case folded."""
    return " ".join(name.split()).casefold()


def _clean(name: str) -> str:
    return " ".join(name.split())


def listed(study: Study, kind: str) -> list[CareCatalogueEntry]:
    """The entries a person chooses from (merged duplicates left out), by name."""
    return list(
        CareCatalogueEntry.objects.filter(
            study=study, kind=kind, merged_into__isnull=True
        ).order_by(Lower("name"))
    )


def search(study: Study, kind: str, text: str) -> list[CareCatalogueEntry]:
    """Listed entries whose name contains every word of `text` (any case)."""
    entries = CareCatalogueEntry.objects.filter(study=study, kind=kind, merged_into__isnull=True)
    for word in text.split():
        entries = entries.filter(name__icontains=word)
    return list(entries.order_by(Lower("name"))[:200])


def _final(entry: CareCatalogueEntry) -> CareCatalogueEntry:
    seen = set()
    while entry.merged_into_id is not None and entry.pk not in seen:
        seen.add(entry.pk)
        entry = entry.merged_into  # type: ignore[assignment]
    return entry


def resolve(
    *, study: Study, kind: str, name: str, other: bool
) -> tuple[CareCatalogueEntry | None, str]:
    """The entry a typed name means (a merged duplicate's name finds the entry it was merged
    into) and the name to store; a name not on the list only as "anders" (`other`). A study
    without any entry of this kind takes every name as "anders"."""
    text = _clean(name)
    field = FIELDS[kind][0]
    if not text:
        raise ValidationError({field: _("Give the %(kind)s.") % {"kind": Kind(kind).label}})
    wanted = normalise(text)
    entries = CareCatalogueEntry.objects.filter(study=study, kind=kind).select_related(
        "merged_into"
    )
    match = next((e for e in entries if normalise(e.name) == wanted), None)
    if match is not None:
        entry = _final(match)
        return entry, entry.name
    if other or not entries:
        return None, text
    raise ValidationError(
        {
            field: _(
                "“%(name)s” is not on the study's list: choose a name from the list, or tick "
                "“other” to record it as typed."
            )
            % {"name": text}
        }
    )


def _require_manager(user, study: Study) -> None:
    if not access.has_right(user, study, access.Right.DATA_CORRECT):
        raise PermissionDenied(_("Only a data manager of the study changes its list."))


def _need_reason(reason: str) -> str:
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason.")})
    return reason.strip()


@transaction.atomic
def care_catalogue_add(*, study: Study, kind: str, name: str, user) -> CareCatalogueEntry:
    """Put a name on the study's list (a data manager)."""
    _require_manager(user, study)
    text = _clean(name)
    if not text:
        raise ValidationError({"name": _("Give a name.")})
    if len(text) > MAX_LENGTH[kind]:
        raise ValidationError({"name": _("This name is too long.")})
    taken = any(normalise(e.name) == normalise(text) for e in listed(study, kind))
    if taken:
        raise ValidationError({"name": _("This name is on the list already.")})
    entry = CareCatalogueEntry(study=study, kind=kind, name=text)
    try:
        with transaction.atomic():
            audited_save(entry, user=user, reason="put on the care workers' list")
    except IntegrityError:
        raise ValidationError({"name": _("This name is on the list already.")}) from None
    return entry


def _move(involvements: Iterable[CareInvolvement], kind: str, target, *, user, why: str) -> int:
    text_field, entry_field = FIELDS[kind]
    moved = 0
    for involvement in involvements:
        setattr(involvement, entry_field, target)
        setattr(involvement, text_field, target.name)
        audited_save(involvement, user=user, reason=why)
        moved += 1
    return moved


@transaction.atomic
def care_catalogue_merge(
    *,
    study: Study,
    sources: list[CareCatalogueEntry],
    target: CareCatalogueEntry,
    reason: str,
    user,
) -> int:
    """Merge duplicate entries into `target` (a data manager, with a reason): every involvement
    of a duplicate moves to the target (audited, one history row each), the duplicates leave
    the list and their names find the target from now on. Returns how many involvements
    moved."""
    _require_manager(user, study)
    why = _need_reason(reason)
    locked = {
        e.pk: e
        for e in CareCatalogueEntry.objects.select_for_update().filter(
            pk__in=[target.pk, *[s.pk for s in sources]]
        )
    }
    target = locked[target.pk]
    sources = [locked[s.pk] for s in sources if s.pk != target.pk and s.pk in locked]
    if not sources:
        raise ValidationError({"sources": _("Choose at least one duplicate to merge.")})
    kinds = {e.kind for e in [target, *sources]}
    if (
        any(e.study_id != study.pk for e in [target, *sources])
        or len(kinds) != 1
        or target.merged_into_id is not None
        or any(s.merged_into_id is not None for s in sources)
    ):
        raise ValidationError(
            {"sources": _("Merge only listed entries of one kind of this study.")}
        )
    kind = target.kind
    entry_field = FIELDS[kind][1]
    involvements = CareInvolvement.objects.select_for_update().filter(
        **{f"{entry_field}__in": sources}
    )
    moved = _move(involvements, kind, target, user=user, why=f"merged into “{target.name}”: {why}")
    for source in sources:
        source.merged_into = target
        audited_save(source, user=user, reason=f"merged into “{target.name}”: {why}")
    return moved


def other_names(study: Study, kind: str) -> list[dict]:
    """The names typed as "anders" (other), one line per spelling with how many involvements
    carry it, for the data manager to code to the list."""
    text_field, entry_field = FIELDS[kind]
    rows = (
        CareInvolvement.objects.alive()
        .filter(family__study=study, **{f"{entry_field}__isnull": True})
        .values(text_field)
        .annotate(n=Count("pk"))
        .order_by(Lower(text_field))
    )
    return [{"name": r[text_field], "count": r["n"]} for r in rows]


@transaction.atomic
def care_other_code(
    *, study: Study, kind: str, name: str, target: CareCatalogueEntry, reason: str, user
) -> int:
    """Code every involvement whose "anders" name is `name` (any case and spacing) to the
    listed entry `target` (a data manager, with a reason); returns how many."""
    _require_manager(user, study)
    why = _need_reason(reason)
    target = CareCatalogueEntry.objects.select_for_update().get(pk=target.pk)
    if target.study_id != study.pk or target.kind != kind or target.merged_into_id is not None:
        raise ValidationError({"target": _("Choose a listed entry of this study.")})
    text_field, entry_field = FIELDS[kind]
    wanted = normalise(name)
    candidates = CareInvolvement.objects.select_for_update().filter(
        family__study=study, **{f"{entry_field}__isnull": True}
    )
    matching = [i for i in candidates if normalise(getattr(i, text_field)) == wanted]
    if not matching:
        raise ValidationError({"name": _("No care worker carries this name.")})
    return _move(matching, kind, target, user=user, why=f"coded as “{target.name}”: {why}")
