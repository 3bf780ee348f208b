"""Browser tests: Playwright drives Debian's chromium (headless) against pytest-django's
live_server. Skipped, with the reason, when /usr/bin/chromium is not installed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls made by fixtures
# and assertions in that thread are synchronous and safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "pw-for-tests-123"  # tests.factories.make_user's default
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS", "/tmp"))


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's chromium: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def open_page(browser, live_server):
    """open_page(viewport) -> a fresh page in its own context; closed after the test."""
    contexts = []

    def factory(viewport: dict | None = None, **options):
        context = browser.new_context(
            viewport=viewport or DESKTOP, base_url=live_server.url, **options
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield factory
    for context in contexts:
        context.close()


def log_in(page, username: str, next_url: str = "/") -> None:
    """Log in through the login form, as a person would."""
    page.goto(f"/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture(autouse=True)
def indicator_catalogue(transactional_db):
    """The global indicator catalogue, which a data migration seeds: a transactional test's
    flush empties it, and serialized rollback does not always restore it, so sync it here."""
    from study.catalogue import sync_global_indicators
    from study.models import Indicator

    if not Indicator.objects.filter(study__isnull=True).exists():
        sync_global_indicators(Indicator)
