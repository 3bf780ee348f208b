"""Verify the audit trail: access events' keyed macs, the seals' chains and the row counters."""

from django.core.management.base import BaseCommand, CommandError

from study.audit import audit_seal, verify_all


class Command(BaseCommand):
    help = (
        "Check that no audit-history row, access-log entry or seal was altered, removed, "
        "reordered or forged (needs AUDIT_KEY)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seal-after",
            action="store_true",
            help="when everything verifies, seal the rows written since the last seal",
        )

    def _fail(self, problems) -> None:
        for problem in problems:
            self.stderr.write(str(problem))
        raise CommandError(f"audit verification failed: {len(problems)} problem(s)")

    def handle(self, *args, seal_after: bool, **options):
        # Verify before sealing: sealing first would seal a forged or altered unsealed row.
        problems = verify_all()
        if problems:
            self._fail(problems)
        if seal_after:
            self.stdout.write(f"sealed {audit_seal()} new rows")
        self.stdout.write(
            "audit verified: every access event's mac, every seal's chain and rows, and every "
            "table's row counter match"
        )
