"""Put right analysis runs whose worker died or whose queue message Redis lost (one pass).

The analysis runs' part of ``manage.py reconcile_jobs`` (every kind of job), under the name it
has always had; same options, output and JSON."""

import json

from django.core.management.base import BaseCommand

from analysis.runs.reconcile import reconcile_runs


class Command(BaseCommand):
    help = (
        "Queue again the runs left 'running' by a dead worker (or mark them failed after "
        "ANALYSIS_MAX_ATTEMPTS), and resend the queued runs whose message the broker lost."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--stale-seconds",
            type=int,
            help="a run without heartbeat for this long has lost its worker "
            "(default: ANALYSIS_STALE_SECONDS, longer than the task time limit)",
        )
        parser.add_argument(
            "--queued-seconds",
            type=int,
            help="resend runs queued this long whose message is not in the broker "
            "(default: ANALYSIS_QUEUED_SECONDS)",
        )
        parser.add_argument("--queue", help="Celery queue to send to (default queue if omitted)")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print one JSON object"
        )

    def handle(self, *args, stale_seconds, queued_seconds, queue, as_json=False, **options):
        done = reconcile_runs(stale_after=stale_seconds, queued_after=queued_seconds, queue=queue)
        if as_json:
            self.stdout.write(json.dumps(done.as_dict(), sort_keys=True))
            return
        self.stdout.write(
            f"resumed {len(done.resumed)} run(s) whose worker was gone, "
            f"failed {len(done.failed)} run(s) out of attempts, "
            f"resent {len(done.requeued)} queued run(s) the broker had lost"
        )
        for label, ids in done.as_dict().items():
            if ids:
                self.stdout.write(f"  {label}: {', '.join(str(i) for i in ids)}")
