"""The API docs render in a real browser under the site's Content-Security-Policy: Swagger UI
and ReDoc load from this site only, and the browser reports no CSP violation."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _watch(page) -> tuple[list[str], list[str]]:
    problems, hosts = [], []
    page.on(
        "console",
        lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.on("requestfinished", lambda request: hosts.append(request.url.split("/")[2]))
    return problems, hosts


@pytest.mark.parametrize(
    ("url", "rendered"), [("/api/docs/", ".swagger-ui .info .title"), ("/api/redoc/", "h1")]
)
def test_the_docs_render_from_this_site_without_a_csp_violation(
    open_page, live_server, researcher, study, url, rendered
):
    page = open_page()
    problems, hosts = _watch(page)
    log_in(page, researcher.username, url)
    page.wait_for_selector(rendered)
    assert "Effect-study tracker API" in page.inner_text(rendered)
    # ReDoc's bundle shows its maker's logo from a CDN; the CSP refuses it, as it must, and
    # nothing else is refused (no script, style, font or worker).
    refused = [p for p in problems if "cdn.redoc.ly/redoc/logo-mini.svg" not in p]
    assert refused == []
    assert set(hosts) == {live_server.url.split("/")[2]}
