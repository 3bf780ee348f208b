"""Registry import: upload -> dry run (every problem by row and column) -> all-or-nothing apply.

The ImportBatch row is the record of truth. Celery tasks (study/tasks.py) only call
``registry_import_validate`` and ``registry_import_apply``; both claim the batch first, so a task
delivered twice does the work once, and applying the same file again changes nothing (values equal
to what is stored count as *unchanged*).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from study import selectors
from study.catalogue import indicators_for
from study.importing import Cell, Extract, ImportFileError, Problem, read_extract, too_large
from study.models import (
    Family,
    ImportBatch,
    Indicator,
    IndicatorValue,
    Member,
    Source,
    Study,
    Wave,
)
from study.roles import Role
from study.services import Entry, parse_entry, values_apply_bulk

log = logging.getLogger(__name__)

PREVIEW_ROWS = 25
STORED_PROBLEMS = 500
Progress = Callable[[int, str], None]


def max_import_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", 50 * 1024 * 1024))


def may_import(user, study: Study) -> bool:
    return bool(selectors.study_role(user, study) & {Role.RESEARCHER, Role.DATA_MANAGER})


# --- checking an extract against the study ---------------------------------------------------


@dataclass
class Check:
    """The outcome of checking an extract: what would be written, and every problem."""

    entries: dict[tuple[int, int], Entry] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    summary: dict = field(default_factory=dict)
    preview: list[dict] = field(default_factory=list)


def _show(value: Decimal | None, missing_code: str) -> str:
    if value is None:
        return missing_code
    return f"{value.normalize():f}"


@dataclass
class _Context:
    """What the checks need from the database, loaded in a handful of queries."""

    key_kind: str
    catalogue: dict[str, Indicator]
    by_key: dict[str, tuple[int, str]]
    waves: dict[tuple[int, int], tuple[int, int, bool]]
    years: dict[int, list[int]]
    roles: dict[int, set[str]]
    existing: dict[tuple[int, int], tuple[Decimal | None, str]]

    def lookup(self, key: str) -> tuple[int, str] | None:
        return self.by_key.get(key.strip().lower() if self.key_kind == "linkage_key" else key)

    def kind_name(self, *, other: bool = False) -> str:
        linkage = (self.key_kind == "linkage_key") != other
        return _("linkage key") if linkage else _("pseudonym")


def _context(study: Study, key_kind: str) -> _Context:
    by_key: dict[str, tuple[int, str]] = {}
    for pk, pseudonym, linkage_key in (
        Family.objects.alive().filter(study=study).values_list("pk", "pseudonym", "linkage_key")
    ):
        key = linkage_key.strip().lower() if key_kind == "linkage_key" else pseudonym
        if key:
            by_key[key] = (pk, pseudonym)
    waves: dict[tuple[int, int], tuple[int, int, bool]] = {}
    years: dict[int, list[int]] = {}
    for pk, family_id, year, index, locked in (
        Wave.objects.alive()
        .filter(family__study=study)
        .values_list("pk", "family_id", "year", "index", "locked")
    ):
        waves[(family_id, year)] = (pk, index, locked)
        years.setdefault(family_id, []).append(year)
    roles: dict[int, set[str]] = {}
    for family_id, role in (
        Member.objects.alive().filter(family__study=study).values_list("family_id", "role")
    ):
        roles.setdefault(family_id, set()).add(role)
    existing = {
        (w, i): (v, m)
        for w, i, v, m in IndicatorValue.objects.alive()
        .filter(wave__family__study=study)
        .values_list("wave_id", "indicator_id", "value", "missing_code")
    }
    return _Context(
        key_kind=key_kind,
        catalogue={i.code: i for i in indicators_for(study)},
        by_key=by_key,
        waves=waves,
        years=years,
        roles=roles,
        existing=existing,
    )


class _CellProblem(Exception):
    pass


def _check_cell(
    ctx: _Context, cell: Cell, seen: dict[tuple[int, int, str], int]
) -> tuple[int, str, int, int, Indicator, Entry]:
    """(family id, pseudonym, wave id, wave index, indicator, entry) or _CellProblem(message)."""
    found = ctx.lookup(cell.key)
    if found is None:
        shown = cell.key[:16] + ("…" if len(cell.key) > 16 else "")
        raise _CellProblem(
            _("No family of this study has the %(kind)s '%(key)s'.")
            % {"kind": ctx.kind_name(), "key": shown}
        )
    family_id, pseudonym = found
    indicator = ctx.catalogue.get(cell.code)
    if indicator is None:
        raise _CellProblem(
            _("Unknown indicator '%(code)s': not in this study's catalogue (see the codebook).")
            % {"code": cell.code}
        )
    duplicate_of = seen.get((family_id, cell.year, cell.code))
    if duplicate_of is not None:
        raise _CellProblem(
            _("Duplicate: row %(other)s already gives %(code)s of this family for %(year)s.")
            % {"other": duplicate_of, "code": cell.code, "year": cell.year}
        )
    seen[(family_id, cell.year, cell.code)] = cell.row
    wave = ctx.waves.get((family_id, cell.year))
    if wave is None:
        span = sorted(ctx.years.get(family_id, [])) or ["-"]
        raise _CellProblem(
            _("Family %(family)s has no wave in %(year)s (its waves cover %(first)s–%(last)s).")
            % {"family": pseudonym, "year": cell.year, "first": span[0], "last": span[-1]}
        )
    wave_id, wave_index, locked = wave
    if locked:
        raise _CellProblem(
            _(
                "Wave T%(index)s of family %(family)s (%(year)s) is locked; a data manager must "
                "unlock it first."
            )
            % {"index": wave_index, "family": pseudonym, "year": cell.year}
        )
    try:
        entry = parse_entry(cell.raw, indicator=indicator)
    except ValidationError as exc:
        raise _CellProblem(f"{cell.code}: " + " ".join(exc.messages)) from None
    family_roles = ctx.roles.get(family_id, set())
    if entry.value and indicator.level == Indicator.Level.CHILD and "child" not in family_roles:
        raise _CellProblem(
            _(
                "%(code)s is a child indicator, but family %(family)s has no child recorded; it "
                "must be 0 or a missing code."
            )
            % {"code": cell.code, "family": pseudonym}
        )
    if entry.value and indicator.level == Indicator.Level.ADULT and "adult" not in family_roles:
        raise _CellProblem(
            _("%(code)s is an adult indicator, but family %(family)s has no adult recorded.")
            % {"code": cell.code, "family": pseudonym}
        )
    return family_id, pseudonym, wave_id, wave_index, indicator, entry


def extract_check(study: Study, extract: Extract, *, progress: Progress | None = None) -> Check:
    """Match every cell to a family, wave and indicator and check its value; a handful of queries."""
    check = Check(problems=list(extract.problems))
    ctx = _context(study, extract.key_kind)
    seen: dict[tuple[int, int, str], int] = {}
    unknown_keys = 0
    per_indicator: dict[str, int] = {}
    families: set[int] = set()
    total = max(len(extract.cells), 1)
    step = max(total // 20, 1)
    for n, cell in enumerate(extract.cells):
        if progress and n % step == 0:
            progress(10 + int(80 * n / total), _("checking row %(row)s") % {"row": cell.row})
        try:
            family_id, pseudonym, wave_id, wave_index, indicator, entry = _check_cell(
                ctx, cell, seen
            )
        except _CellProblem as exc:
            unknown_keys += ctx.lookup(cell.key) is None
            check.problems.append(
                Problem(message=str(exc), row=cell.row, column=cell.column, cell=cell.cell)
            )
            continue
        check.entries[(wave_id, indicator.pk)] = entry
        families.add(family_id)
        per_indicator[cell.code] = per_indicator.get(cell.code, 0) + 1
        current = ctx.existing.get((wave_id, indicator.pk))
        if current == (entry.value, entry.missing_code):
            check.unchanged += 1
            continue
        if current is None:
            check.created += 1
        else:
            check.updated += 1
        if len(check.preview) < PREVIEW_ROWS:
            check.preview.append(
                {
                    "row": cell.row,
                    "family": pseudonym,
                    "year": cell.year,
                    "wave": f"T{wave_index}",
                    "indicator": cell.code,
                    "old": "" if current is None else _show(*current),
                    "new": _show(entry.value, entry.missing_code),
                    "action": "new" if current is None else "changed",
                }
            )
    if extract.cells and unknown_keys == len(extract.cells):
        check.problems.insert(
            0,
            Problem(
                message=_(
                    "None of the keys in the file belongs to a family of this study: is this the "
                    "extract of another study, or keyed by %(other)s instead of %(kind)s?"
                )
                % {"other": ctx.kind_name(other=True), "kind": ctx.kind_name()}
            ),
        )
    if not extract.cells and not check.problems:
        check.problems.append(Problem(message=_("The file holds no values to import.")))
    years_seen = sorted({c.year for c in extract.cells})
    check.summary = {
        "rows": extract.rows,
        "values": len(extract.cells),
        "empty_cells": extract.empty_cells,
        "families": len(families),
        "years": [years_seen[0], years_seen[-1]] if years_seen else [],
        "indicators": dict(sorted(per_indicator.items())),
        "new": check.created,
        "changed": check.updated,
        "unchanged": check.unchanged,
    }
    return check


def _read(batch: ImportBatch) -> Extract:
    codes = {i.code for i in indicators_for(batch.study)}
    return read_extract(
        bytes(batch.content),
        batch.filename,
        indicator_codes=codes,
        layout=batch.layout,
        max_bytes=max_import_bytes(),
    )


# --- writing -----------------------------------------------------------------------------------


# --- the workflow ----------------------------------------------------------------------------


def template_write(study: Study, families, out) -> None:
    """Write the wide import template (pseudonym, year, indicator codes) for these families."""
    import csv

    codes = [i.code for i in indicators_for(study)]
    writer = csv.writer(out)
    writer.writerow(["pseudonym", "year", *codes])
    rows = (
        Wave.objects.alive()
        .filter(family__in=families)
        .order_by("family__pseudonym", "year")
        .values_list("family__pseudonym", "year")
    )
    for pseudonym, year in rows:
        writer.writerow([pseudonym, year, *[""] * len(codes)])


def _problems_json(problems: list[Problem]) -> list[dict]:
    return [p.as_dict() for p in problems[:STORED_PROBLEMS]]


def registry_import_upload(
    *,
    study: Study,
    user,
    filename: str,
    content: bytes,
    layout: str = "auto",
    enqueue: bool = True,
    size: int | None = None,
) -> ImportBatch:
    """Store an uploaded extract and queue its dry run (after the transaction commits).

    ``size`` lets a caller refuse an upload by its size without reading it (content then b"").
    """
    if user is not None and not may_import(user, study):
        raise PermissionDenied
    if layout not in ImportBatch.Layout.values:
        raise ValidationError({"layout": _("Unknown layout '%(layout)s'.") % {"layout": layout}})
    batch = ImportBatch(
        study=study,
        filename=filename[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content) if size is None else size,
        layout=layout,
        created_by=user,
    )
    if batch.size > max_import_bytes():
        # Refused before it is stored: an enormous file never reaches the database.
        problem = too_large(batch.size, max_import_bytes()).as_problem()
        batch.status, batch.errors, batch.error_count = (
            ImportBatch.Status.FAILED,
            [problem.as_dict()],
            1,
        )
        batch.validated_at = timezone.now()
        batch.save()
        return batch
    batch.content = content
    with transaction.atomic():
        batch.save()
        if enqueue:
            from study.tasks import registry_import_validate_task

            transaction.on_commit(lambda: registry_import_validate_task.delay(batch.pk))
    return batch


def registry_import_upload_file(*, study: Study, user, upload, layout: str = "auto") -> ImportBatch:
    """The same for an uploaded file (page or API): an enormous file is refused unread."""
    too_big = upload.size > max_import_bytes()
    return registry_import_upload(
        study=study,
        user=user,
        filename=upload.name,
        content=b"" if too_big else upload.read(),
        size=upload.size,
        layout=layout,
    )


_WITHOUT_CONTENT = [f.attname for f in ImportBatch._meta.concrete_fields if f.name != "content"]


def _set(batch_id: int, **fields) -> None:
    ImportBatch.objects.filter(pk=batch_id).update(**fields)


def _progress(batch_id: int) -> Progress:
    def report(percent: int, note: str) -> None:
        _set(
            batch_id,
            progress=max(0, min(percent, 99)),
            progress_note=note[:200],
            heartbeat_at=timezone.now(),
        )

    return report


def _given_up(batch: ImportBatch) -> bool:
    """A job that keeps killing its worker is stopped after IMPORT_MAX_ATTEMPTS deliveries."""
    limit = int(getattr(settings, "IMPORT_MAX_ATTEMPTS", 3))
    if batch.attempts < limit:
        return False
    message = _(
        "Stopped after %(n)s attempts: the job ended the worker each time (for example out of "
        "memory). Nothing was imported. Split the file and try again, or ask the data manager."
    ) % {"n": batch.attempts}
    _set(
        batch.pk,
        status=ImportBatch.Status.FAILED,
        errors=[{"message": message}],
        error_count=1,
        progress=100,
        progress_note="",
    )
    log.error("import batch %s given up after %s attempts", batch.pk, batch.attempts)
    return True


def registry_import_validate(*, batch_id: int) -> ImportBatch | None:
    """The dry run: read and check the whole file, store the problems or the preview."""
    claimed = ImportBatch.objects.filter(
        pk=batch_id, status__in=[ImportBatch.Status.QUEUED, ImportBatch.Status.VALIDATING]
    ).update(
        status=ImportBatch.Status.VALIDATING,
        progress=1,
        progress_note=_("reading the file"),
        heartbeat_at=timezone.now(),
    )
    if not claimed:
        return None
    batch = ImportBatch.objects.select_related("study").get(pk=batch_id)
    if _given_up(batch):
        return ImportBatch.objects.defer("content").get(pk=batch_id)
    _set(batch_id, attempts=batch.attempts + 1)
    progress = _progress(batch_id)
    forget_content = False
    try:
        extract = _read(batch)
    except ImportFileError as exc:
        problems = [exc.as_problem()]
        check = Check(problems=problems)
        forget_content = exc.discard
        extract = None
    else:
        progress(10, _("checking the values"))
        check = extract_check(batch.study, extract, progress=progress)
    outcome = {
        "summary": check.summary,
        "preview": check.preview,
        "created": check.created,
        "updated": check.updated,
        "unchanged": check.unchanged,
        "errors": _problems_json(check.problems),
        "error_count": len(check.problems),
        "status": ImportBatch.Status.FAILED if check.problems else ImportBatch.Status.VALIDATED,
        "progress": 100,
        "progress_note": "",
        "validated_at": timezone.now(),
    }
    if extract is not None:
        outcome.update(
            fmt=extract.fmt, key_kind=extract.key_kind, rows=extract.rows, layout=extract.layout
        )
    if forget_content:
        outcome["content"] = b""
    previous = (
        ImportBatch.objects.filter(
            study=batch.study, sha256=batch.sha256, status=ImportBatch.Status.APPLIED
        )
        .exclude(pk=batch.pk)
        .order_by("-applied_at")
        .first()
    )
    if previous:
        outcome["summary"]["imported_before"] = {
            "batch": previous.pk,
            "at": previous.applied_at.isoformat() if previous.applied_at else "",
        }
    # One UPDATE of the outcome: the stored file (up to IMPORT_MAX_BYTES) is not written again.
    _set(batch_id, **outcome)
    return ImportBatch.objects.select_related("study").defer("content").get(pk=batch_id)


def registry_import_apply_request(*, batch: ImportBatch, user, enqueue: bool = True) -> ImportBatch:
    """Queue the import of a checked file; refuses a file that was not checked or had problems."""
    if user is not None and not may_import(user, batch.study):
        raise PermissionDenied
    claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.VALIDATED).update(
        status=ImportBatch.Status.APPLYING,
        applied_by=user,
        attempts=0,
        progress=1,
        progress_note=_("waiting for the import job"),
        heartbeat_at=timezone.now(),
    )
    if not claimed:
        raise ValidationError(
            _(
                "Only a file whose dry run found no problems can be imported (this one is %(status)s)."
            )
            % {"status": batch.get_status_display()}
        )
    batch.refresh_from_db(fields=_WITHOUT_CONTENT)
    if enqueue:
        from study.tasks import registry_import_apply_task

        transaction.on_commit(lambda: registry_import_apply_task.delay(batch.pk))
    return batch


def registry_import_apply(*, batch_id: int) -> ImportBatch | None:
    """Import a checked file in one transaction: everything, or (on any problem) nothing.

    The file is checked again inside the transaction, so a wave locked after the dry run refuses
    the whole import instead of being skipped. Running it twice changes nothing the second time.
    """
    batch = (
        ImportBatch.objects.select_related("study", "applied_by")
        .filter(pk=batch_id, status=ImportBatch.Status.APPLYING)
        .first()
    )
    if batch is None or _given_up(batch):
        return None
    _set(
        batch_id,
        attempts=batch.attempts + 1,
        progress_note=_("importing"),
        heartbeat_at=timezone.now(),
    )
    reason = f"registry import {batch.filename} (batch {batch.pk})"
    problems: list[Problem] = []
    try:
        with transaction.atomic():
            locked = ImportBatch.objects.select_for_update().only("status").get(pk=batch_id)
            if locked.status != ImportBatch.Status.APPLYING:
                return None  # another delivery finished it meanwhile
            extract = _read(batch)
            check = extract_check(batch.study, extract)
            if check.problems:
                problems = check.problems
                raise _Refused
            created, updated, unchanged = values_apply_bulk(
                check.entries,
                user=batch.applied_by,
                source=Source.IMPORT,
                import_batch=batch,
                reason=reason,
            )
            _set(
                batch_id,
                status=ImportBatch.Status.APPLIED,
                created=created,
                updated=updated,
                unchanged=unchanged,
                progress=100,
                progress_note="",
                applied_at=timezone.now(),
            )
    except _Refused:
        _set(
            batch_id,
            status=ImportBatch.Status.FAILED,
            errors=_problems_json(problems),
            error_count=len(problems),
            progress=100,
            progress_note="",
        )
    except ImportFileError as exc:
        _set(
            batch_id,
            status=ImportBatch.Status.FAILED,
            errors=[exc.as_problem().as_dict()],
            error_count=1,
            progress=100,
            progress_note="",
        )
    return ImportBatch.objects.defer("content").get(pk=batch_id)


class _Refused(Exception):
    """Raised inside the apply transaction to roll it back when the re-check finds problems."""


def _enqueue(batch: ImportBatch) -> None:
    from study.tasks import registry_import_apply_task, registry_import_validate_task

    task = (
        registry_import_apply_task
        if batch.status == ImportBatch.Status.APPLYING
        else registry_import_validate_task
    )
    task.delay(batch.pk)


def import_reconcile(*, now=None) -> dict[str, int]:
    """Requeue the import jobs the broker lost or whose worker died (the database is the record of
    truth): a batch still waiting after IMPORT_REQUEUE_QUEUED_SECONDS, or one being checked or
    imported without a sign of life for IMPORT_STALE_SECONDS (longer than the task time limit).
    Requeueing is harmless: every job claims its batch first. After IMPORT_MAX_ATTEMPTS the batch
    is failed instead (see _given_up)."""
    now = now or timezone.now()
    queued_after = int(getattr(settings, "IMPORT_REQUEUE_QUEUED_SECONDS", 600))
    stale_after = int(getattr(settings, "IMPORT_STALE_SECONDS", 35 * 60))
    waiting = ImportBatch.objects.defer("content").filter(
        status=ImportBatch.Status.QUEUED,
        heartbeat_at__lt=now - timedelta(seconds=queued_after),
    )
    stale = ImportBatch.objects.defer("content").filter(
        status__in=[ImportBatch.Status.VALIDATING, ImportBatch.Status.APPLYING],
        heartbeat_at__lt=now - timedelta(seconds=stale_after),
    )
    outcome = {"requeued": 0, "failed": 0}
    for batch in [*waiting, *stale]:
        if _given_up(batch):
            outcome["failed"] += 1
            continue
        _set(batch.pk, heartbeat_at=now)
        transaction.on_commit(lambda b=batch: _enqueue(b))
        outcome["requeued"] += 1
        log.warning("import batch %s (%s) requeued by the reconciler", batch.pk, batch.status)
    return outcome
