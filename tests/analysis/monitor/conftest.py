"""Shared fixtures: the synthetic Almelo population is generated once per test session."""

import pytest

from analysis.monitor.classify import classify_households
from analysis.monitor.synthetic import generate_almelo
from analysis.monitor.tables import wijk_counts
from study.roles import Role
from study.services.studies import membership_grant
from tests.factories import make_study, make_user


@pytest.fixture(scope="session")
def almelo_population():
    return generate_almelo(year=2014, seed=2014)


@pytest.fixture(scope="session")
def almelo_classified(almelo_population):
    return classify_households(almelo_population, 2014, with_indicators=True)


@pytest.fixture(scope="session")
def almelo_counts(almelo_classified):
    return wijk_counts(almelo_classified)


@pytest.fixture(scope="session")
def almelo_csv(almelo_population, tmp_path_factory):
    path = tmp_path_factory.mktemp("monitor") / "almelo.csv"
    almelo_population.to_csv(path, index=False)
    return path


#: The municipalities of the monitor tests' extracts (helpers_monitor.random_extract).
MONITOR_MUNICIPALITIES = ("Almelo", "Borne", "Hengelo", "Delden", "Enschede")


def _manager(role):
    user = make_user(role)
    for name in MONITOR_MUNICIPALITIES:
        membership_grant(study=make_study(municipality=name), user=user, role=role)
    return user


@pytest.fixture
def researcher(db):
    """A researcher of a study in each municipality of the extracts: the monitor is scoped by
    municipality (study.access.may_manage_monitor)."""
    return _manager(Role.RESEARCHER)


@pytest.fixture
def data_manager(db):
    """A data manager of a study in each municipality of the extracts."""
    return _manager(Role.DATA_MANAGER)
