"""Print the chained CPI factor between two years (and an indexed amount)."""

from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from analysis.costs import pricing
from analysis.costs.selectors import cpi_series


class Command(BaseCommand):
    help = "Print the CPI factor from one year's prices to another's, and an indexed amount."

    def add_arguments(self, parser):
        parser.add_argument("--from-year", type=int, required=True)
        parser.add_argument("--to-year", type=int, required=True)
        parser.add_argument("--amount", type=str, default=None, help="amount in from-year euros")

    def handle(self, *args, from_year: int, to_year: int, amount: str | None, **options):
        cpi = cpi_series()
        try:
            factor = pricing.index_factor(cpi, from_year, to_year)
        except pricing.MissingCpiYearError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"factor {from_year}->{to_year}: {factor:.6f} (rounded {factor:.3f})")
        if amount is not None:
            try:
                value = Decimal(amount)
            except InvalidOperation as error:
                raise CommandError(f"--amount: {amount!r} is not a number") from error
            indexed = pricing.index_amount(cpi, value, from_year, to_year)
            self.stdout.write(f"amount {value} ({from_year}) = {indexed} ({to_year})")
