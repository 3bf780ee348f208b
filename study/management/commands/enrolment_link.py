"""A one-time link with which a user links their authenticator app, printed for whoever runs the
server: how the first installation administrator (made with `createsuperuser`) gets a second
factor on an empty installation. Everyone else gets their link from an invitation or a data
manager of their study."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from study.services import accounts


class Command(BaseCommand):
    help = "Print a one-time link for USERNAME to link an authenticator app (after their password)."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)

    def handle(self, *args, username: str, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user named {username!r}")
        _link, raw = accounts.enrolment_link_issue(user=user, issued_by=None)
        self.stdout.write(accounts.enrolment_link_url(raw))
