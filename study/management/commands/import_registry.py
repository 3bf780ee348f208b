"""Import a registry extract from the command line: a dry run by default, --apply to import.

    python manage.py import_registry --study-id 1 extract.csv            # dry run: problems + preview
    python manage.py import_registry --study-id 1 extract.xlsx --apply   # all-or-nothing import
    ... --json                                                           # machine-readable outcome

Exit status 1 when the file has problems (nothing is saved then).
"""

import json
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from study.imports.workflow import registry_import_in_process
from study.models import ImportBatch, Study


class Command(BaseCommand):
    help = "Check (dry run) or import a registry extract (CSV/XLSX, long or wide) into a study."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--study-id", type=int, required=True)
        parser.add_argument("--layout", choices=["auto", "long", "wide"], default="auto")
        parser.add_argument("--apply", action="store_true", help="import when the dry run is clean")
        parser.add_argument("--user", help="username recorded in the audit history")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, file, study_id, layout, apply, user, json: bool, **options):
        study = Study.objects.filter(pk=study_id).first()
        if study is None:
            raise CommandError(f"no study with id {study_id}")
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"no user '{user}'")
        path = Path(file)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc}") from None
        batch = registry_import_in_process(
            study=study, user=actor, filename=path.name, content=content, layout=layout, apply=apply
        )
        self._report(batch, as_json=json)
        if batch.status == ImportBatch.Status.FAILED:
            sys.exit(1)

    def _report(self, batch: ImportBatch, *, as_json: bool) -> None:
        outcome = {
            "batch": batch.pk,
            "status": batch.status,
            "file": batch.filename,
            "layout": batch.layout,
            "key": batch.key_kind,
            "summary": batch.summary,
            "created": batch.created,
            "updated": batch.updated,
            "unchanged": batch.unchanged,
            "error_count": batch.error_count,
            "errors": batch.errors,
        }
        if as_json:
            self.stdout.write(json.dumps(outcome, ensure_ascii=False))
            return
        self.stdout.write(f"batch {batch.pk}: {batch.get_status_display()} ({batch.filename})")
        for error in batch.errors:
            where = ", ".join(
                part
                for part in (
                    f"row {error['row']}" if error.get("row") else "",
                    f"column {error['column']}" if error.get("column") else "",
                    error.get("cell", ""),
                )
                if part
            )
            self.stdout.write(
                f"  {where}: {error['message']}" if where else f"  {error['message']}"
            )
        if batch.error_count > len(batch.errors):
            self.stdout.write(f"  … and {batch.error_count - len(batch.errors)} more")
        summary = batch.summary or {}
        if summary and batch.status == ImportBatch.Status.APPLIED:
            self.stdout.write(
                f"values: {batch.created} new, {batch.updated} changed, {batch.unchanged} unchanged"
            )
        elif summary:
            self.stdout.write(
                f"values: would add {summary.get('new', 0)}, would change "
                f"{summary.get('changed', 0)}, {summary.get('unchanged', 0)} unchanged"
            )
        if batch.status == ImportBatch.Status.VALIDATED:
            self.stdout.write("dry run only: add --apply to import")
