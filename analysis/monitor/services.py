"""Write side of the monitor: store one suppressed report per municipality, publish, and run
monitor jobs (the API's way to run the monitor outside the request).

The statistics stay in the pure modules (pipeline, summary, tables, trend); this module adds
the Django parts: the cost model's price, the models, the user, the job's claim and outcome.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, PositiveSmallIntegerField, Value
from django.db.models.functions import Cast, Least
from django.utils import timezone
from django.utils.translation import gettext as _

from analysis.monitor import pipeline, runner, selectors, summary
from analysis.monitor.costing import REASON_NO_MPG, default_cost, mpg_cost_per_family
from analysis.monitor.extract import ExtractError
from analysis.monitor.job import (
    MONITOR_JOB,
    PROGRESS_CLAIMED,
    PROGRESS_COUNTED,
    extract_delete,
)
from analysis.monitor.models import MonitorJob, MonitorReport
from tracker import jobs

log = logging.getLogger(__name__)

#: Errors of an extract kept in a job or shown by the command (the rest are counted).
MAX_ERRORS_SHOWN = 50


# --- stored reports ---------------------------------------------------------------------------


def monitor_reports_save(
    *,
    path: str | Path,
    year: int,
    combined: dict[str, Any],
    user=None,
    source_name: str | None = None,
) -> list[MonitorReport]:
    """Store one unpublished report per municipality from the extract's counts for ``year``.

    ``combined`` is the finished count of the extract (``runner.monitor_count``); the extract
    is read again for the MPG households' cost and the trend over the years it holds. Raises
    ValidationError listing the extract's problems; nothing is stored then.
    """
    path = Path(path)
    if combined["errors"]:
        raise ValidationError(combined["errors"][:MAX_ERRORS_SHOWN])
    counts = pipeline.counts_frame(combined)
    try:
        volumes = pipeline.mpg_volumes(path=path, year=year)
    except ExtractError as exc:
        raise ValidationError(exc.errors[:MAX_ERRORS_SHOWN]) from exc
    costs = mpg_cost_per_family(volumes, year=year)
    for name in counts["municipality"].astype(str).unique():
        costs.setdefault(name, default_cost(REASON_NO_MPG))
    trend = _with_stored_years(_extract_trend(path, year, costs), counts, year, costs)
    entries = summary.municipality_reports(
        counts=counts,
        year=year,
        cost_per_family={n: c["cost_per_mpg_eur"] for n, c in costs.items()},
        trend=trend,
    )
    # Everything is computed before the first write: all reports are stored, or none.
    with transaction.atomic():
        return [
            MonitorReport.objects.create(
                municipality=entry["municipality"],
                year=year,
                summary=entry["summary"],
                tables=entry["tables"],
                trend=entry["trend"],
                cost=costs[entry["municipality"]],
                source_name=(source_name or path.name)[:255],
                created_by=user if user is not None and user.is_authenticated else None,
            )
            for entry in entries
        ]


def _extract_trend(
    path: Path, year: int, costs: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    """The trend over the reporting years the extract answers itself (None: fewer than two)."""
    years = pipeline.trend_years(path, year)
    if len(years) < 2:
        return None
    trend = summary.monitor_trend(path=path, years=years, cost_per_family=None)
    if trend.get("errors"):
        return None
    summary.price_trend(trend, {name: cost["cost_per_mpg_eur"] for name, cost in costs.items()})
    return trend


def _with_stored_years(
    trend: dict[str, Any] | None,
    counts: pd.DataFrame,
    year: int,
    costs: dict[str, dict[str, Any]],
) -> dict[str, Any] | None:
    """The trend per municipality, with earlier reporting years taken from stored reports.

    A municipality usually gets one extract a year (Y-2..Y), which answers only year Y; its
    earlier years come from the reports stored before (the newest report per year). Years the
    extract answers itself take precedence. Stored counts are suppressed: a "*" in any year
    hides the trend, as it would have been hidden anyway.
    """
    by_name = {e["municipality"]: e for e in (trend or {}).get("municipalities", [])}
    raw_mpg = counts.groupby(counts["municipality"].astype(str))["mpg"].sum()
    out = []
    for name, mpg_now in raw_mpg.items():
        entry = by_name.get(name)
        if entry is None or entry.get("trend") != "*":
            own_cost = float(costs[name]["cost_per_mpg_eur"])
            entry = _trend_with_stored(name, entry, int(mpg_now), year, own_cost)
        if entry is not None:
            out.append(entry)
    return {"municipalities": out} if out else trend


def _trend_with_stored(
    name: str, entry: dict[str, Any] | None, mpg_now: int, year: int, own_cost: float
) -> dict[str, Any] | None:
    """One municipality's trend entry with its stored years added (the entry itself when there
    are none)."""
    mpg_by_year, cost_by_year = selectors.stored_figures(name, before=year, default_cost=own_cost)
    if not mpg_by_year:
        return entry
    for row in (entry or {}).get("per_year", []):
        mpg_by_year[int(row["year"])] = int(row["mpg"])
        cost_by_year[int(row["year"])] = own_cost
    mpg_by_year[year] = mpg_now
    cost_by_year[year] = own_cost
    combined = summary.trend_entry(
        municipality=name, mpg_by_year=mpg_by_year, cost_by_year=cost_by_year
    )
    if combined is not None:
        combined["source"] = "extract and stored reports"
    return combined


def monitor_report_publish(*, report: MonitorReport, user) -> MonitorReport:
    """Make a stored report visible to the gemeente of its municipality."""
    if not selectors.may_manage_report(user, report):
        raise PermissionDenied(_("Only researchers and data managers publish monitor reports."))
    if report.published_at is None:
        report.published_at = timezone.now()
        report.published_by = user
        report.save(update_fields=["published_at", "published_by"])
    return report


def monitor_report_withdraw(*, report: MonitorReport, user) -> MonitorReport:
    """Hide a published report from the gemeente again."""
    if not selectors.may_manage_report(user, report):
        raise PermissionDenied(_("Only researchers and data managers publish monitor reports."))
    report.published_at = None
    report.published_by = None
    report.save(update_fields=["published_at", "published_by"])
    return report


# --- monitor jobs -----------------------------------------------------------------------------


def monitor_job_request(
    *, chunks: Iterable[bytes], file_name: str, year: int, save: bool, user
) -> MonitorJob:
    """Store an uploaded extract and queue a job that runs the monitor on it.

    The job is sent to its task once the transaction commits; the extract waits in
    ``MONITOR_UPLOAD_DIR`` (which workers must share) and is deleted when the job ends.
    """
    if not selectors.may_manage_monitor(user):
        raise PermissionDenied(_("Only researchers and data managers run the monitor."))
    suffix = Path(file_name).suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ValidationError(_("The file must be .csv or .parquet."))
    folder = Path(settings.MONITOR_UPLOAD_DIR) / uuid.uuid4().hex
    folder.mkdir(parents=True, mode=0o700)
    path = folder / f"extract{suffix}"
    try:
        with path.open("wb") as handle:
            for piece in chunks:
                handle.write(piece)
        job = MonitorJob.objects.create(
            params={
                "year": int(year),
                "save": bool(save),
                "source_name": file_name[:255],
                "path": str(path),
            },
            created_by=user,
        )
    except BaseException:
        extract_delete(str(path))
        raise
    jobs.enqueue_on_commit(MONITOR_JOB.task_name, job.pk)
    return job


def monitor_job_execute(*, job_id: int) -> MonitorJob | None:
    """Claim the job (only one worker gets it) and start counting its extract.

    Without a broker the whole job runs here; with one, a task per municipality counts and
    ``monitor_job_finish`` completes the job. A job held by a live worker, or finished, is left
    alone; one whose worker died is taken over, and one that has used up
    MONITOR_JOB_MAX_ATTEMPTS is failed (its extract deleted) instead.
    """
    return jobs.job_execute(
        MONITOR_JOB, job_id=job_id, work=_count, gave_up=lambda pk: MonitorJob.objects.get(pk=pk)
    )


def _count(claim: jobs.Claim) -> MonitorJob:
    job = MonitorJob.objects.get(pk=claim.job_id)
    try:
        runner.monitor_count(path=job.params["path"], year=job.params["year"], claim=claim)
    except (OperationalError, InterfaceError):
        raise  # the database, not the job: the claim is given back and the task retries
    except Exception as exc:  # a bug or an unreadable file: the job fails with readable words
        log.exception("monitor job %s failed", job.pk)
        monitor_job_fail(job_id=job.pk, attempt=claim.attempt, error=_error_text(exc))
    else:
        # Counting is handed over (to the chunk tasks and the finishing task): no process of its
        # own holds the job now, the heartbeat tells whether it moves on.
        claim.heartbeat(claimed_by="")
    return MonitorJob.objects.get(pk=job.pk)


def _error_text(exc: BaseException) -> str:
    return f"{exc.__class__.__name__}: {exc}"


def monitor_chunk_count(
    *,
    path: str,
    municipality: str | None,
    year: int,
    job_id: int | None = None,
    chunks: int = 0,
    attempt: int = 0,
) -> dict[str, Any]:
    """Count one municipality of an extract (a fan-out's chunk); with ``job_id``, record it in
    the progress (and heartbeat) of the job, as long as attempt ``attempt`` holds it."""
    result = pipeline.monitor_chunk(path=path, municipality=municipality, year=year)
    if job_id is not None:
        step = (F("chunks_done") + 1) * (PROGRESS_COUNTED - PROGRESS_CLAIMED) / max(chunks, 1)
        jobs.Claim(spec=MONITOR_JOB, job_id=job_id, attempt=attempt).heartbeat(
            chunks=chunks,
            chunks_done=F("chunks_done") + 1,
            progress=Least(
                Cast(Value(PROGRESS_CLAIMED) + step, PositiveSmallIntegerField()),
                Value(PROGRESS_COUNTED),
            ),
        )
    return result


def monitor_job_finish(
    *, job_id: int, attempt: int, results: list[dict[str, Any]]
) -> MonitorJob | None:
    """Complete a running job from its chunk results: the suppressed summary, and with save the
    stored reports; or failed with the extract's problems. The extract is deleted.

    Only attempt ``attempt`` (the one whose chunks these are) writes, and only while it still
    holds the job: a late or redelivered finish of an attempt taken over writes nothing."""
    claim = jobs.Claim(spec=MONITOR_JOB, job_id=job_id, attempt=attempt)
    # This process now works on the job: if it dies, its identity shows it.
    if not claim.heartbeat(claimed_by=jobs.worker_identity(), progress=PROGRESS_COUNTED):
        return None  # finished already (a redelivered task), or another attempt holds it
    job = MonitorJob.objects.get(pk=job_id)
    try:
        ended = _finish(job, claim, results)
    except (OperationalError, InterfaceError):
        raise  # the database: the task retries, the extract stays for it
    except Exception as exc:
        log.exception("monitor job %s failed", job_id)
        monitor_job_fail(job_id=job_id, attempt=attempt, error=_error_text(exc))
    else:
        if ended:  # a lost claim leaves the extract to the attempt that holds the job
            extract_delete(job.params.get("path"))
    return MonitorJob.objects.get(pk=job_id)


class _ClaimLost(Exception):
    """Another attempt holds the job now: this attempt's outcome is dropped."""


def _finish(job: MonitorJob, claim: jobs.Claim, results: list[dict[str, Any]]) -> bool:
    """Write the job's outcome; False when this attempt no longer holds the job."""
    params = job.params
    path = Path(params["path"])
    year = int(params["year"])
    combined = pipeline.monitor_combine(results=results, source=path.name, year=year)
    if combined["errors"]:
        return _fail_with(claim, _named(combined["errors"], path.name, params["source_name"]))
    if outside := _outside_scope(job.created_by, pipeline.counts_frame(combined)):
        return _fail_with(claim, outside)
    result = summary.monitor_summary(counts=pipeline.counts_frame(combined), year=year)
    try:
        with transaction.atomic():
            if params.get("save"):
                reports = monitor_reports_save(
                    path=path,
                    year=year,
                    combined=combined,
                    user=job.created_by,
                    source_name=params["source_name"],
                )
                result["saved_reports"] = [r.pk for r in reports]
            now = timezone.now()
            if not claim.finish(
                status=MonitorJob.Status.SUCCEEDED,
                progress=100,
                result=result,
                finished_at=now,
                heartbeat_at=now,
                claimed_by="",
            ):
                raise _ClaimLost  # rolls the stored reports back
    except ValidationError as exc:
        return _fail_with(claim, _named(exc.messages, path.name, params["source_name"]))
    except _ClaimLost:
        log.warning(
            "monitor job %s: attempt %s lost its claim, result dropped", job.pk, claim.attempt
        )
        return False
    return True


def _outside_scope(user, counts: pd.DataFrame) -> list[str]:
    """Errors for the municipalities of the extract whose monitor the job's user may not run
    (the monitor is scoped by municipality: `study.access.may_manage_monitor`)."""
    names = sorted(set(counts["municipality"].astype(str)))
    return [
        _("%(name)s: you are no researcher or data manager of a study in this municipality.")
        % {"name": name}
        for name in names
        if not selectors.may_manage_monitor(user, name)
    ]


def _named(errors: list[str], stored: str, uploaded: str) -> list[str]:
    """Errors naming the file as it was uploaded, not as it was stored."""
    return [error.replace(stored, uploaded) for error in errors]


def _fail_with(claim: jobs.Claim, errors: list[str]) -> bool:
    """Fail the job with the extract's problems; False when this attempt lost the claim."""
    shown = errors[:MAX_ERRORS_SHOWN]
    more = len(errors) - len(shown)
    text = "\n".join(shown) + (f"\n... and {more} more" if more > 0 else "")
    return _failed(claim, text)


def _failed(claim: jobs.Claim, error: str) -> bool:
    now = timezone.now()
    return claim.finish(
        status=MonitorJob.Status.FAILED,
        error=error[:10_000],
        finished_at=now,
        heartbeat_at=now,
        claimed_by="",
    )


def monitor_job_fail(*, job_id: int, attempt: int, error: str) -> None:
    """End attempt ``attempt`` of a job as failed with ``error`` (a chunk task or the job's task
    broke), and delete its extract; nothing when another attempt holds the job now."""
    if _failed(jobs.Claim(spec=MONITOR_JOB, job_id=job_id, attempt=attempt), error):
        params = MonitorJob.objects.filter(pk=job_id).values_list("params", flat=True).first()
        extract_delete((params or {}).get("path"))
