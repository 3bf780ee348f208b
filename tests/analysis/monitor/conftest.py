"""Shared fixtures: the synthetic Almelo population is generated once per test session."""

import pytest

from analysis.monitor.classify import classify_households
from analysis.monitor.synthetic import generate_almelo
from analysis.monitor.tables import wijk_counts


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
