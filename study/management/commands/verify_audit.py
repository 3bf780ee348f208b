"""Verify the hash chain of the access log and the seals of the audit history."""

from django.core.management.base import BaseCommand, CommandError

from study.audit import audit_seal, verify_access_log, verify_history


class Command(BaseCommand):
    help = "Check that no audit-history row or access-log entry was altered or removed."

    def add_arguments(self, parser):
        parser.add_argument(
            "--seal-first",
            action="store_true",
            help="seal history rows written since the last seal before verifying",
        )

    def handle(self, *args, seal_first: bool, **options):
        if seal_first:
            self.stdout.write(f"sealed {audit_seal()} new history rows")
        problems = verify_access_log() + verify_history()
        if problems:
            for problem in problems:
                self.stderr.write(str(problem))
            raise CommandError(f"audit verification failed: {len(problems)} problem(s)")
        self.stdout.write(
            "audit verified: access-log chain intact, every sealed history range matches"
        )
