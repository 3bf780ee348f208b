"""`manage.py monitor_synthetic`: write a synthetic household-year population (Almelo or the country)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from analysis.monitor import synthetic


class Command(BaseCommand):
    help = "Write a synthetic household-year population calibrated to the Almelo 2014 tables."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=["almelo", "national"], default="almelo")
        parser.add_argument("--output", required=True, help="file to write (.csv or .parquet)")
        parser.add_argument("--seed", type=int, default=2014)
        parser.add_argument(
            "--year", type=int, default=2014, help="reporting year (Y-2 and Y-1 are added)"
        )
        parser.add_argument(
            "--municipalities", type=int, default=None, help="national: only the first N"
        )

    def handle(self, *args, **options) -> None:
        output = Path(options["output"])
        if output.suffix.lower() not in (".csv", ".parquet"):
            raise CommandError(
                _("%(file)s: the output must end in .csv or .parquet") % {"file": output.name}
            )
        if options["scale"] == "almelo":
            specs = [synthetic.almelo_spec()]
        else:
            specs = synthetic.national_specs(
                seed=options["seed"], municipalities=options["municipalities"]
            )
        frames = synthetic.iter_population(specs, year=options["year"], seed=options["seed"])
        rows = synthetic.write_population(frames, output)
        self.stdout.write(
            _("Wrote %(rows)s household-year rows of %(n)s municipalities to %(file)s")
            % {"rows": rows, "n": len(specs), "file": output}
        )
