"""Create the demo Almelo study and the demo users (idempotent)."""

from django.core.management.base import BaseCommand

from study.demo import DEMO_SEED, seed_demo


class Command(BaseCommand):
    help = (
        "Create the demo study (80 families, waves T-2..T4) and one demo user per role, if absent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", type=int, default=DEMO_SEED, help=f"random seed (default {DEMO_SEED})"
        )

    def handle(self, *args, seed: int, **options):
        study, created = seed_demo(seed=seed)
        families = study.families.alive().count()
        verb = "Created" if created else "Already present:"
        self.stdout.write(f"{verb} demo study #{study.pk} '{study.name}' with {families} families.")
