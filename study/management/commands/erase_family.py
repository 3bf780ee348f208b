"""Carry out a family erasure a data manager requested (study.services.erasure): the family's
values blanked in the live rows and the history, the history's seals made again, the erasure
recorded. On PostgreSQL run it as the database's owner role (only the owner may lift the
history's append-only guard), with the app's AUDIT_KEY in the environment."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from study.audit import verify_all
from study.models import FamilyErasure
from study.services.erasure import AuditRewriteRefused, family_erasure_execute


class Command(BaseCommand):
    help = "Carry out requested family erasures (as the database owner); then verify the audit."

    def add_arguments(self, parser):
        parser.add_argument("--erasure", type=int, help="one erasure's id (default: every request)")
        parser.add_argument("--list", action="store_true", help="only list the requests")

    def handle(self, *args, erasure=None, list=False, **options):
        requests = FamilyErasure.objects.filter(status=FamilyErasure.Status.REQUESTED)
        if erasure is not None:
            requests = FamilyErasure.objects.filter(pk=erasure)
        requests = requests.select_related("family", "requested_by")
        for item in requests:
            who = item.requested_by.get_username() if item.requested_by else "?"
            line = f"erasure {item.pk}: {item.family.pseudonym}, asked by {who}: {item.reason}"
            if list:
                self.stdout.write(f"{line} ({item.status})")
                continue
            try:
                done = family_erasure_execute(erasure=item)
            except AuditRewriteRefused as exc:
                raise CommandError(
                    "The database refused to rewrite the history: run this command as the "
                    f"database's owner role ({exc})."
                ) from exc
            except ValidationError as exc:
                raise CommandError(f"{line}: {' '.join(exc.messages)}") from exc
            self.stdout.write(f"{line}: erased {done.erased}, seals made again {done.resealed}")
        if not list:
            problems = verify_all()
            if problems:
                raise CommandError("verify_audit: " + "; ".join(str(p) for p in problems[:10]))
            self.stdout.write("verify_audit: intact")
