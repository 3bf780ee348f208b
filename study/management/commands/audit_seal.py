"""Seal the audit-history rows written since the last seal (also run by Celery beat)."""

from django.core.management.base import BaseCommand

from study.audit import audit_seal


class Command(BaseCommand):
    help = "Seal new audit-history rows with a chained SHA-256 so later alteration is detectable."

    def handle(self, *args, **options):
        self.stdout.write(f"sealed {audit_seal()} history rows")
