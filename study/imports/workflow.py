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
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from study import bulk_sql
from study.catalogue import indicators_for
from study.imports.checking import Check, Progress, extract_check
from study.imports.fast import fast_check
from study.imports.job import APPLY_JOB, DRY_RUN_JOB
from study.imports.problems import ImportFileError, Problem, too_large
from study.imports.reading import Extract, read_extract
from study.imports.screening import Limits, has_bsn, screen_file
from study.models import (
    Family,
    ImportBatch,
    Indicator,
    IndicatorValue,
    Member,
    MissingCode,
    Source,
    Study,
    Wave,
)
from study.selectors import may_import
from study.services.quality import quality_run
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


def _read(batch: ImportBatch, content: bytes | None = None) -> Extract:
    codes = {i.code for i in indicators_for(batch.study)}
    return read_extract(
        _content(batch) if content is None else content,
        batch.filename,
        indicator_codes=codes,
        layout=batch.layout,
        max_bytes=settings.IMPORT_MAX_BYTES,
    )


def _check(batch: ImportBatch, progress: Progress | None = None) -> tuple[Check, Extract]:
    """Read and check the file: set-based when it is a clean CSV file (study/imports/fast.py),
    otherwise (and for every file with a problem) cell by cell, which words each problem."""
    content = _content(batch)
    if len(content) > settings.IMPORT_MAX_BYTES:
        raise too_large(len(content), settings.IMPORT_MAX_BYTES)
    fast = fast_check(batch.study, content, batch.filename, layout=batch.layout)
    if fast is not None:
        check = Check(
            created=fast.created,
            updated=fast.updated,
            unchanged=fast.unchanged,
            summary=fast.summary,
            preview=fast.preview,
            frame=fast.frame,
        )
        extract = Extract(
            fmt=fast.fmt,
            layout=fast.layout,
            key_kind=fast.key_kind,
            header=[],
            rows=fast.rows,
            empty_cells=fast.empty_cells,
        )
        return check, extract
    extract = _read(batch, content)
    if progress:
        progress(10, _("checking the values"))
    return extract_check(batch.study, extract, progress=progress), extract


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


def preview_shown(batch: ImportBatch, language: str) -> list[dict]:
    """The dry run's preview as people read it: indicator labels (the code beside them) and
    missing-data codes by their labels, in ``language``; one query."""
    labels = {i.code: i.label(language) for i in indicators_for(batch.study)}
    missing = dict(MissingCode.choices)

    def shown(value: str) -> str:
        return str(missing.get(value, value))

    return [
        {
            **row,
            "indicator_label": labels.get(row.get("indicator", ""), row.get("indicator", "")),
            "old": shown(row.get("old", "")),
            "new": shown(row.get("new", "")),
        }
        for row in batch.preview or []
    ]


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
        # What the import would write is the summary's (new, changed, unchanged); created,
        # updated and unchanged are what an import wrote, so they stay 0 until it has.
        "created": 0,
        "updated": 0,
        "unchanged": 0,
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
    return jobs.job_execute(
        DRY_RUN_JOB,
        job_id=batch_id,
        work=_dry_run,
        gave_up=lambda pk: ImportBatch.objects.defer("content").get(pk=pk),
    )


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


def _same_file_again(batch: ImportBatch) -> tuple[Check, Extract] | None:
    """The dry run of a file imported before in this study (same bytes, same layout) when
    nothing it reads has changed since that import: every value unchanged, known without
    checking the file again ("no change" in one pass). None otherwise."""
    if not batch.sha256:
        return None
    previous = (
        ImportBatch.objects.filter(
            study=batch.study,
            sha256=batch.sha256,
            status=ImportBatch.Status.APPLIED,
        )
        .exclude(pk=batch.pk)
        .defer("content")
        .order_by("-applied_at")
        .first()
    )
    if previous is None or previous.applied_at is None or not previous.summary:
        return None
    if batch.layout != ImportBatch.Layout.AUTO and batch.layout != previous.layout:
        return None  # the same bytes read another way
    if not _untouched_since(batch.study, previous.applied_at):
        return None
    values = previous.summary.get("values", 0)
    summary = {**previous.summary, "new": 0, "changed": 0, "unchanged": values}
    check = Check(unchanged=values, summary=summary)
    extract = Extract(
        fmt=previous.fmt,
        layout=previous.layout,
        key_kind=previous.key_kind,
        header=[],
        rows=previous.rows,
    )
    return check, extract


def _dry_run(claim: jobs.Claim) -> ImportBatch:
    batch = ImportBatch.objects.select_related("study").defer("content").get(pk=claim.job_id)
    progress = _progress(claim)
    extract: Extract | None = None
    forget_content = False
    try:
        _screen(batch, progress)
        again = _same_file_again(batch)
        check, extract = again if again is not None else _check(batch, progress)
    except ImportFileError as exc:
        check = Check(problems=[exc.as_problem()])
        forget_content = exc.discard
        if exc.discard:
            spool_discard(batch, now=True)
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


def _apply_checked(batch: ImportBatch, claim: jobs.Claim) -> list[int]:
    """Inside the apply transaction: re-check the file and write it. Raises _Refused when the
    re-check finds problems and _ClaimLost when the batch is no longer this attempt's (both roll
    the transaction back)."""
    if claim.held.select_for_update().only("pk").first() is None:
        raise _ClaimLost
    if _nothing_to_write(batch):
        # The dry run found every value as stored and nothing the check reads has changed
        # since: "no change" without reading the file a second time.
        families: list[int] = []
        created, updated, unchanged = 0, 0, batch.summary["unchanged"]
    else:
        check, _extract = _check(batch)
        if check.problems:
            raise _Refused(check.problems)
        created, updated, unchanged, families = _write(batch, check)
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
    return families


def _nothing_to_write(batch: ImportBatch) -> bool:
    """Whether the dry run found nothing to write and no value, wave, family, member or
    indicator of the study has changed since (every change leaves a history row): a handful of
    EXISTS queries instead of a second pass over the file."""
    since, summary = batch.validated_at, batch.summary or {}
    if since is None or summary.get("new", 1) or summary.get("changed", 1):
        return False
    if not summary.get("unchanged"):
        return False
    return _untouched_since(batch.study, since)


def _untouched_since(study: Study, since) -> bool:
    """Whether no value, wave, family, member or indicator of the study changed since."""
    waves = Wave.objects.filter(family__study=study).values("pk")
    families = Family.objects.filter(study=study).values("pk")
    changed = (
        IndicatorValue.history.filter(history_date__gte=since, wave_id__in=waves),
        Wave.history.filter(history_date__gte=since, family_id__in=families),
        Family.history.filter(history_date__gte=since, study_id=study.pk),
        Member.history.filter(history_date__gte=since, family_id__in=families),
        Indicator.history.filter(history_date__gte=since),
    )
    return not any(query.exists() for query in changed)


def _write(batch: ImportBatch, check: Check) -> tuple[int, int, int, list[int]]:
    """Write the checked values: one COPY per table on PostgreSQL (set-based check), otherwise
    the bulk writer of the values service; (created, updated, unchanged, the families whose
    values changed)."""
    reason = f"registry import {batch.filename} (batch {batch.pk})"
    frame = check.frame
    if frame is None or connection.vendor != "postgresql":
        entries = check.entries if frame is None else frame.entries()
        created, updated, unchanged = values_apply_bulk(
            entries, user=batch.applied_by, source=Source.IMPORT, import_batch=batch, reason=reason
        )
        families: list[int] = []
        if created or updated:
            families = list(
                Wave.objects.filter(pk__in={w for w, _i in entries})
                .values_list("family_id", flat=True)
                .distinct()
            )
        return created, updated, unchanged, families
    write = frame.state != 2
    bulk_sql.indicator_values_copy(
        wave_id=frame.wave_id[write],
        indicator_id=frame.indicator_id[write],
        value=frame.value[write],
        missing_code=frame.missing_code[write],
        existing=frame.existing[write],
        source=Source.IMPORT,
        import_batch_id=batch.pk,
        user_id=batch.applied_by_id,
        reason=reason,
    )
    families = sorted(set(frame.family_id[write].tolist()))
    return check.created, check.updated, check.unchanged, families


def registry_import_apply(*, batch_id: int) -> ImportBatch | None:
    """Import a checked file in one transaction: everything, or (on any problem) nothing.

    The batch is claimed first, as the dry run is; the file is checked again inside the
    transaction, so a wave locked after the dry run refuses the whole import instead of being
    skipped. Running it twice changes nothing the second time.
    """
    # None when imported already, held by a live worker, or given up.
    return jobs.job_execute(APPLY_JOB, job_id=batch_id, work=_apply)


def _apply(claim: jobs.Claim) -> ImportBatch | None:
    batch = ImportBatch.objects.select_related("study", "applied_by").get(pk=claim.job_id)
    try:
        with transaction.atomic():
            families = _apply_checked(batch, claim)
    except _ClaimLost:
        log.warning("import batch %s: apply lost its claim, nothing written", batch.pk)
        return None
    except _Refused as refused:
        _failed(claim, refused.problems)
    except ImportFileError as exc:
        _failed(claim, [exc.as_problem()])
    else:
        _quality(batch, families)
    spool_discard(batch)  # applied or refused: the file is not needed any more
    return ImportBatch.objects.defer("content").get(pk=claim.job_id)


def _quality(batch: ImportBatch, families: list[int]) -> None:
    """The study's data-quality rules over the families whose values the import changed, in
    one run of the rules' service (set-based: their values are read at once), after the
    import committed: a rule that fails opens a query, and cannot undo the import."""
    if not families:
        return
    try:
        outcome = quality_run(study=batch.study, family_ids=families)
    except Exception:  # the import stands; the nightly run (beat) tries again
        log.exception("import batch %s: data-quality rules failed", batch.pk)
        return
    log.info(
        "import batch %s: data-quality rules opened %s and closed %s queries",
        batch.pk,
        outcome.opened,
        outcome.closed,
    )


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
