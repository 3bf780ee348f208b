"""The one way to run the monitor on an extract, in parallel with a broker or without one.

- With a broker (``settings.CELERY_BROKER_URL``) every municipality of the extract is one Celery
  task (``analysis.tasks.monitor_chunk_task``), all sent at once through tracker/jobs.py; the
  file must then lie on storage every worker reads.
- Without one, the extract's row groups are split into ranges of whole municipalities, each
  counted in its own process (``pipeline.monitor_pieces``); a small file, or a CSV file, is
  counted in this process.

``monitor_count`` is that way: the command, the demo and the benchmark wait for its counts; a
job started by the API does not wait (a task waiting for its own subtasks can hold every worker
slot), its finishing task runs once the counts are in.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, overload

from django.conf import settings

from analysis.monitor import pipeline
from analysis.monitor.extract import ExtractError
from tracker import jobs

CHUNK_TASK = "analysis.tasks.monitor_chunk_task"
COMBINE_TASK = "analysis.tasks.monitor_combine_task"
JOB_FINISH_TASK = "analysis.tasks.monitor_job_finish_task"
JOB_FAIL_TASK = "analysis.tasks.monitor_job_fail_task"

#: Without a broker a process is started only for at least this many rows: below it, starting
#: a Python process with pandas costs more than it saves.
ROWS_PER_PROCESS = 500_000


def broker_configured() -> bool:
    return bool(settings.CELERY_BROKER_URL)


def _workers(workers: int | None) -> tuple[int, int]:
    """Processes to count with, and the rows each must have at least (0: as many as asked)."""
    if workers is not None:
        return max(workers, 1), 0
    return (settings.MONITOR_WORKERS or os.cpu_count() or 1), ROWS_PER_PROCESS


def _chunk_args(path: Path, year: int, claim: jobs.Claim | None) -> list[tuple[Any, ...]]:
    """One argument list per municipality; ExtractError when the file cannot be used at all.

    A CSV file is one chunk: it has no row groups a task could seek to, so one task reads it
    once (Arrow's parallel CSV reader) instead of every task reading the whole file."""
    if path.suffix.lower() == ".csv":
        pipeline.check_columns(path)
        names: list[str | None] = [None]
    else:
        names = list(pipeline.monitor_municipalities(path=path))
    job = (claim.job_id, len(names), claim.attempt) if claim else ()
    return [(str(path), name, year, *job) for name in names]


@overload
def monitor_count(
    *,
    path: str | Path,
    year: int,
    workers: int | None = ...,
    queue: str | None = ...,
    claim: None = ...,
) -> dict[str, Any]: ...


@overload
def monitor_count(
    *,
    path: str | Path,
    year: int,
    workers: int | None = ...,
    queue: str | None = ...,
    claim: jobs.Claim,
) -> None: ...


def monitor_count(
    *,
    path: str | Path,
    year: int,
    workers: int | None = None,
    queue: str | None = None,
    claim: jobs.Claim | None = None,
) -> dict[str, Any] | None:
    """Count the extract in parallel: the combined raw counts, or the errors found.

    Without ``claim`` this waits and returns the combined counts. With the ``claim`` of a monitor
    job it does not wait: the job's finishing task (``analysis.tasks.monitor_job_finish_task``)
    gets the chunk results, and ``monitor_job_fail_task`` runs if a chunk task fails; both are
    told the claim's attempt, so they write only while it holds the job. Without a broker the
    finishing task is sent from this process once the counts are in. ``workers`` (without a broker) asks for that many
    processes whatever the file's size; ``queue`` (with a broker) routes every task.
    """
    path = Path(path).resolve()
    if not broker_configured():
        count, rows_per_process = _workers(workers)
        results = pipeline.monitor_pieces(
            path=path, year=year, workers=count, rows_per_process=rows_per_process
        )
        return _deliver(results, path, year, claim)
    try:
        arg_lists = _chunk_args(path, year, claim)
    except ExtractError as exc:
        return _deliver([{"rows": 0, "counts": [], "errors": exc.errors}], path, year, claim)
    if not arg_lists:
        return _deliver([], path, year, claim)
    if claim is None:
        result = jobs.fan_out(
            CHUNK_TASK, arg_lists, then=COMBINE_TASK, then_args=(path.name, year), queue=queue
        )
        return result.get(timeout=settings.MONITOR_FANOUT_TIMEOUT_SECONDS)
    jobs.fan_out(
        CHUNK_TASK,
        arg_lists,
        then=JOB_FINISH_TASK,
        then_args=(claim.job_id, claim.attempt),
        on_error=JOB_FAIL_TASK,
        queue=queue,
    )
    return None


def _deliver(
    results: list[dict[str, Any]], path: Path, year: int, claim: jobs.Claim | None
) -> dict[str, Any] | None:
    """Chunk results counted here: combined for the caller, or handed to the job's task."""
    if claim is None:
        return pipeline.monitor_combine(results=results, source=path.name, year=year)
    jobs.send_now(JOB_FINISH_TASK, results, claim.job_id, claim.attempt)
    return None
