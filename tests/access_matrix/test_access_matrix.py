"""The access matrix, generated from the URL configuration and the OpenAPI schema: every page
(GET and POST) and every API operation (GET and every write method) as every role of the victim's
study, a dual-role user (wijkcoach of the victim family in A, researcher of B), users and an API
key of another study; lists and filter answers are checked by id. A new route or endpoint is
covered without anyone remembering to add it (and must be classified, or a test here fails).

The matrix must be able to fail: the victim's researcher sees what the outsiders must not, and
with a selector broken to return every family the matrix reports the leaks.
"""

from __future__ import annotations

import pytest

from study import access, selectors
from study.models import Family
from tests.access_matrix import checks
from tests.access_matrix.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def second_factor_required(settings):
    settings.OTP_REQUIRED = True  # the production rule: every client passes its second factor


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture(scope="module")
def schema():
    return checks.api_schema()


def test_every_route_and_endpoint_is_classified(schema):
    assert checks.unclassified_routes() == []
    assert checks.unclassified_api_paths(schema) == []
    assert len(checks.routes()) >= 40 and len(schema["paths"]) >= 40


def test_no_outsider_lists_opens_or_filters_for_the_victims_data(world, schema):
    assert checks.check_api_lists_and_details(world, world.actors, schema) == []


def test_no_outsider_writes_the_victims_data_through_the_api(world, schema):
    assert checks.check_api_writes(world, world.actors, schema) == []


def test_no_outsider_opens_or_posts_to_a_page_of_the_victims_data(world):
    assert checks.check_pages(world, world.actors) == []


def test_the_victims_researcher_does_see_all_of_it(world, schema):
    assert checks.check_insider_sees(world, schema) == []


def test_the_generated_writes_are_valid_requests_for_the_victims_own_people(world, schema):
    """Outsiders are refused the same requests that succeed for the victim's researcher, coach
    or data manager (so a refusal is access, not a malformed body)."""
    answered = checks.insider_writes(world, schema)
    for operation in (
        "POST /api/indicator-values/record/",
        "POST /api/indicator-values/bulk/",
        "POST /api/contacts/",
        "POST /api/contacts/bulk/",
        "POST /api/wave-surveys/",
        "POST /api/professional-surveys/",
        "POST /api/imports/",
        "POST /api/monitor/reports/{id}/publish/",
    ):
        assert 200 <= answered[operation] < 300, (operation, answered[operation])


def _everything(user, right, *, on=None):
    return Family.objects.alive()


@pytest.mark.parametrize(
    ("target", "name"),
    [(access, "families_with"), (selectors, "research_family_list")],
    ids=["access.families_with", "selectors.research_family_list"],
)
def test_a_broken_selector_makes_the_matrix_fail(world, schema, monkeypatch, target, name):
    broken = _everything if name == "families_with" else lambda user, **kw: _everything(user, 0)
    monkeypatch.setattr(target, name, broken)
    failures = checks.check_api_lists_and_details(world, world.actors, schema)
    leaked = {line.split(" GET ")[0] for line in failures if "lists the victim" in line}
    assert "researcher of B" in leaked, failures
    assert "dual: coach of the victim in A, researcher of B" in leaked, failures
    if name == "families_with":
        assert any("/api/families/" in line for line in failures)
        assert checks.check_pages(world, world.actors) != []
    else:
        assert any("/api/indicator-values/" in line for line in failures)


def test_the_dual_role_leak_of_the_review_would_be_caught(world, schema, monkeypatch):
    """The review's hole: research data selected from the families a user may *see* (their
    caseload included) instead of those they may *research*: the dual-role user then reads the
    registry values of their caseload family."""
    monkeypatch.setattr(
        selectors, "research_family_list", lambda user, **kw: access.visible_families(user)
    )
    failures = checks.check_api_lists_and_details(world, world.actors, schema)
    dual = [line for line in failures if line.startswith("dual: coach of the victim")]
    assert any("/api/indicator-values/" in line for line in dual), failures
    assert not any(line.startswith("researcher of B") for line in failures), failures
