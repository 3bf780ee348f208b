"""Add a municipality to the CBS gemeentecode list (`study/data/gemeenten.csv`) that set-up
offers, e.g. a new municipality formed by a herindeling after the shipped list (1 January 2023):

    manage.py municipality_add --code GM1999 --name "Nieuwe Gemeente"

The code must be CBS's (GM and four digits) and new to the list; the name is checked against the
list too, so a typo does not add a second spelling of a municipality that is there."""

from __future__ import annotations

import csv

from django.core.management.base import BaseCommand, CommandError

from study import municipalities


class Command(BaseCommand):
    help = "Add a municipality (CBS gemeentecode and name) to the list studies are set up from."

    def add_arguments(self, parser):
        parser.add_argument("--code", required=True, help="CBS gemeentecode, GM and four digits")
        parser.add_argument(
            "--name", required=True, help="the municipality's name as CBS spells it"
        )

    def handle(self, *args, code: str, name: str, **options):
        code, name = code.strip().upper(), " ".join(name.split())
        if not municipalities.CODE.match(code):
            raise CommandError(f"{code!r} is not a CBS gemeentecode (GM and four digits)")
        if not name:
            raise CommandError("give the municipality's name")
        known = municipalities.municipalities()
        if code in known:
            raise CommandError(f"{code} is on the list already, as {known[code]}")
        same = [c for c, n in known.items() if n.casefold() == name.casefold()]
        if same:
            raise CommandError(f"{name} is on the list already, as {same[0]}")
        path = municipalities.list_file()
        text = path.read_text(encoding="utf-8")
        with path.open("a", encoding="utf-8", newline="") as handle:
            if text and not text.endswith("\n"):
                handle.write("\n")
            csv.writer(handle, lineterminator="\n").writerow([code, name])
        municipalities.municipalities.cache_clear()
        self.stdout.write(
            f"added {name} ({code}) to {path}; {len(known) + 1} municipalities on the list"
        )
