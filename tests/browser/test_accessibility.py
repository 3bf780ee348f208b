"""Accessibility (issue 20): axe-core 4.11 (vendored from the npm registry, tests/browser/vendor)
over one instance of every URL pattern each role of the demo study reaches (the crawl of
tests/crawl.py), in Debian's chromium: no serious or critical WCAG 2.2 A/AA violation. And a
coach's every page fits a 360 x 740 phone without horizontal scrolling."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.crawl import ROLES, crawl, demo_ids, seed_crawl_study

AXE = Path(__file__).parent / "vendor" / "axe-core-4.11.4" / "axe.min.js"
AXE_SHA256 = "fb83a4378d978ecb7d2dae48a3a3778a84c971ac692f3afd45d714fba89c0f0d"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SMALL_PHONE = {"width": 360, "height": 740}


def _demo():
    import importlib

    from django.apps import apps

    from analysis.costs.models import PriceCatalogue

    if not PriceCatalogue.objects.exists():  # a transactional test's flush removed the seed
        migration = "analysis.costs.migrations.0002_seed_catalogue_2014_cpi_scenarios"
        importlib.import_module(migration).seed(apps, None)

    return seed_crawl_study()  # with a finished run and its published report


def _log_in(page, username: str) -> None:
    from study.demo import DEMO_PASSWORD

    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()


def _axe(page) -> list[dict]:
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))",
        TAGS,
    )
    return [v for v in result if v["impact"] in {"serious", "critical"}]


def test_the_vendored_axe_core_is_the_pinned_release():
    assert hashlib.sha256(AXE.read_bytes()).hexdigest() == AXE_SHA256
    assert (AXE.parent / "LICENSE").read_text().startswith("Mozilla Public License")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_no_serious_or_critical_axe_violation_on_any_page(open_page):
    study, users = _demo()
    pages = crawl(users, demo_ids(study, users["coach1"])).pages
    assert len(pages) >= 40
    found = []
    checked = 0
    for role in ROLES:
        page = open_page(locale="nl-NL", bypass_csp=True)
        _log_in(page, role)
        for visit in (p for p in pages if p.role == role):
            page.goto(visit.url)
            assert "/accounts/login/" not in page.url, (role, visit.url)  # really signed in
            for violation in _axe(page):
                found.append(f"{role} {visit.url}: {violation}")
            checked += 1
        # The check can fail: an unlabelled input added to the last page is reported.
        page.evaluate("document.querySelector('main').append(document.createElement('input'))")
        assert any(v["id"] == "label" for v in _axe(page)), role
    assert checked == len(pages)
    assert found == [], "\n".join(found)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_no_coach_page_scrolls_sideways_on_a_small_phone(open_page):
    study, users = _demo()
    pages = [p for p in crawl(users, demo_ids(study, users["coach1"])).pages if p.role == "coach1"]
    assert len(pages) >= 5
    page = open_page(SMALL_PHONE, locale="nl-NL")
    _log_in(page, "coach1")
    wide = []
    for visit in pages:
        page.goto(visit.url)
        assert "/accounts/login/" not in page.url, visit.url
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > SMALL_PHONE["width"]:
            wide.append(f"{visit.url}: {width}px")
    assert wide == []
    # The check can fail: a wide element makes the page scroll sideways.
    page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend', "
        "'<div style=\"width:500px\">x</div>')"
    )
    assert page.evaluate("document.documentElement.scrollWidth") > SMALL_PHONE["width"]
