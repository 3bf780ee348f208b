"""Write a study's analysis-ready panel (and its codebook) for scripted use.

    python manage.py export_panel --study-id 1 --format sav --output panel.sav [--codebook cb.csv]
    python manage.py export_panel --study-id 1 --format csv --output - --user onderzoeker

With --user the user's access applies (a researcher sees the families of their studies; the
export is logged under their name); without it the command acts as the data manager. Every run
is recorded in the access log with its row count (NEN 7513).
"""

import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from study import access, exporting, selectors
from study.access_log import access_event_record
from study.models import Family, Study


class Command(BaseCommand):
    help = "Export a study's panel as CSV, XLSX, SPSS .sav or Stata .dta (pseudonymised)."

    def add_arguments(self, parser):
        parser.add_argument("--study-id", type=int, required=True)
        parser.add_argument("--format", choices=sorted(exporting.FORMATS), default="csv")
        parser.add_argument("--output", required=True, help="file to write, or - for stdout (csv)")
        parser.add_argument("--codebook", help="also write the codebook (CSV) to this file")
        parser.add_argument("--user", help="export as this user, with their access")

    def handle(self, *args, study_id, format, output, codebook, user, **options):
        study = Study.objects.filter(pk=study_id).first()
        if study is None:
            raise CommandError(f"no study with id {study_id}")
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"no user '{user}'")
            if not access.may_read_research(actor, study):
                raise CommandError(f"'{user}' may not export study {study_id}")
            families = selectors.research_family_list(actor).filter(study=study)
        else:
            families = Family.objects.alive().filter(study=study)
        if output == "-":
            if format not in exporting.CSV_DIALECTS:
                raise CommandError("only csv can be written to stdout")
            rows = exporting.export_write(study, families, format, sys.stdout.buffer)
        else:
            with open(output, "wb") as fh:
                rows = exporting.export_write(study, families, format, fh)
        if codebook:
            exporting.codebook_frame(study).to_csv(codebook, index=False)
        access_event_record(
            user=actor, action=f"export.{format}", study=study, row_count=rows, detail="command"
        )
        self.stderr.write(f"wrote {rows} rows of '{study.name}' ({format}) to {output}")
