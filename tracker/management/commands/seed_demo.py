"""Create the demo Almelo study, its research questions and the demo users (idempotent).

Here, not in study/: the demo is set up like any study (tracker.setup), with its questions.
"""

from django.core.management.base import BaseCommand

from study.demo import DEMO_SEED
from tracker.setup import demo_set_up


class Command(BaseCommand):
    help = (
        "Create the demo study (80 families, waves T-2..T4) and one demo user per role, if absent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", type=int, default=DEMO_SEED, help=f"random seed (default {DEMO_SEED})"
        )

    def handle(self, *args, seed: int, **options):
        study, created = demo_set_up(seed=seed)
        families = study.families.alive().count()
        verb = "Created" if created else "Already present:"
        self.stdout.write(f"{verb} demo study #{study.pk} '{study.name}' with {families} families.")
