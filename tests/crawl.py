"""A crawl of the site as each role of the demo study: one instance of every URL pattern a role
reaches (links from the home page, and the URL conf filled with the demo's ids), with the HTML
of each page, for the checks of issue 20 (formats, links, English leaks, code names; the
browser's axe-core check walks the same pages)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.test import Client
from django.urls import Resolver404, resolve

from tests.access_matrix import checks

#: The demo's roles (study/demo.py): one user each.
ROLES = ("onderzoeker", "beheerder", "gemeente", "coach1")
#: Not crawled: the API and its docs (JSON, tools for programmers), the admin's inner pages
#: (Django's own; its index is crawled), logging out, switching language (POST only).
SKIP_PREFIXES = ("/api/", "/admin/", "/accounts/logout/", "/i18n/", "/static/")
CRAWL_ADMIN = ("/admin/",)
#: Downloads and pages that change something on GET (none should) are left out by suffix.
SKIP_SUFFIXES = (".csv", ".json", ".pdf", ".xlsx", ".sav", ".dta")
HREF = re.compile(r'\shref="([^"#]*)', re.I)


@dataclass
class Page:
    role: str
    url: str
    route: str
    status: int
    html: str


@dataclass
class Crawl:
    pages: list[Page] = field(default_factory=list)
    broken_links: list[str] = field(default_factory=list)


def seed_crawl_study(seed: int = 7):
    """The demo study as the crawl reads it: seeded, with its analysis plan frozen, one finished
    run and its report published (the path `manage.py demo_analysis` takes: the report pages
    are crawled, the gemeente reads the published report). Returns (study, users by role)."""
    from django.contrib.auth import get_user_model

    from analysis.models import AnalysisRun
    from analysis.plans.plan_services import analysis_plan_freeze, plan_params
    from analysis.runs.report_services import report_publish
    from analysis.runs.services import analysis_run_execute
    from study.demo import seed_demo

    study, _ = seed_demo(seed=seed)
    users = {u.username: u for u in get_user_model().objects.filter(username__in=ROLES)}
    researcher = users["onderzoeker"]
    plan = analysis_plan_freeze(study=study, user=researcher)
    run = AnalysisRun.objects.create(
        study=study,
        started_by=researcher,
        plan=plan,
        params={**plan_params(plan), "price_year": study.price_year, "plan_version": plan.version},
    )
    run = analysis_run_execute(run_id=run.pk)
    assert run is not None and run.status == AnalysisRun.Status.SUCCEEDED, run and run.error
    report_publish(report=run.report, user=researcher)
    return study, users


def route_of(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.route


def demo_ids(study, coach) -> dict[str, int]:
    """Ids of one object of each kind in the demo study, for the URL conf's patterns (one of
    the coach's own families, so the coach reaches its pages too)."""
    from analysis.models import AnalysisRun, Report
    from study.models import CareInvolvement, Contact, DataQuery, ImportBatch, Professional

    family = study.families.filter(assignments__coach=coach, assignments__end_date=None).first()
    family = family or study.families.first()
    ids = {"study": study.pk, "studies": study.pk, "families": family.pk, "family": family.pk}
    wave = family.waves.filter(index=0).first() or family.waves.first()
    ids.update(waves=wave.pk, wave=wave.pk)
    for name, model, filt in (
        ("contacts", Contact, {"family": family}),
        ("contact", Contact, {"family": family}),
        ("involvements", CareInvolvement, {"family": family}),
        ("involvement", CareInvolvement, {"family": family}),
        ("queries", DataQuery, {"wave__family__study": study}),
        ("query", DataQuery, {"wave__family__study": study}),
        ("imports", ImportBatch, {"study": study}),
        ("batch", ImportBatch, {"study": study}),
        ("professionals", Professional, {"study": study}),
        ("runs", AnalysisRun, {"study": study}),
        ("run", AnalysisRun, {"study": study}),
        ("reports", Report, {"run__study": study}),
        ("report", Report, {"run__study": study}),
    ):
        obj = model.objects.filter(**filt).order_by("pk").first()
        if obj is not None:
            ids[name] = obj.pk
    return ids


def _links(html: str) -> list[str]:
    return [h for h in HREF.findall(html) if h.startswith("/") and not h.startswith("//")]


def _wanted(url: str, seen_urls: set[str], seen_routes: set[str]) -> str | None:
    """The route of a URL still to crawl, or None."""
    path = urlsplit(url).path
    if url in seen_urls or path.endswith(SKIP_SUFFIXES):
        return None
    if path.startswith(SKIP_PREFIXES) and path not in CRAWL_ADMIN:
        return None
    route = route_of(path)
    return None if route is None or route in seen_routes else route


def _html_of(response) -> str | None:
    ok = response.status_code == 200 and not getattr(response, "streaming", False)
    if not ok or not response.get("Content-Type", "").startswith("text/html"):
        return None
    return response.content.decode("utf-8", "replace")


def crawl_role(client: Client, role: str, seeds: list[str], result: Crawl, limit: int) -> None:
    queue = list(seeds)
    seen_routes: set[str] = set()
    seen_urls: set[str] = set()
    while queue and len(seen_urls) < limit:
        url = queue.pop(0)
        route = _wanted(url, seen_urls, seen_routes)
        if route is None:
            continue
        seen_urls.add(url)
        response = client.get(url)
        location = response.get("Location", "") if response.status_code in {301, 302} else ""
        if location.startswith("/") and "/accounts/login/" not in location:
            queue.insert(0, location)
        html = _html_of(response)
        if html is None:
            continue
        seen_routes.add(route)
        result.pages.append(Page(role, url, route, response.status_code, html))
        for link in _links(html):
            link_path = urlsplit(link).path
            if link_path.startswith("/static/"):
                continue
            if route_of(link_path) is None:
                result.broken_links.append(f"{role} {url}: {link}")
            elif link not in seen_urls:
                queue.append(link)


def crawl(users: dict, ids: dict[str, int], *, language: str = "nl", limit: int = 400) -> Crawl:
    """GET one instance of every URL pattern each role reaches; broken links are noted."""
    result = Crawl()
    param_seeds = [
        checks.page_url(r, ids)
        for r in checks.routes()
        if not r.route.startswith(("accounts/", "i18n/"))
    ]
    for role in ROLES:
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(users[role])
        crawl_role(client, role, ["/", *CRAWL_ADMIN, *param_seeds], result, limit)
    return result


class VisibleText(HTMLParser):
    """The text a person reads: no <script>, <style>, <code> (identifiers: codebook and Stata
    names, import column names), <kbd>, <samp>, <pre>, <textarea> (what someone typed), nor
    elements marked translate="no", nor parts in another language than the page's (an element
    whose lang differs from <html lang>: the published report, which stays Dutch, the language
    switch's own names; `foreign` lists them, tag and class, so a test can hold them to a known
    few); placeholders and title attributes count."""

    SKIP = {"script", "style", "code", "kbd", "samp", "pre", "template", "textarea"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.skipping: list[str] = []
        self.parts: list[str] = []
        self.page_lang: str | None = None
        self.foreign: set[str] = set()

    def _is_foreign(self, tag: str, values: dict) -> bool:
        lang = values.get("lang")
        if tag == "html":
            self.page_lang = lang
            return False
        if lang and self.page_lang and lang[:2] != self.page_lang[:2]:
            self.foreign.add(f"{tag}.{values.get('class') or ''} lang={lang}")
            return True
        return False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.append(tag)
            return
        if tag in self.SKIP or values.get("translate") == "no" or self._is_foreign(tag, values):
            self.skipping.append(tag)
            return
        for name in ("placeholder", "title", "aria-label", "alt"):
            if values.get(name):
                self.parts.append(values[name])

    def handle_endtag(self, tag):
        if self.skipping and tag == self.skipping[-1]:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)

    @classmethod
    def parsed(cls, html: str) -> VisibleText:
        parser = cls()
        parser.feed(html)
        return parser

    @classmethod
    def of(cls, html: str) -> str:
        return " ".join(" ".join(cls.parsed(html).parts).split())
