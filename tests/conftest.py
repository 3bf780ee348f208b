"""Shared fixtures: one user per role, a study with a researcher, and families on caseloads."""

from datetime import date

import pytest
from django.test import override_settings

from study.roles import Role
from study.services.care import caseload_assign
from study.services.studies import membership_grant
from tests.factories import make_family, make_study, make_user


def _transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    marked = marker is not None and bool(
        marker.kwargs.get("transaction") or marker.args[:1] == (True,)
    )
    return marked or bool({"transactional_db", "live_server"} & set(item.fixturenames))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every transactional test restores the migration-seeded rows (catalogue, groups, content
    types) with serialized rollback. Mixing serialized and plain transactional tests breaks on
    PostgreSQL: a plain test's flush re-creates the content types under new ids, and the next
    serialized test's restore then collides with them (duplicate key on django_content_type)."""
    for item in items:
        if _transactional(item):
            item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True))


@pytest.fixture(scope="session", autouse=True)
def monitor_uploads_in_a_temporary_folder(tmp_path_factory):
    """Extracts uploaded to the monitor API wait in a temporary folder, not in var/."""
    with override_settings(MONITOR_UPLOAD_DIR=tmp_path_factory.mktemp("monitor-uploads")):
        yield


@pytest.fixture(autouse=True)
def fresh_throttle_counters():
    """Throttling counts in the cache: every test starts from zero."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def researcher(db):
    return make_user(Role.RESEARCHER)


@pytest.fixture
def data_manager(study):
    """The data manager of `study` (roles are per study)."""
    user = make_user(Role.DATA_MANAGER)
    membership_grant(study=study, user=user, role=Role.DATA_MANAGER)
    return user


@pytest.fixture
def gemeente_user(db):
    return make_user(Role.GEMEENTE)


@pytest.fixture
def coach(db):
    return make_user(Role.WIJKCOACH)


@pytest.fixture
def other_coach(db):
    return make_user(Role.WIJKCOACH)


@pytest.fixture
def study(db, researcher, gemeente_user):
    s = make_study()
    membership_grant(study=s, user=researcher, role=Role.RESEARCHER)
    membership_grant(study=s, user=gemeente_user, role=Role.GEMEENTE)
    return s


@pytest.fixture
def family(study, coach, researcher):
    f = make_family(study, user=researcher)
    caseload_assign(family=f, coach=coach, start_date=date(2021, 3, 1))
    return f


@pytest.fixture
def other_family(study, other_coach, researcher):
    f = make_family(study, "comparison", user=researcher)
    caseload_assign(family=f, coach=other_coach, start_date=date(2021, 3, 1))
    return f
