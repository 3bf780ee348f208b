"""Write one study with its audit history to a JSON bundle, or restore such a bundle.

Here, not in study/: a restored study is set up like any study (tracker.setup), with the
registry's research questions.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from study.backup import study_backup
from study.models import Study
from tracker.setup import study_restore_set_up


class Command(BaseCommand):
    help = "Back up a study with its audit history (--study-id N --output F) or restore one (--restore F)."

    def add_arguments(self, parser):
        parser.add_argument("--study-id", type=int)
        parser.add_argument("--output")
        parser.add_argument("--restore", metavar="FILE")
        parser.add_argument(
            "--with-password-hashes",
            action="store_true",
            help="keep the users' password hashes in the bundle (default: left out)",
        )

    def handle(
        self, *args, study_id=None, output=None, restore=None, with_password_hashes=False, **options
    ):
        if restore:
            try:
                with open(restore, encoding="utf-8") as fh:
                    bundle = json.load(fh)
                study = study_restore_set_up(bundle=bundle)
            except (OSError, ValueError) as exc:
                raise CommandError(f"restore refused: {exc}") from None
            self.stdout.write(f"restored study #{study.pk} '{study.name}'")
            return
        if not (study_id and output):
            raise CommandError("give --study-id and --output, or --restore FILE")
        study = Study.objects.filter(pk=study_id).first()
        if study is None:
            raise CommandError(f"no study with id {study_id}")
        bundle = study_backup(study=study, password_hashes=with_password_hashes)
        with open(output, "w", encoding="utf-8") as fh:
            json.dump(bundle, fh)
        self.stdout.write(f"wrote {len(bundle['objects'])} objects of '{study.name}' to {output}")
