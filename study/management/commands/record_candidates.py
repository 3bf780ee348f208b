"""Record a matched study's candidate pool from a CSV file (it replaces the pool recorded
before):

    python manage.py record_candidates --study-id 3 pool.csv --user onderzoeker

Columns: candidate_key (the linkage key of `pseudonymise`, or an internal id; never a BSN),
intake_year, selected (1/0 or ja/nee), match_set (the pair or set of a selected candidate, as
recorded on its family), and one column per matching variable (n_adult, n_child, or a registry
outcome's code for its level at T-1). The file is screened like a registry extract first.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from study.imports.problems import ImportFileError
from study.models import Study
from study.services.matching import candidates_from_csv, matching_candidates_record


class Command(BaseCommand):
    help = "Record a matched study's candidate pool (CSV) for balance before matching."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--study-id", type=int, required=True)
        parser.add_argument("--user", help="username recorded with the pool")

    def handle(self, *args, file, study_id, user, **options):
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
        try:
            specs = candidates_from_csv(content, path.name)
            n = matching_candidates_record(study=study, candidates=specs, user=actor)
        except ImportFileError as exc:
            raise CommandError(exc.message) from None
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"{n} candidates recorded for study {study.pk}")
