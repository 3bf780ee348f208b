"""Every HTML page runs at most a fixed number of queries, independent of the number of
families (issue 21): every GET route of the URL conf, opened by the first insider (researcher,
coach, data manager) it answers 200 for, counted with 10 families in the study and again with
80; the two counts must be equal and at most MAX_QUERIES."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from study.models import Study
from study.services.care import caseload_assign
from study.services.contacts import contact_log
from study.services.values import indicator_values_record
from tests.access_matrix import checks
from tests.access_matrix.world import build_world
from tests.factories import make_family

pytestmark = pytest.mark.django_db

MAX_QUERIES = 25
SMALL, LARGE = 10, 80
#: Pages over the budget, by a constant count (still checked not to grow), and why. Not fixed
#: yet: the test fails once such a page is within the budget, so the entry must then go.
OVER_BUDGET: dict[str, str] = {}


def _add_families(study: Study, coach, researcher, n: int) -> None:
    """n families like the world's victim: on the coach's caseload, values and a contact."""
    for k in range(n):
        family = make_family(study, "intervention" if k % 2 else "comparison", user=researcher)
        caseload_assign(family=family, coach=coach, start_date=date(2021, 1, 1))
        for wave in family.waves.filter(index__in=(0, 1)):
            indicator_values_record(
                wave=wave, values={"bijstand": 1, "moves": 0}, user=researcher, source="manual"
            )
        contact_log(
            family=family,
            coach=coach,
            occurred_at=timezone.now() - timedelta(days=k + 1),
            kind="phone",
            duration_minutes=15,
            initiated_by="coach",
        )


def _counts(world, clients) -> dict[str, tuple[int, str, str]]:
    """url -> (queries, who, route name) for every page some insider opens with 200."""
    found: dict[str, tuple[int, str, str]] = {}
    for route in checks.routes():
        url = checks.page_url(route, world.ids)
        for name, client in clients:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
                if getattr(response, "streaming", False):
                    b"".join(response.streaming_content)
            if response.status_code == 200:
                found[url] = (len(queries), name, route.name)
                break
    return found


@pytest.fixture(autouse=True)
def no_second_factor(settings):
    settings.OTP_REQUIRED = False
    # Every request moves the session's idle expiry (its worst case: the refresh is due), so a
    # page's count does not depend on when in the minute it was opened.
    settings.SESSION_REFRESH_SECONDS = 0


def test_every_page_has_a_query_budget_independent_of_the_families(db):
    world = build_world()
    researcher, coach = world.insiders["researcher"], world.insiders["coach"]
    study = Study.objects.get(families__pk=world.ids["family"])
    clients = []
    for name, user in world.insiders.items():
        client = Client()
        client.force_login(user)
        clients.append((name, client))
    present = study.families.count()
    _add_families(study, coach, researcher, SMALL - present)
    small = _counts(world, clients)
    _add_families(study, coach, researcher, LARGE - SMALL)
    large = _counts(world, clients)
    assert len(small) > 30, sorted(small)
    report = []
    for url, (n, who, name) in sorted(small.items()):
        at_large = large.get(url, (None,))[0]
        if at_large != n:
            report.append(
                f"{url} ({who}): {n} queries with {SMALL} families, {at_large} with {LARGE}"
            )
        elif n > MAX_QUERIES and name not in OVER_BUDGET:
            report.append(f"{url} ({who}): {n} queries, over the budget of {MAX_QUERIES}")
        elif n <= MAX_QUERIES and name in OVER_BUDGET:
            report.append(
                f"{url} ({who}): {n} queries, within the budget: drop it from OVER_BUDGET"
            )
    assert report == [], "\n".join(report)
