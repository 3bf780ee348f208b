"""Registry import: upload -> dry run (every problem by row and column) -> all-or-nothing apply.

The ImportBatch row is the record of truth; the dry run and the apply are jobs of tracker/jobs.py
(study/imports/job.py). The Celery tasks (study/tasks.py) only call ``registry_import_validate``
and ``registry_import_apply``; both claim the batch first (compare-and-set), so a task delivered
twice does the work once, and applying the same file again changes nothing (values equal to what
is stored count as *unchanged*). Services here never import the tasks: they enqueue them by name
after the transaction commits (`tracker.jobs.enqueue_on_commit`). Batches a dead worker or a
lost message left behind are put right by the one reconcile pass (tracker/job_kinds.py).
"""

from __future__ import annotations

import csv
import hashlib
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from study.catalogue import indicators_for
from study.imports.checking import Check, Progress, extract_check
from study.imports.job import APPLY_JOB, DRY_RUN_JOB
from study.imports.problems import ImportFileError, Problem, too_large
from study.imports.reading import Extract, read_extract
from study.models import Family, ImportBatch, Source, Study, Wave
from study.selectors import may_import
from study.services.values import values_apply_bulk
from tracker import jobs

log = logging.getLogger(__name__)

STORED_PROBLEMS = 500

_WITHOUT_CONTENT = [f.attname for f in ImportBatch._meta.concrete_fields if f.name != "content"]


def _read(batch: ImportBatch) -> Extract:
    codes = {i.code for i in indicators_for(batch.study)}
    return read_extract(
        bytes(batch.content),
        batch.filename,
        indicator_codes=codes,
        layout=batch.layout,
        max_bytes=settings.IMPORT_MAX_BYTES,
    )


def template_write(study: Study, families: QuerySet[Family], out: Any) -> None:
    """Write the wide import template (pseudonym, year, indicator codes) for these families."""
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


# --- upload ------------------------------------------------------------------------------------


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
    if batch.size > settings.IMPORT_MAX_BYTES:
        # Refused before it is stored: an enormous file never reaches the database.
        problem = too_large(batch.size, settings.IMPORT_MAX_BYTES).as_problem()
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
            jobs.enqueue_on_commit(DRY_RUN_JOB.task_name, batch.pk)
    return batch


def registry_import_upload_file(*, study: Study, user, upload, layout: str = "auto") -> ImportBatch:
    """The same for an uploaded file (page or API): an enormous file is refused unread."""
    too_big = upload.size > settings.IMPORT_MAX_BYTES
    return registry_import_upload(
        study=study,
        user=user,
        filename=upload.name,
        content=b"" if too_big else upload.read(),
        size=upload.size,
        layout=layout,
    )


# --- the jobs' bookkeeping ---------------------------------------------------------------------


def _progress(claim: jobs.Claim) -> Progress:
    """Progress is also the heartbeat; only the attempt that holds the claim writes it."""

    def report(percent: int, note: str) -> None:
        claim.heartbeat(progress=max(0, min(percent, 99)), progress_note=note[:200])

    return report


def _failed(claim: jobs.Claim, problems: list[Problem]) -> None:
    claim.finish(
        status=ImportBatch.Status.FAILED,
        errors=_problems_json(problems),
        error_count=len(problems),
        progress=100,
        progress_note="",
        claimed_by="",
    )


# --- dry run -------------------------------------------------------------------------------------


def _dry_run_outcome(check: Check, extract: Extract | None, *, forget_content: bool) -> dict:
    """The fields of the batch the dry run sets (one UPDATE)."""
    outcome: dict[str, Any] = {
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
    return outcome


def _imported_before(batch: ImportBatch) -> dict | None:
    """The last applied batch of the same file in the study, if any."""
    previous = (
        ImportBatch.objects.filter(
            study=batch.study, sha256=batch.sha256, status=ImportBatch.Status.APPLIED
        )
        .exclude(pk=batch.pk)
        .order_by("-applied_at")
        .first()
    )
    if previous is None:
        return None
    return {
        "batch": previous.pk,
        "at": previous.applied_at.isoformat() if previous.applied_at else "",
    }


def registry_import_validate(*, batch_id: int) -> ImportBatch | None:
    """The dry run: read and check the whole file, store the problems or the preview.

    The batch is claimed first (tracker/jobs.py), so however often the task is delivered, one
    worker does the dry run; a batch whose worker died is taken over, and one that has used up
    IMPORT_MAX_ATTEMPTS is failed instead. None when there was nothing to do."""
    claim = jobs.job_claim(DRY_RUN_JOB, job_id=batch_id)
    if isinstance(claim, jobs.GaveUp):
        return ImportBatch.objects.defer("content").get(pk=batch_id)
    if claim is None:
        return None  # checked already, held by a live worker, or claimed by another first
    return jobs.run_claimed(claim, _dry_run)


def _dry_run(claim: jobs.Claim) -> ImportBatch:
    batch = ImportBatch.objects.select_related("study").get(pk=claim.job_id)
    progress = _progress(claim)
    extract: Extract | None = None
    forget_content = False
    try:
        extract = _read(batch)
    except ImportFileError as exc:
        check = Check(problems=[exc.as_problem()])
        forget_content = exc.discard
    else:
        progress(10, _("checking the values"))
        check = extract_check(batch.study, extract, progress=progress)
    outcome = _dry_run_outcome(check, extract, forget_content=forget_content)
    previous = _imported_before(batch)
    if previous:
        outcome["summary"]["imported_before"] = previous
    # One UPDATE of the outcome: the stored file (up to IMPORT_MAX_BYTES) is not written again.
    if not claim.finish(**outcome, claimed_by="", heartbeat_at=timezone.now()):
        log.warning("import batch %s: dry run lost its claim, outcome dropped", batch.pk)
    return ImportBatch.objects.select_related("study").defer("content").get(pk=claim.job_id)


# --- apply ---------------------------------------------------------------------------------------


def registry_import_apply_request(*, batch: ImportBatch, user, enqueue: bool = True) -> ImportBatch:
    """Queue the import of a checked file; refuses a file that was not checked or had problems."""
    if user is not None and not may_import(user, batch.study):
        raise PermissionDenied
    # The apply is a job of its own: queued, its attempts counted from 0.
    claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.VALIDATED).update(
        status=ImportBatch.Status.APPLY_QUEUED,
        applied_by=user,
        attempts=0,
        claimed_by="",
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
        jobs.enqueue_on_commit(APPLY_JOB.task_name, batch.pk)
    return batch


class _Refused(Exception):
    """Raised inside the apply transaction to roll it back when the re-check finds problems."""

    def __init__(self, problems: list[Problem]):
        super().__init__("the re-check found problems")
        self.problems = problems


class _ClaimLost(Exception):
    """Raised inside the apply transaction to roll it back when this attempt no longer holds the
    batch (another worker took it over, or it was given up)."""


def _apply_checked(batch: ImportBatch, claim: jobs.Claim) -> None:
    """Inside the apply transaction: re-check the file and write it. Raises _Refused when the
    re-check finds problems and _ClaimLost when the batch is no longer this attempt's (both roll
    the transaction back)."""
    if claim.held.select_for_update().only("pk").first() is None:
        raise _ClaimLost
    check = extract_check(batch.study, _read(batch))
    if check.problems:
        raise _Refused(check.problems)
    created, updated, unchanged = values_apply_bulk(
        check.entries,
        user=batch.applied_by,
        source=Source.IMPORT,
        import_batch=batch,
        reason=f"registry import {batch.filename} (batch {batch.pk})",
    )
    if not claim.finish(
        status=ImportBatch.Status.APPLIED,
        created=created,
        updated=updated,
        unchanged=unchanged,
        progress=100,
        progress_note="",
        claimed_by="",
        applied_at=timezone.now(),
    ):
        raise _ClaimLost


def registry_import_apply(*, batch_id: int) -> ImportBatch | None:
    """Import a checked file in one transaction: everything, or (on any problem) nothing.

    The batch is claimed first, as the dry run is; the file is checked again inside the
    transaction, so a wave locked after the dry run refuses the whole import instead of being
    skipped. Running it twice changes nothing the second time.
    """
    claim = jobs.job_claim(APPLY_JOB, job_id=batch_id)
    if not isinstance(claim, jobs.Claim):
        return None  # imported already, held by a live worker, or given up
    return jobs.run_claimed(claim, _apply)


def _apply(claim: jobs.Claim) -> ImportBatch | None:
    batch = ImportBatch.objects.select_related("study", "applied_by").get(pk=claim.job_id)
    try:
        with transaction.atomic():
            _apply_checked(batch, claim)
    except _ClaimLost:
        log.warning("import batch %s: apply lost its claim, nothing written", batch.pk)
        return None
    except _Refused as refused:
        _failed(claim, refused.problems)
    except ImportFileError as exc:
        _failed(claim, [exc.as_problem()])
    return ImportBatch.objects.defer("content").get(pk=claim.job_id)


def registry_import_in_process(
    *, study: Study, user, filename: str, content: bytes, layout: str = "auto", apply: bool
) -> ImportBatch:
    """Upload, dry run and (with ``apply``, when the dry run is clean) import, here and now
    rather than in a worker (the ``import_registry`` command)."""
    batch = registry_import_upload(
        study=study, user=user, filename=filename, content=content, layout=layout, enqueue=False
    )
    batch = registry_import_validate(batch_id=batch.pk) or batch
    if apply and batch.status == ImportBatch.Status.VALIDATED:
        registry_import_apply_request(batch=batch, user=user, enqueue=False)
        batch = registry_import_apply(batch_id=batch.pk) or batch
    return batch
