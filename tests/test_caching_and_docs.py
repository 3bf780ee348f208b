"""Responses with family data are never cached (pages, exports, API); the API docs are served
from our own origin under the site's Content-Security-Policy, to signed-in users only; API lists
have an upper bound."""

import re

import pytest
from django.conf import settings as django_settings
from django.test import Client

from study.models import Family
from tests.otp import api_verified

pytestmark = pytest.mark.django_db


def _no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_family_pages_exports_and_api_answers_are_not_stored(client, researcher, family):
    client.force_login(researcher)
    study = family.study_id
    for url in (
        f"/families/{family.pk}/",
        f"/studies/{study}/",
        f"/studies/{study}/export/csv/",
        f"/studies/{study}/export/xlsx/",
        f"/studies/{study}/codebook/",
        "/due/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert _no_store(response), url
    api = api_verified(researcher)
    for url in ("/api/families/", f"/api/families/{family.pk}/", "/api/indicator-values/"):
        response = api.get(url)
        assert response.status_code == 200 and _no_store(response), url
    refused = Client().get("/api/families/")
    assert refused.status_code == 401 and _no_store(refused)


def test_the_docs_need_a_login_and_load_nothing_from_elsewhere(client, researcher):
    assert client.get("/api/docs/").status_code == 302
    assert client.get("/api/redoc/").status_code == 302
    assert client.get("/api/schema/").status_code == 401
    client.force_login(researcher)
    for url in ("/api/docs/", "/api/redoc/"):
        page = client.get(url)
        assert page.status_code == 200
        assert page["Content-Security-Policy"] == "; ".join(
            f"{k} {v}" for k, v in django_settings.CONTENT_SECURITY_POLICY.items()
        )
        body = page.content.decode()
        assert "<script>" not in body  # no inline script: every script is a file
        sources = re.findall(r'(?:src|href)="([^"]+)"', body)
        assert sources and all(s.startswith("/") for s in sources), sources
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


@pytest.mark.parametrize("limit", ["100000", str(10**30), "-1", "abc"])
def test_a_huge_limit_is_cut_and_never_a_server_error(researcher, family, limit):
    api = api_verified(researcher)
    response = api.get("/api/families/", {"limit": limit, "offset": str(10**30)})
    assert response.status_code == 200
    response = api.get("/api/families/", {"limit": limit})
    assert response.status_code == 200
    assert len(response.json()["results"]) <= django_settings.API_MAX_LIMIT


def test_the_page_size_is_bounded(researcher, study, settings):
    from tests.factories import make_family

    for _ in range(3):
        make_family(study)
    settings.API_MAX_LIMIT = 2
    response = api_verified(researcher).get("/api/families/", {"limit": "1000"})
    assert len(response.json()["results"]) == 2 and Family.objects.count() >= 3


def test_a_filter_on_an_id_outside_the_scope_answers_like_an_unknown_id(gemeente_user, family):
    """The review: as gemeente, `?family=41` was 200 [] and `?family=999` 400."""
    api = api_verified(gemeente_user)
    for path in ("/api/waves/", "/api/contacts/", "/api/members/", "/api/care-involvements/"):
        known = api.get(path, {"family": family.pk})
        unknown = api.get(path, {"family": 999_999})
        assert (known.status_code, known.json()) == (unknown.status_code, unknown.json()), path
        assert known.status_code == 200
    assert api.get("/api/waves/", {"family": "x"}).status_code == 400
    assert api.get("/api/waves/", {"family": str(10**30)}).status_code == 400
