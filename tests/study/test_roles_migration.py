"""The migration to per-study roles keeps everyone's access as it was and ends every API token
issued before it (all were issued with a password only)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("study", "0008_access_credentials")]
AFTER = [("study", "0009_roles_per_study")]

# serialized_rollback: the next transactional tests find the database as they expect it.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_world():
    apps = _migrate(BEFORE)
    User = apps.get_model("auth", "User")
    Group = apps.get_model("auth", "Group")
    Study = apps.get_model("study", "Study")
    Arm = apps.get_model("study", "Arm")
    Family = apps.get_model("study", "Family")
    Membership = apps.get_model("study", "StudyMembership")
    Caseload = apps.get_model("study", "CaseloadAssignment")
    Token = apps.get_model("authtoken", "Token")
    groups = {
        name: Group.objects.get_or_create(name=name)[0]
        for name in ("researcher", "wijkcoach", "datamanager", "gemeente")
    }

    def user(name, *roles):
        u = User.objects.create(username=name)
        for role in roles:
            u.groups.add(groups[role])
        return u

    a = Study.objects.create(name="A", municipality="Almelo", start_date=date(2020, 1, 1))
    b = Study.objects.create(name="B", municipality="Borne", start_date=date(2020, 1, 1))
    arm = Arm.objects.create(study=a, kind="intervention")
    family = Family.objects.create(
        study=a,
        arm=arm,
        intake_date=date(2021, 1, 1),
        allocation="matched",
        allocation_date=date(2021, 1, 1),
    )
    people = {
        "researcher": user("r", "researcher"),
        "ex_researcher": user("x"),  # taken out of the group: the membership gave nothing
        "manager": user("dm", "datamanager"),
        "coach": user("c", "wijkcoach"),
    }
    Membership.objects.create(study=a, user=people["researcher"], role="researcher")
    Membership.objects.create(study=a, user=people["ex_researcher"], role="researcher")
    Caseload.objects.create(family=family, coach=people["coach"], start_date=date(2021, 1, 1))
    for person in people.values():
        Token.objects.create(user=person, key=f"{person.username:0<40}")
    yield {"a": a.pk, "b": b.pk, "people": {k: v.pk for k, v in people.items()}}
    executor = MigrationExecutor(connection)
    _migrate(executor.loader.graph.leaf_nodes())  # leave the schema as the other tests expect


def test_access_is_kept_in_the_new_form_and_old_tokens_end(old_world):
    apps = _migrate(AFTER)
    Membership = apps.get_model("study", "StudyMembership")
    Token = apps.get_model("authtoken", "Token")
    people = old_world["people"]

    def held(person):
        rows = Membership.objects.filter(user_id=people[person], active=True)
        return set(rows.values_list("study_id", "role"))

    a, b = old_world["a"], old_world["b"]
    assert held("researcher") == {(a, "researcher")}
    assert held("ex_researcher") == set()
    assert held("manager") == {(a, "datamanager"), (b, "datamanager")}
    assert held("coach") == {(a, "wijkcoach")}
    assert not Token.objects.exists()
