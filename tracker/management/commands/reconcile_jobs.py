"""Put right background jobs of every kind whose worker died or whose queue message the broker
lost (one pass; the beat task does the same every 5 minutes)."""

import json

from django.core.management.base import BaseCommand, CommandError

from tracker.job_kinds import JOB_KINDS, jobs_reconcile_all


class Command(BaseCommand):
    help = (
        "Queue again the jobs (analysis runs, import dry runs and applies, monitor jobs) left "
        "'running' by a dead worker, or mark them failed once out of attempts, and resend the "
        "queued jobs whose message the broker lost."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--kind",
            action="append",
            choices=sorted(JOB_KINDS),
            dest="kinds",
            help="only this kind of job (repeatable; default: every kind)",
        )
        parser.add_argument(
            "--stale-seconds",
            type=int,
            help="a job without heartbeat for this long has lost its worker "
            "(default: each kind's own limit, longer than its task's time limit)",
        )
        parser.add_argument(
            "--queued-seconds",
            type=int,
            help="resend jobs queued this long whose message is not in the broker "
            "(default: each kind's own limit)",
        )
        parser.add_argument("--queue", help="Celery queue to send to (default queue if omitted)")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print one JSON object"
        )

    def handle(self, *args, kinds, stale_seconds, queued_seconds, queue, as_json=False, **options):
        try:
            done = jobs_reconcile_all(
                kinds=kinds, stale_after=stale_seconds, queued_after=queued_seconds, queue=queue
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if as_json:
            payload = {kind: outcome.as_dict() for kind, outcome in done.items()}
            self.stdout.write(json.dumps(payload, sort_keys=True))
            return
        for kind, outcome in done.items():
            self.stdout.write(
                f"{kind}: resumed {len(outcome.resumed)} whose worker was gone, "
                f"failed {len(outcome.failed)} out of attempts, "
                f"resent {len(outcome.requeued)} the broker had lost"
            )
            for label, ids in outcome.as_dict().items():
                if ids:
                    self.stdout.write(f"  {label}: {', '.join(str(i) for i in ids)}")
