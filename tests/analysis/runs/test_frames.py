"""Frame building reads a study in a fixed handful of queries, whatever the number of families."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analysis.runs.frames import build_frames, fingerprint
from study.services.care import care_involvement_add, caseload_assign
from study.services.contacts import contact_log
from study.services.surveys import wave_survey_record
from study.services.values import indicator_values_record
from tests.factories import make_family

pytestmark = pytest.mark.django_db


def _add_families(study, n: int, *, coach, researcher) -> None:
    for i in range(n):
        arm = "intervention" if i % 2 == 0 else "comparison"
        family = make_family(study, arm, intake=date(2021, 3, 1), user=researcher)
        caseload_assign(family=family, coach=coach, start_date=date(2021, 3, 1))
        intake = family.waves.get(index=0)
        indicator_values_record(
            wave=intake, values={"bijstand": 1, "adult_police_assault": 0, "child_ots": 0}
        )
        wave_survey_record(wave=intake, data={"satisfaction": 7, "reachability": 6})
        care_involvement_add(
            family=family,
            organisation="Jeugdhulp Twente",
            discipline="jeugdhulp",
            start_date=date(2021, 4, 1),
            user=coach,
        )
        occurred = datetime(2021, 5, 3, 10, 0, tzinfo=UTC) + timedelta(days=i)
        contact_log(
            family=family,
            coach=coach,
            occurred_at=occurred,
            kind="home_visit",
            duration_minutes=60,
            initiated_by="family",
            requested_at=occurred - timedelta(hours=20),
        )


def _queries(study) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        frames = build_frames(study)
    return len(captured), frames


def test_frame_building_queries_do_not_grow_with_the_number_of_families(
    study, coach, researcher, django_assert_num_queries
):
    _add_families(study, 2, coach=coach, researcher=researcher)
    small, frames = _queries(study)
    for name in ("families", "wide", "surveys", "involvements", "contacts"):
        assert len(frames[name]) >= 2, name  # the queries read real rows
    _add_families(study, 8, coach=coach, researcher=researcher)
    with django_assert_num_queries(small):
        frames = build_frames(study)
    assert frames["families"]["family_id"].nunique() == 10
    assert len(frames["contacts"]) == 10 and len(frames["involvements"]) == 10
    assert small <= 15  # a handful, whatever the study


def test_the_fingerprint_follows_the_data(study, coach, researcher):
    _add_families(study, 2, coach=coach, researcher=researcher)
    before = fingerprint(build_frames(study))
    assert fingerprint(build_frames(study)) == before  # an unchanged rerun
    _add_families(study, 1, coach=coach, researcher=researcher)
    assert fingerprint(build_frames(study)) != before
