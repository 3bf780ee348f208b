"""Store the shipped instrument definitions, or add a study's own (licensed) definition file:
`load_instruments` / `load_instruments --study-id N --file zrm2017.yaml`."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from instruments.definition import DefinitionError, read_definition_file
from instruments.services import instrument_version_add, instruments_ensure_shipped
from study.models import Study


class Command(BaseCommand):
    help = "Store the shipped instrument definitions, or add a study's own definition file."

    def add_arguments(self, parser):
        parser.add_argument("--study-id", type=int, help="the study the file is licensed to")
        parser.add_argument("--file", help="a definition in the instruments' YAML/JSON format")

    def handle(self, *args, study_id=None, file=None, **options):
        try:
            instruments_ensure_shipped()
            if file is None:
                self.stdout.write("shipped definitions stored")
                return
            if study_id is None:
                raise CommandError("--file needs --study-id (a study's own file is its own)")
            study = Study.objects.filter(pk=study_id).first()
            if study is None:
                raise CommandError(f"no study {study_id}")
            definition = read_definition_file(Path(file))
            row, created = instrument_version_add(
                definition=definition, study=study, source_file=Path(file).name
            )
        except (DefinitionError, ValidationError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{row} {'added' if created else 'already stored'} for study {study.pk}")
