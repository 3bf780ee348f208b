"""Run the data-quality rules of every study (or one) where no beat runs: queries are opened for
new violations and closed where the rule no longer fails."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from study.models import Study
from study.services.quality import quality_run


class Command(BaseCommand):
    help = "Run the data-quality rules; open and close queries."

    def add_arguments(self, parser):
        parser.add_argument("--study", type=int, help="only this study id")

    def handle(self, *args, study=None, **options):
        studies = Study.objects.all() if study is None else Study.objects.filter(pk=study)
        for item in studies:
            outcome = quality_run(study=item)
            self.stdout.write(
                f"{item.name}: {outcome.opened} queries opened, {outcome.closed} closed"
            )
