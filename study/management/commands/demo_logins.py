"""Print the demo logins (demo only)."""

from django.core.management.base import BaseCommand

from study.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Print the demo users and their password."

    def add_arguments(self, parser):
        parser.add_argument("--address", default="127.0.0.1:8000", help="where the server runs")

    def handle(self, *args, **options):
        self.stdout.write(
            f"Demo logins (password for all: {DEMO_PASSWORD!r}) at http://{options['address']}/"
        )
        for username, role in DEMO_USERS.items():
            self.stdout.write(f"  {username:<12} {role}")
