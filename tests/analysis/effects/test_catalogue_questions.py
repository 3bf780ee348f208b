"""The catalogue's research_questions column agrees with what the derived outcomes read: the
indicators tagged F2 are exactly the ones repeated care (the F2 outcome) is built from."""

import pandas as pd
import pytest

from analysis.effects import derive
from study.catalogue import catalogue_specs

CODES = [spec.code for spec in catalogue_specs()]


def _restarts(code: str) -> float:
    """repeated_care in the third year of a family whose only care is ``code``: 1, none, 1."""
    rows = [dict.fromkeys(CODES, 0.0) | {"family_id": 1, "year": 2019 + i} for i in range(3)]
    rows[0][code] = rows[2][code] = 1.0
    return float(derive.repeated_care(pd.DataFrame(rows)).iloc[2])


@pytest.fixture(scope="module")
def read_by_repeated_care() -> set[str]:
    """Found by behaviour, not from derive's own lists: every code whose renewed start counts."""
    return {code for code in CODES if _restarts(code) == 1.0}


def test_the_indicators_tagged_f2_are_the_ones_repeated_care_reads(read_by_repeated_care):
    tagged = {s.code for s in catalogue_specs() if "F2" in s.research_questions.split()}
    assert tagged == read_by_repeated_care


def test_repeated_care_reads_the_care_groups_of_the_catalogue(read_by_repeated_care):
    groups = {s.group for s in catalogue_specs() if s.code in read_by_repeated_care}
    assert groups == {"youth_care", "child_protection", "ggz", "addiction_care"}
    # probation, protection, GGZ and addiction care, not only youth care
    assert {"child_youth_probation", "child_ots", "adult_ggz_basic_eur"} <= read_by_repeated_care
    assert "adult_addiction_care" in read_by_repeated_care
