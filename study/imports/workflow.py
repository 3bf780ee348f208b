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
import os
import secrets
import time
from pathlib import Path
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
from study.imports.screening import Limits, has_bsn, screen_file
from study.models import Family, ImportBatch, Source, Study, Wave
from study.selectors import may_import
from study.services.values import values_apply_bulk
from tracker import jobs

log = logging.getLogger(__name__)

STORED_PROBLEMS = 500

_WITHOUT_CONTENT = [f.attname for f in ImportBatch._meta.concrete_fields if f.name != "content"]


# --- the spool: uploaded files wait outside the database ---------------------------------------


def _spool_dir() -> Path:
    path = Path(settings.IMPORT_SPOOL_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def spool_path(batch: ImportBatch) -> Path | None:
    return _spool_dir() / batch.spool if batch.spool else None


def _spool_write(chunks) -> tuple[str, str, int, bool]:
    """Write the upload to a new spool file: (name, sha256, size, too_big). Counting while
    writing: past IMPORT_MAX_BYTES the file is deleted and the rest is not read."""
    name = secrets.token_hex(16)
    path = _spool_dir() / name
    digest, size = hashlib.sha256(), 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        for chunk in chunks:
            size += len(chunk)
            if size > settings.IMPORT_MAX_BYTES:
                out.close()
                path.unlink(missing_ok=True)
                return "", "", size, True
            digest.update(chunk)
            out.write(chunk)
    return name, digest.hexdigest(), size, False


def spool_discard(batch: ImportBatch, *, now: bool = False) -> None:
    """Delete the batch's spooled file once it is no longer needed (after the apply or a
    refusal): at once, or left for `spool_cleanup` when IMPORT_RETENTION_SECONDS is set. A file
    with direct identifiers is deleted at once whatever the retention (``now``)."""
    path = spool_path(batch)
    if path is None:
        return
    if now or settings.IMPORT_RETENTION_SECONDS <= 0:
        path.unlink(missing_ok=True)


def spool_cleanup() -> int:
    """Delete spooled files older than the retention period whose batch is finished."""
    keep = max(settings.IMPORT_RETENTION_SECONDS, 0)
    cutoff = time.time() - keep
    waiting = set(
        ImportBatch.objects.exclude(status__in=ImportBatch.FINISHED)
        .exclude(spool="")
        .values_list("spool", flat=True)
    )
    removed = 0
    for path in _spool_dir().iterdir():
        if path.name not in waiting and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _limits() -> Limits:
    return Limits(
        max_bytes=settings.IMPORT_MAX_BYTES,
        max_rows=settings.IMPORT_MAX_ROWS,
        max_columns=settings.IMPORT_MAX_COLUMNS,
        max_uncompressed_bytes=settings.IMPORT_MAX_UNCOMPRESSED_BYTES,
        max_zip_ratio=settings.IMPORT_MAX_ZIP_RATIO,
    )


class _Gone(ImportFileError):
    pass


def _content(batch: ImportBatch) -> bytes:
    if batch.content:
        return bytes(batch.content)  # a batch from before the spool
    path = spool_path(batch)
    if path is None or not path.exists():
        raise _Gone(
            _(
                "The uploaded file is no longer here (deleted after its dry run or its retention "
                "period, or uploaded on another machine): upload it again."
            )
        )
    return path.read_bytes()


def _read(batch: ImportBatch) -> Extract:
    codes = {i.code for i in indicators_for(batch.study)}
    return read_extract(
        _content(batch),
        batch.filename,
        indicator_codes=codes,
        layout=batch.layout,
        max_bytes=settings.IMPORT_MAX_BYTES,
    )


def _filename_refused() -> ValidationError:
    return ValidationError(
        _(
            "The file name holds a number that passes the BSN check (the 11-proof): rename the "
            "file. Nothing was stored."
        )
    )


def template_write(
    study: Study, families: QuerySet[Family], out: Any, *, delimiter: str = ","
) -> None:
    """Write the wide import template (pseudonym, year, indicator codes) for these families;
    `delimiter` ';' for Dutch Excel."""
    codes = [i.code for i in indicators_for(study)]
    writer = csv.writer(out, delimiter=delimiter)
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
    """Spool an uploaded extract (outside the database) and queue its dry run (after the
    transaction commits); the dry run screens it before anything of it is stored.

    ``size`` lets a caller refuse an upload by its size without reading it (content then b"").
    """
    return _upload(
        study=study,
        user=user,
        filename=filename,
        chunks=[content] if size is None or size <= settings.IMPORT_MAX_BYTES else [],
        layout=layout,
        enqueue=enqueue,
        size=size,
    )


def _upload(*, study, user, filename, chunks, layout, enqueue, size=None) -> ImportBatch:
    if user is not None and not may_import(user, study):
        raise PermissionDenied
    if layout not in ImportBatch.Layout.values:
        raise ValidationError({"layout": _("Unknown layout '%(layout)s'.") % {"layout": layout}})
    if has_bsn(filename):
        raise _filename_refused()
    spool, sha256, written, too_big = ("", "", size or 0, True)
    if size is None or size <= settings.IMPORT_MAX_BYTES:
        spool, sha256, written, too_big = _spool_write(chunks)
    batch = ImportBatch(
        study=study,
        filename=filename[:255],
        sha256=sha256,
        size=written if size is None else max(size, written),
        layout=layout,
        created_by=user,
        spool=spool,
    )
    if too_big or batch.size > settings.IMPORT_MAX_BYTES:
        # Refused before it is stored: an enormous file never reaches the database.
        problem = too_large(batch.size, settings.IMPORT_MAX_BYTES).as_problem()
        batch.status, batch.errors, batch.error_count = (
            ImportBatch.Status.FAILED,
            [problem.as_dict()],
            1,
        )
        batch.validated_at = timezone.now()
        batch.spool = ""
        batch.save()
        return batch
    with transaction.atomic():
        batch.save()
        if enqueue:
            jobs.enqueue_on_commit(DRY_RUN_JOB.task_name, batch.pk)
    return batch


def registry_import_upload_file(*, study: Study, user, upload, layout: str = "auto") -> ImportBatch:
    """The same for an uploaded file (page or API), streamed to the spool chunk by chunk: an
    enormous file is refused unread (by its declared size) or as soon as it passes the limit."""
    too_big = upload.size is not None and upload.size > settings.IMPORT_MAX_BYTES
    return _upload(
        study=study,
        user=user,
        filename=upload.name,
        chunks=[] if too_big else upload.chunks(),
        layout=layout,
        enqueue=True,
        size=upload.size if too_big else None,
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


def _screen(batch: ImportBatch, progress: Progress) -> None:
    """Screen the whole spooled file (BSNs, identifiers, limits) before anything of it is read
    into the database; the heartbeat goes on while it reads."""
    if batch.content:
        return  # a batch from before the spool was screened when it was read
    path = spool_path(batch)
    if path is None or not path.exists():
        _content(batch)  # raises _Gone
        return

    def beat(rows: int) -> None:
        progress(5, _("reading the file (%(rows)s rows)") % {"rows": rows})

    screen_file(path, batch.filename, limits=_limits(), heartbeat=beat)


def _dry_run(claim: jobs.Claim) -> ImportBatch:
    batch = ImportBatch.objects.select_related("study").defer("content").get(pk=claim.job_id)
    progress = _progress(claim)
    extract: Extract | None = None
    forget_content = False
    try:
        _screen(batch, progress)
        extract = _read(batch)
    except ImportFileError as exc:
        check = Check(problems=[exc.as_problem()])
        forget_content = exc.discard
        if exc.discard:
            spool_discard(batch, now=True)
    else:
        progress(10, _("checking the values"))
        check = extract_check(batch.study, extract, progress=progress)
    if check.problems:
        spool_discard(batch)  # refused: the file is not needed any more
    outcome = _dry_run_outcome(check, extract, forget_content=forget_content)
    if forget_content:
        outcome.update(sha256="", preview=[], summary={})
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
    spool_discard(batch)  # applied or refused: the file is not needed any more
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
