"""Test data builders: users per role, studies and enrolled families, through the services."""

from __future__ import annotations

import itertools
from datetime import date

from django.contrib.auth import get_user_model

from study.catalogue import ensure_global_catalogue
from study.models import Family, Study
from study.roles import Role
from study.services.families import MemberSpec, family_enrol
from study.services.studies import membership_grant
from tracker.setup import study_set_up

_counter = itertools.count(1)

ELIGIBLE = {
    "elig_socio_economic": True,
    "elig_adult_psychosocial": True,
    "elig_child_psychosocial": True,
    "elig_chronic": True,
}


def make_user(role: str | None, username: str | None = None, password: str = "pw-for-tests-123"):
    """A user named after the role they are meant to hold. Roles are per study: grant one with
    `membership_grant` (or `make_member`); the name alone grants nothing."""
    user = get_user_model().objects.create_user(
        username=username or f"{role or 'user'}{next(_counter)}", password=password
    )
    if role == Role.DATA_MANAGER:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return user


def make_member(study: Study, role: str, username: str | None = None, **kw):
    """A user holding `role` in `study`."""
    user = make_user(role, username, **kw)
    membership_grant(study=study, user=user, role=role)
    return user


def make_study(name: str | None = None, **options) -> Study:
    ensure_global_catalogue()  # a transactional test elsewhere may have flushed the seed rows
    return study_set_up(
        name=name or f"Study {next(_counter)}",
        municipality=options.pop("municipality", "Almelo"),
        start_date=options.pop("start_date", date(2020, 1, 1)),
        **options,
    )


def make_family(
    study: Study, arm: str = "intervention", *, intake=date(2021, 3, 1), user=None, **kw
) -> Family:
    return family_enrol(
        study=study,
        arm_kind=arm,
        intake_date=intake,
        allocation=kw.pop("allocation", "matched"),
        eligibility=kw.pop("eligibility", ELIGIBLE),
        members=kw.pop(
            "members",
            [MemberSpec("adult", 1985), MemberSpec("child", intake.year - 8)],
        ),
        user=user,
        **kw,
    )
