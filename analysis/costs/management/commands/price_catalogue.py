"""Print every item of a price catalogue version with its price indexed to a price year."""

import csv

from django.core.management.base import BaseCommand, CommandError

from analysis.costs import pricing
from analysis.costs.selectors import CatalogueNotFound, catalogue_frame, catalogue_get

COLUMNS = [
    "code",
    "domain",
    "unit",
    "reference_year",
    "price_at_reference_year",
    "index_factor_to_base",
    "price_base_year",
    "price_year",
    "price",
    "catalogue_version",
]


def _money(value) -> str:
    return "" if value is None or value != value else f"{value:.2f}"


def _factor(value) -> str:
    return "" if value is None or value != value else f"{value:g}"


class Command(BaseCommand):
    help = "Print a price catalogue's items with their price indexed to --price-year."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # Our --version (the catalogue's) replaces Django's --version (its own release).
        kwargs.setdefault("conflict_handler", "resolve")
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--price-year", type=int, required=True)
        parser.add_argument(
            "--version",
            type=int,
            default=None,
            dest="catalogue_version",
            help="catalogue version (default: the current one)",
        )
        parser.add_argument(
            "--csv", action="store_true", dest="as_csv", help="print CSV (default: a table)"
        )

    def handle(
        self, *args, price_year: int, catalogue_version: int | None, as_csv: bool, **options
    ):
        try:
            catalogue = catalogue_get(version=catalogue_version)
            frame = catalogue_frame(catalogue, price_year)
        except (CatalogueNotFound, pricing.MissingCpiYearError) as error:
            raise CommandError(str(error)) from error
        rows = [
            {
                **{column: getattr(row, column) for column in COLUMNS},
                "price_at_reference_year": _money(row.price_at_reference_year),
                "index_factor_to_base": _factor(row.index_factor_to_base),
                "price_base_year": _money(row.price_base_year),
                "price": _money(row.price),
            }
            for row in frame.itertuples(index=False)
        ]
        if as_csv:
            writer = csv.DictWriter(self.stdout, fieldnames=COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            return
        self.stdout.write(f"{catalogue} in {price_year} prices")
        for row in rows:
            self.stdout.write(f"{row['code']:<32} {row['unit']:<22} {row['price']:>14}")
