"""PostgreSQL: print (or run) the grants that give the app's role SELECT and INSERT only on the
audit tables (see the README's "Database roles"). Run as the owner role after every migrate."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from study.audit_guards import app_role_grants


class Command(BaseCommand):
    help = "Grants for the app's database role: append-only on the audit tables (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--app-role", required=True, help="the role the app connects as")
        parser.add_argument("--execute", action="store_true", help="run them (else print)")

    def handle(self, *args, app_role: str, execute: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError("database roles and grants exist on PostgreSQL only")
        statements = app_role_grants(app_role)
        if not execute:
            self.stdout.write(";\n".join(statements) + ";")
            return
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(f"granted {app_role} append-only access to the audit tables")
