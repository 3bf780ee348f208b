"""Dutch 403 and 404 pages in the site's layout, and objects outside a user's studies answer 404
on every page (a 403 would tell an outsider that the family, wave or study exists) (issue 20)."""

from __future__ import annotations

import pytest

from tests.access_matrix import checks
from tests.access_matrix.world import FAMILY, build_world

pytestmark = pytest.mark.django_db

#: Members of another study: every page of study A's objects is out of their scope.
OUTSIDERS = ("researcher of B", "data manager of B")
#: Members of study A who may not see the victim family: its pages are out of their scope (the
#: study's own management pages may answer 403: they know the study, and it names no family).
NOT_THE_FAMILY = ("gemeente of A", "coordinator of A", "coach of another family of A")


def test_objects_out_of_scope_answer_404_on_every_page(settings):
    settings.OTP_REQUIRED = True
    world = build_world()
    failures = []
    for actor in (a for a in world.actors if a.name in OUTSIDERS + NOT_THE_FAMILY):
        client = checks.page_client(actor)
        for route in checks.routes():
            kind = checks.page_kind(route)
            if not route.params or kind is None:
                continue
            if actor.name in NOT_THE_FAMILY and kind != FAMILY:
                continue
            url = checks.page_url(route, world.ids)
            for method in ("get", "post"):
                status = getattr(client, method)(url).status_code
                # 405: a page that takes only the other method, whatever the id
                if status not in {404, 405}:
                    failures.append(f"{actor.name} {method.upper()} {url}: {status}")
    assert failures == []


def test_an_unknown_page_is_a_dutch_404_in_the_site_layout(client, coach, family, settings):
    settings.LANGUAGE_CODE = "nl"
    client.force_login(coach)
    response = client.get("/families/999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="nl">' in html and 'class="topbar"' in html
    assert 'href="/caseload/"' in html  # the coach's navigation, as on every page
    assert "Uitloggen" in html and "Not Found" not in html


def test_a_refused_page_is_a_403_in_the_site_layout(client, coach, family, settings):
    settings.LANGUAGE_CODE = "nl"
    client.force_login(coach)
    response = client.get(f"/studies/{family.study_id}/members/")
    assert response.status_code == 403
    html = response.content.decode()
    assert '<html lang="nl">' in html and 'class="topbar"' in html and "Uitloggen" in html
    assert "403 Forbidden" not in html


def test_api_errors_stay_json(client, researcher):
    client.force_login(researcher)
    response = client.get("/api/no-such-thing/")
    assert response.status_code in {401, 404} and response["Content-Type"].startswith(
        "application/json"
    )
