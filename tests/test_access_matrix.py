"""Access matrix generated from the URL configuration: a new page or endpoint is covered without
anyone remembering to add it.

For every URL (admin excluded) and every outsider role — anonymous, the wijkcoach of another
caseload, the gemeente, a researcher of another study — a GET never returns the victim family's
data: its pseudonym and linkage key appear in no response, and URLs that name the family (or its
wave, contact, …) answer with a redirect to login, 401, 403 or 404.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from study.models import Contact
from study.services.care import care_involvement_add, caseload_assign
from study.services.contacts import contact_log
from study.services.studies import membership_grant
from study.services.surveys import wave_survey_record
from study.services.values import indicator_values_record
from tests.factories import make_family, make_study, make_user

SKIP_PREFIXES = ("admin/", "accounts/", "i18n/", "static/")
DENIED = {301, 302, 401, 403, 404, 405}
# A study id alone may open a page an outsider legitimately sees (the gemeente's study page with
# aggregates); the pseudonym check still applies to it. Every other id names the family's data.
STUDY_LEVEL = {"studies", "study"}
GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)|<(?:(?P<conv>\w+):)?(?P<name2>\w+)>")


def _routes(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def _all_routes() -> list[str]:
    return sorted(
        {r for r in _routes(get_resolver().url_patterns) if not r.startswith(SKIP_PREFIXES)}
    )


@pytest.fixture
def victim(db):
    researcher = make_user("researcher")
    study = make_study()
    membership_grant(study=study, user=researcher, role="researcher")
    coach = make_user("wijkcoach")
    family = make_family(study, user=researcher, identifier="111222333")
    caseload_assign(family=family, coach=coach, start_date=date(2021, 1, 1))
    wave = family.waves.get(index=0)
    indicator_values_record(wave=wave, values={"bijstand": 1}, user=researcher)
    wave_survey_record(wave=wave, data={"satisfaction": 7}, user=researcher)
    contact = contact_log(
        family=family,
        coach=coach,
        occurred_at=datetime(2022, 5, 1, 10, tzinfo=UTC),
        kind=Contact.Kind.PHONE,
        duration_minutes=15,
        initiated_by=Contact.Initiator.COACH,
    )
    involvement = care_involvement_add(
        family=family,
        organisation="GGZ",
        discipline="behandelaar",
        start_date=date(2021, 2, 1),
        user=coach,
    )
    ids = {
        "families": family.pk,
        "family": family.pk,
        "studies": study.pk,
        "study": study.pk,
        "waves": wave.pk,
        "wave": wave.pk,
        "contacts": contact.pk,
        "contact": contact.pk,
        "members": family.members.first().pk,
        "member": family.members.first().pk,
        "indicator-values": wave.values.first().pk,
        "value": wave.values.first().pk,
        "surveys": wave.survey.pk,
        "wave-surveys": wave.survey.pk,
        "survey": wave.survey.pk,
        "care-involvements": involvement.pk,
        "involvements": involvement.pk,
        "involvement": involvement.pk,
    }
    return {"family": family, "study": study, "ids": ids}


@pytest.fixture
def outsiders(db, victim):
    other_coach = make_user("wijkcoach")
    own = make_family(victim["study"], "comparison")
    caseload_assign(family=own, coach=other_coach, start_date=date(2021, 1, 1))
    gemeente = make_user("gemeente")
    membership_grant(study=victim["study"], user=gemeente, role="gemeente")
    stranger = make_user("researcher")
    membership_grant(study=make_study(), user=stranger, role="researcher")
    return {
        "anonymous": None,
        "other_coach": other_coach,
        "gemeente": gemeente,
        "other_researcher": stranger,
    }


def _concrete(route: str, ids: dict[str, int]) -> tuple[str, bool]:
    """Fill in a route's parameters; returns (url, names_the_victim)."""
    names_victim = False
    segments = [s for s in re.split(r"[/^$]", route) if s and "<" not in s and "(" not in s]

    def fill(match: re.Match) -> str:
        nonlocal names_victim
        name = match.group("name") or match.group("name2")
        key = name.removesuffix("_id").removesuffix("_pk")
        if key in ids:
            names_victim = names_victim or key not in STUDY_LEVEL
            return str(ids[key])
        if name in {"pk", "id"}:
            owner = next((s for s in reversed(segments) if s in ids), "families")
            names_victim = names_victim or owner not in STUDY_LEVEL
            return str(ids[owner])
        if name == "format":
            return "json"
        if name in {"version"}:
            return "1"
        if name in {"year", "price_year"}:
            return "2014"
        return "1"

    url = "/" + GROUP.sub(fill, route).replace("^", "").replace("$", "").replace("\\", "")
    return url, names_victim


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def test_the_matrix_covers_the_url_configuration():
    routes = _all_routes()
    assert len(routes) >= 8, routes


@pytest.mark.django_db
def test_no_outsider_ever_receives_the_family(client, victim, outsiders):
    family = victim["family"]
    secrets = [family.pseudonym, family.linkage_key]
    failures = []
    for route in _all_routes():
        url, names_victim = _concrete(route, victim["ids"])
        for role, user in outsiders.items():
            client.logout()
            if user is not None:
                client.force_login(user)
            response = client.get(url)
            body = _body(response)
            leaked = [s for s in secrets if s and s in body]
            if leaked:
                failures.append(f"{role} GET {url}: {response.status_code} shows the family's data")
            elif names_victim and response.status_code not in DENIED:
                failures.append(
                    f"{role} GET {url}: {response.status_code}, expected redirect/401/403/404"
                )
            elif response.status_code >= 500:
                failures.append(f"{role} GET {url}: server error {response.status_code}")
    assert failures == []


@pytest.mark.django_db
def test_the_victims_own_researcher_does_see_the_family(client, victim):
    """The matrix must be able to fail: the family page does show the pseudonym to its researcher."""
    researcher = victim["study"].memberships.get(role="researcher").user
    client.force_login(researcher)
    response = client.get(f"/families/{victim['family'].pk}/")
    assert victim["family"].pseudonym in _body(response)
