"""The migration to per-study roles (study/migrations/0011) keeps everyone's access as it was and
ends every API token issued before it (all were issued with a password only).

Its data step runs here on rows as they were before it (global groups, memberships that needed
the group too, data managers and coaches without memberships)."""

from __future__ import annotations

import importlib
from datetime import date

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token

from study.models import CaseloadAssignment, StudyMembership
from tests.factories import make_family, make_study, make_user

pytestmark = pytest.mark.django_db

migration = importlib.import_module("study.migrations.0011_roles_per_study")


def _in_groups(user, *names):
    for name in names:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


def test_access_is_kept_in_the_new_form_and_old_tokens_end():
    a, b = make_study(), make_study()
    family = make_family(a)
    researcher = _in_groups(make_user(None), "researcher")
    ex_researcher = make_user(None)  # taken out of the group: the membership gave nothing
    manager = _in_groups(make_user(None), "datamanager")
    coach = _in_groups(make_user(None), "wijkcoach")
    StudyMembership.objects.create(study=a, user=researcher, role="researcher")
    StudyMembership.objects.create(study=a, user=ex_researcher, role="researcher")
    CaseloadAssignment.objects.create(family=family, coach=coach, start_date=date(2021, 1, 1))
    for person in (researcher, ex_researcher, manager, coach):
        Token.objects.create(user=person)

    migration.forwards(apps, None)

    def held(person):
        rows = StudyMembership.objects.filter(user=person, active=True)
        return set(rows.values_list("study_id", "role"))

    assert held(researcher) == {(a.pk, "researcher")}
    assert held(ex_researcher) == set()
    assert held(manager) == {(a.pk, "datamanager"), (b.pk, "datamanager")}
    assert held(coach) == {(a.pk, "wijkcoach")}
    assert not Token.objects.exists()
