"""Query-count guards: the family page, the study dashboard, the import check and contact logging
each run a fixed number of queries, whatever the number of families, waves, values or rows.

Each test builds a small and a larger study and asserts the same exact count for both, so a
query per family or per row fails here (pytest-django's `django_assert_num_queries`)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from study.catalogue import indicators_for
from study.imports.checking import extract_check
from study.imports.reading import read_extract
from study.models import CaseloadAssignment
from study.services.care import care_involvement_add, caseload_assign
from study.services.contacts import contact_log
from study.services.surveys import wave_survey_record
from study.services.values import indicator_values_record
from tests.factories import make_family

SIZES = (1, 5)


def _families(study, researcher, n: int, *, coach=None) -> list:
    """n families (alternating arms), each with 2n values at every wave and a survey; with a
    coach, n contacts and n care workers each too."""
    codes = [i.code for i in indicators_for(study) if i.level == "household"][: 2 * n]
    made = []
    for k in range(n):
        family = make_family(study, "intervention" if k % 2 == 0 else "comparison", user=researcher)
        for wave in family.waves.all():
            indicator_values_record(
                wave=wave, values=dict.fromkeys(codes, 1), user=researcher, source="manual"
            )
            if wave.index >= 0:
                wave_survey_record(wave=wave, data={"satisfaction": 7}, user=researcher)
        if coach is not None:
            caseload_assign(family=family, coach=coach, start_date=date(2021, 3, 1))
            for day in range(n):
                _log(coach, family, hours=24 * (day + 1))
                care_involvement_add(
                    family=family,
                    organisation=f"Wijkteam {day}",
                    discipline="GGZ",
                    start_date=date(2021, 4, 1),
                    user=coach,
                )
        made.append(family)
    return made


def _log(coach, family, *, hours: int):
    return contact_log(
        family=family,
        coach=coach,
        occurred_at=timezone.now() - timedelta(hours=hours),
        kind="phone",
        duration_minutes=15,
        initiated_by="coach",
    )


@pytest.mark.parametrize("size", SIZES)
def test_family_page_queries_do_not_grow_with_its_data(
    client, study, researcher, coach, size, django_assert_num_queries
):
    family, *_others = _families(study, researcher, size, coach=coach)
    client.force_login(researcher)
    url = reverse("study:family_detail", args=[family.pk])
    # The access event is one INSERT (no lock, no chain: study/audit.py; its counter is a
    # trigger). The access checks ask the user's memberships of the family's study
    # (study.access.family_rights).
    with django_assert_num_queries(14):
        response = client.get(url)
    assert len(response.context["contacts"]) == size
    assert len(response.context["indicator_rows"][0]["cells"]) == len(family.study.wave_indices)


def test_a_coach_s_family_page_asks_the_caseload_once(client, study, researcher, coach):
    """The family page reads the family and its rights in one go
    (`selectors.family_get_with_rights`): a coach's caseload EXISTS runs once, not once for the
    404 and again for the page's links (15 queries, one fewer than before); the registry
    indicators, not shown to a coach, are not read (13)."""
    family, *_others = _families(study, researcher, 1, coach=coach)
    client.force_login(coach)
    table = CaseloadAssignment._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("study:family_detail", args=[family.pk]))
    assert response.status_code == 200
    assert len([q for q in queries if f'FROM "{table}"' in q["sql"]]) == 1
    assert len(queries) == 13


@pytest.mark.parametrize("size", SIZES)
def test_study_dashboard_queries_do_not_grow_with_the_families(
    client, study, researcher, size, django_assert_num_queries
):
    _families(study, researcher, size)
    client.force_login(researcher)
    # The access event of the family list is one INSERT; the families' rows are read once
    # (the counts, the pager and the read log's ids come from them).
    with django_assert_num_queries(11):
        response = client.get(reverse("study:study_detail", args=[study.pk]))
    assert response.context["dashboard"]["n_families"] == size


@pytest.mark.parametrize("size", SIZES)
def test_import_check_queries_do_not_grow_with_the_rows(
    study, researcher, size, django_assert_num_queries
):
    families = _families(study, researcher, size)
    codes = [i.code for i in indicators_for(study)]
    out = io.StringIO()
    out.write("pseudonym,year,indicator,value\n")
    for family in families:
        for year in range(2019, 2026):
            for code in codes[:6]:
                out.write(f"{family.pseudonym},{year},{code},0\n")
    extract = read_extract(out.getvalue().encode(), "x.csv", indicator_codes=set(codes))
    assert len(extract.cells) == size * 7 * 6
    with django_assert_num_queries(5):
        check = extract_check(study, extract)
    assert check.problems == [] and check.summary["families"] == size


@pytest.mark.parametrize("size", SIZES)
def test_contact_logging_queries_do_not_grow_with_the_caseload(
    study, researcher, coach, size, django_assert_num_queries
):
    family, *_others = _families(study, researcher, size, coach=coach)
    # PostgreSQL: the caseload EXISTS and one statement for the row and its history row;
    # elsewhere the EXISTS, then the two inserts inside a savepoint.
    expected = 2 if connection.vendor == "postgresql" else 5
    with django_assert_num_queries(expected):
        _log(coach, family, hours=1)
    with django_assert_num_queries(expected):
        _log(coach, family.pk, hours=2)  # by id, as the API logs it
