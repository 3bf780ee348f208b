"""Analysis runs whose worker or queue message was lost: find them and put them right.

The database row of a run is the record of truth; Celery and Redis only carry a reminder. Two
things can go wrong there:

* a worker dies (SIGKILL, out of memory, hard time limit) while a run is "running": the row stays
  "running" for ever. The claim (same machine: the process is gone) or the heartbeat (no sign of
  life for longer than any run may take, ANALYSIS_STALE_SECONDS) shows it; the reconciler puts
  such a run back in the queue, or marks it failed once it has used up ANALYSIS_MAX_ATTEMPTS;
* Redis loses the message of a queued run (flushed, restarted without persistence, evicted): the
  row stays "queued" for ever. The reconciler sends a new message for every run queued longer
  than ANALYSIS_QUEUED_SECONDS whose message is not in the broker. Sending one too many is
  harmless: a run is claimed before it is worked on, so a second message finds it taken.

The generic parts (claims, worker identity, broker inspection) live in tracker/jobs.py and
tracker/broker.py; this module is the analysis runs' pass.
"""

from __future__ import annotations

from datetime import datetime

from analysis.runs.job import RUN_JOB
from tracker.jobs import Reconciled, jobs_reconcile


def reconcile_runs(
    *,
    now: datetime | None = None,
    stale_after: int | None = None,
    queued_after: int | None = None,
    queue: str | None = None,
) -> Reconciled:
    """One pass over the analysis runs (see tracker.jobs.jobs_reconcile)."""
    return jobs_reconcile(
        RUN_JOB, now=now, stale_after=stale_after, queued_after=queued_after, queue=queue
    )
