"""Setting up a study: where study and analysis meet when a study comes into being.

``study`` never imports ``analysis``; a new study still needs the registry's research questions
before anyone opens its analyses. These services create (or restore) the study through study's
own services and seed its questions explicitly, in one transaction. Everything that creates a
study and expects questions goes through here: the demo, restores, the test factories.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from analysis.plans.question_services import questions_seed
from instruments.demo import demo_instruments_seed
from study.backup import study_restore
from study.demo import DEMO_SEED, seed_demo
from study.models import Study
from study.services.studies import study_create


@transaction.atomic
def study_set_up(
    *, name: str, start_date: date, municipality: str = "", user=None, **options
) -> Study:
    """A new study (with its two arms) that starts with the registry's research questions
    (options: those of `study.services.studies.study_create`)."""
    study = study_create(
        name=name, municipality=municipality, start_date=start_date, user=user, **options
    )
    questions_seed(study=study)
    return study


def demo_set_up(*, seed: int = DEMO_SEED, today: date | None = None) -> tuple[Study, bool]:
    """The demo study and its users, set up like any study, with its instruments (idempotent);
    (study, created)."""
    return seed_demo(
        seed=seed, today=today, create_study=study_set_up, extend=demo_instruments_seed
    )


@transaction.atomic
def study_restore_set_up(*, bundle: dict, restored_users: list | None = None) -> Study:
    """Restore a study from a backup bundle; a bundle holds no research questions, so the
    restored study starts from the registry's. New users are appended to `restored_users`."""
    study = study_restore(bundle=bundle, restored_users=restored_users)
    questions_seed(study=study)
    return study
