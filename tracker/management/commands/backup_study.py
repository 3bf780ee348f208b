"""Write one study with its audit history to a JSON bundle, or restore such a bundle.

Here, not in study/: a restored study is set up like any study (tracker.setup), with the
registry's research questions.
"""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from study.backup import bundle_encrypt, bundle_load, study_backup
from study.models import Study
from study.services.members import restored_users_reinvite
from tracker.setup import study_restore_set_up


class Command(BaseCommand):
    help = (
        "Back up a study with its audit history (--study-id N --output F [--encrypt]) or restore "
        "one (--restore F); restored users are re-invited to set a password."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study-id", type=int)
        parser.add_argument("--output")
        parser.add_argument("--restore", metavar="FILE")
        parser.add_argument(
            "--with-password-hashes",
            action="store_true",
            help="keep the users' password hashes in the bundle (default: left out)",
        )
        parser.add_argument(
            "--encrypt",
            action="store_true",
            help="encrypt the bundle (AES-256-GCM) with the key in the BACKUP_KEY environment variable",
        )
        parser.add_argument(
            "--no-reinvite",
            action="store_true",
            help="restore without e-mailing the restored users a link to set their password",
        )

    def handle(
        self,
        *args,
        study_id=None,
        output=None,
        restore=None,
        with_password_hashes=False,
        encrypt=False,
        no_reinvite=False,
        **options,
    ):
        if restore:
            self._restore(restore, reinvite=not no_reinvite)
            return
        if not (study_id and output):
            raise CommandError("give --study-id and --output, or --restore FILE")
        if encrypt and not settings.BACKUP_KEY:
            raise CommandError("--encrypt needs the key in the BACKUP_KEY environment variable")
        study = Study.objects.filter(pk=study_id).first()
        if study is None:
            raise CommandError(f"no study with id {study_id}")
        bundle = study_backup(study=study, password_hashes=with_password_hashes)
        if encrypt:
            with open(output, "wb") as fh:
                fh.write(bundle_encrypt(bundle, key=settings.BACKUP_KEY))
        else:
            with open(output, "w", encoding="utf-8") as fh:
                json.dump(bundle, fh)
        how = "encrypted " if encrypt else ""
        self.stdout.write(
            f"wrote {len(bundle['objects'])} objects of '{study.name}' to {how}{output}"
        )

    def _restore(self, path: str, *, reinvite: bool) -> None:
        restored: list = []
        try:
            with open(path, "rb") as fh:
                bundle = bundle_load(fh.read(), key=settings.BACKUP_KEY)
            study = study_restore_set_up(bundle=bundle, restored_users=restored)
        except (OSError, ValueError) as exc:
            raise CommandError(f"restore refused: {exc}") from None
        invited = restored_users_reinvite(study=study, users=restored) if reinvite else 0
        self.stdout.write(
            f"restored study #{study.pk} '{study.name}'; {len(restored)} new user(s), "
            f"{invited} re-invited by e-mail"
        )
