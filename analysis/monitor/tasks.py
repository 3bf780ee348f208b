"""Celery fan-out of the monitor: one task per municipality (chord header), one combine (body).

Thin tasks: each takes a file path, names and the year (never DataFrames) and calls one service.
On the embedded default (no CELERY_BROKER_URL) the chord runs in-process, eagerly.
"""

from __future__ import annotations

from typing import Any

from celery import chord, shared_task

from analysis.monitor import services


# acks_late (from settings) lets another worker redo a chunk whose worker died; a chunk is pure
# and idempotent, so running it twice is harmless. No retries: a file error is not transient.
@shared_task(ignore_result=False, time_limit=1800, soft_time_limit=1700)
def monitor_chunk_task(path: str, municipality: str, year: int) -> dict[str, Any]:
    """Counts of one municipality of the extract (JSON-able)."""
    return services.monitor_chunk(path=path, municipality=municipality, year=year)


@shared_task(ignore_result=False)
def monitor_combine_task(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Chord body: add the municipalities' counts up."""
    return services.monitor_combine(results=results)


def monitor_fanout(
    *, path: str, year: int, municipalities: list[str] | None = None, queue: str | None = None
):
    """Start the chord over the extract's municipalities; returns the body's AsyncResult.

    The path must be readable by every worker (shared storage). ``queue`` routes header and
    body to one queue (None: the default queue).
    """
    names = (
        municipalities if municipalities is not None else services.monitor_municipalities(path=path)
    )
    options = {"queue": queue} if queue else {}
    header = [monitor_chunk_task.s(str(path), name, year).set(**options) for name in names]
    return chord(header)(monitor_combine_task.s().set(**options))
