"""Fuzz the API against its own OpenAPI schema (/api/schema/) with schemathesis.

Every operation gets a bounded number of generated requests (FUZZ_EXAMPLES, default 5), sent
through the WSGI app as a researcher and as a wijkcoach (token auth). No response may be a
server error, and every 4xx must carry a readable JSON error body (a non-empty object or list,
e.g. {"detail": "..."} or {"field": ["..."]}).
"""

from __future__ import annotations

import json
import os
from datetime import date

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.settings import spectacular_settings
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from study.models import Professional
from study.roles import Role
from study.services.care import caseload_assign
from study.services.studies import membership_grant
from tests.factories import make_family, make_study, make_user

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))


def _served_schema():
    """The schema /api/schema/ serves (for signed-in users only), generated in-process."""
    generator = spectacular_settings.DEFAULT_GENERATOR_CLASS()
    raw = OpenApiJsonRenderer().render(generator.get_schema(request=None, public=True))
    loaded = schemathesis.openapi.from_dict(json.loads(raw))
    loaded.app = WSGIHandler()
    loaded.location = "/api/schema/"
    return loaded


schema = _served_schema()


def readable_error_body(ctx, response, case) -> None:
    """A 4xx answers in JSON that says something: an object or list, not empty."""
    if not 400 <= response.status_code < 500:
        return
    content_type = next(
        (value for key, value in response.headers.items() if key.lower() == "content-type"), ""
    )
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    assert "json" in content_type, (
        f"{response.status_code} answered with {content_type!r}, not JSON: {response.text[:200]}"
    )
    body = json.loads(response.text)
    assert isinstance(body, dict | list) and body, f"{response.status_code} with an empty body"


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """Calling the WSGI handler directly fires request_started/finished, which close the
    database connection (and with it the test's transaction): switch that off, as Django's
    own test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(db, wsgi_keeps_the_test_connection):
    """A small study so generated ids sometimes hit real objects."""
    researcher = make_user(Role.RESEARCHER)
    coach = make_user(Role.WIJKCOACH)
    study = make_study()
    membership_grant(study=study, user=researcher, role=Role.RESEARCHER)
    for arm in ("intervention", "comparison"):
        family = make_family(study, arm, user=researcher)
        caseload_assign(family=family, coach=coach, start_date=date(2021, 3, 1))
    Professional.objects.create(study=study, organisation="Wijkteam", approach="new")
    return {"researcher": researcher, "coach": coach}


def _headers(user) -> dict[str, str]:
    # Fuzzed DELETE /api/auth/token/ revokes the token: hand out a fresh one when it is gone.
    token, _created = Token.objects.get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.parametrize("role", ["researcher", "coach"])
@schema.parametrize()
@FUZZ_SETTINGS
def test_api_fuzz(case, role, fuzz_world):
    user = fuzz_world[role]
    case.call_and_validate(headers=_headers(user), checks=[not_a_server_error, readable_error_body])
