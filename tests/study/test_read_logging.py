"""Every read of family-level data is logged (NEN 7513), checked by walking the URL conf and the
API schema: every page route and every API GET is classified here as family data or not (a new
route fails `test_every_route_and_endpoint_is_classified` until someone decides), and every
family-data read answers with exactly one access event naming who, how, from where and which
families (the victim's id whenever the response shows the victim)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from study.models import AccessEvent, Family
from study.roles import Role
from study.services.values import indicator_values_record
from tests.access_matrix import checks
from tests.access_matrix.world import build_world
from tests.factories import make_family, make_member, make_study
from tests.otp import api_verified, login_verified

pytestmark = pytest.mark.django_db

#: Pages that show or hand out family-level data: each GET writes one access event.
FAMILY_PAGES = {
    "study:study_detail",  # every family's pseudonym and status
    "study:family_detail",
    "study:family_audit",
    "study:contact_new",
    "study:care_workers",
    "study:wave_entry",
    "study:caseload",
    "study:waves_due",
    "study:study_export",
    "study:import_template",  # one row per family
    "study:import_detail",  # a batch's preview and problems name families
    "study:import_errors",
    "study:caseloads",  # the coordinator's families and their coaches
    "study:notes_grants",  # the handed-over families, their coaches and the grants
    "study:study_audit",  # the study's change history
    "study:record_status",  # every family x wave
    "study:query_list",
    "study:query_detail",
    "study:family_remove",
    "study:erasure_list",  # the withdrawn families' pseudonyms
    "study:contact_correct",
    "study:care_involvement_correct",
    "study:family_status",
    "costs:family",
    "instruments:wave_instruments",
    "instruments:entry",
    "instruments:administration",
    "instruments:export",  # one row per administration
}
#: Pages without family-level data, and why.
NOT_FAMILY_PAGES = {
    "study:home": "the user's studies",
    "study:family_enrol": "an empty form (the POST enrols)",
    "study:matching_candidates": "counts of the candidate pool per intake year; no keys",
    "study:care_involvement_end": "POST only",
    "study:wave_complete": "POST only",
    "study:wave_missed": "POST only",
    "study:wave_lock": "POST only",
    "study:wave_unlock": "POST only",
    "study:study_codebook": "the indicator catalogue",
    "study:import_list": "the study's batches: file names and counts",
    "study:import_status": "a batch's progress",
    "study:import_apply": "POST only",
    "study:enrolment_links": "accounts",
    "study:api_keys": "accounts",
    "study:api_key_revoke": "POST only",
    "study:professional_survey": "the professional's own survey",
    "study_new": "an empty set-up form",
    "study:study_edit": "the study's set-up",
    "study:study_members": "accounts and their roles",
    "study:membership_change": "accounts and their roles",
    "study:study_professionals": "professionals, not families",
    "study:professional_deactivate": "POST only",
    "study:family_erase": (
        "only a withdrawn family of a 'remove' study opens it (none in the world); its read is "
        "logged (tests/study/services/test_erasure.py)"
    ),
    "study:care_catalogue": "the study's list of organisations and disciplines, with counts",
    "study:access_log": "the access log itself (data managers; its reads are not family data)",
    "costs:catalogue": "prices",
    "monitor:list": "aggregated municipal counts (1-9 suppressed)",
    "monitor:detail": "aggregated municipal counts (1-9 suppressed)",
    "monitor:publish": "POST only",
    "monitor:print": "aggregated municipal counts (1-9 suppressed)",
    "monitor:download": "aggregated municipal counts (1-9 suppressed), as CSV or XLSX",
    "instruments:respondent_start": "POST only",
    "instruments:respondent": "the instrument's items only, no family named (respondent mode)",
    "instruments:respondent_exit": "a password form",
    "instruments:versions": "instrument definitions",
    "instruments:codebook": "instrument definitions",
}
NOT_FAMILY_NAMESPACES = {
    "analysis": "aggregated effects, plans and reports (disclosure rule)",
}
NOT_FAMILY_PREFIXES = ("accounts/", "i18n/")  # the visitor's own account

#: API resources with family-level rows; the rest are named in NOT_FAMILY_API.
FAMILY_API = {
    "families",
    "waves",
    "contacts",
    "care-involvements",
    "indicator-values",
    "members",
    "wave-surveys",
    "imports",
    "caseloads",
    "administrations",
}
NOT_FAMILY_API = {
    "instrument-versions": "instrument definitions",
    "memberships": "accounts and their roles",
    "study-set-up": "POST only (creates a study)",
    "matching-candidates": "POST only (records a matched study's candidate pool)",
    "studies": "studies",
    "professionals": "professionals, not families",
    "professional-surveys": "professionals' own surveys",
    "analysis-runs": "aggregated",
    "analysis-plans": "aggregated",
    "plan-freezes": "aggregated (a plan's freeze and its progress)",
    "reports": "aggregated",
    "monitor/reports": "aggregated",
    "monitor/jobs": "aggregated",
    "monitor/run": "aggregated",
    "costs": "prices",
    "auth": "the caller's own token",
}


@pytest.fixture(autouse=True)
def second_factor_required(settings):
    settings.OTP_REQUIRED = True


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture(scope="module")
def schema():
    return checks.api_schema()


def _page_class(route) -> str | None:
    namespace = route.name.partition(":")[0] if ":" in route.name else ""
    if route.name in FAMILY_PAGES:
        return "family"
    if (
        route.name in NOT_FAMILY_PAGES
        or namespace in NOT_FAMILY_NAMESPACES
        or route.route.startswith(NOT_FAMILY_PREFIXES)
        or route.route == ""
    ):
        return "other"
    return None


def test_every_route_and_endpoint_is_classified(schema):
    unclassified = [f"{r.route} ({r.name})" for r in checks.routes() if _page_class(r) is None]
    assert unclassified == [], "classify each as FAMILY_PAGES or NOT_FAMILY_PAGES"
    resources = {checks.resource_of(p) for p in schema["paths"]}
    assert resources - FAMILY_API - set(NOT_FAMILY_API) == set()


def _events_after(mark: int):
    return list(AccessEvent.objects.filter(pk__gt=mark).order_by("pk"))


def _mark() -> int:
    return AccessEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def test_every_family_page_logs_one_event_naming_the_families_it_shows(world):
    insiders = world.insiders
    clients = [(name, login_verified_client(user)) for name, user in insiders.items()]
    victim = world.ids["family"]
    failures, walked = [], 0
    for route in checks.routes():
        if _page_class(route) != "family":
            continue
        url = checks.page_url(route, world.ids)
        for name, client in clients:
            mark = _mark()
            response = client.get(url, REMOTE_ADDR="192.0.2.7")
            if response.status_code != 200:
                continue
            body = _body(response)
            events = _events_after(mark)
            walked += 1
            if len(events) != 1:
                failures.append(f"{name} GET {url}: {len(events)} access events, expected 1")
                break
            event = events[0]
            if event.actor_id != insiders[name].pk or not event.credential.startswith("session:"):
                failures.append(f"{name} GET {url}: event without actor or session")
            if event.client_ip != "192.0.2.7":
                failures.append(f"{name} GET {url}: client address {event.client_ip}")
            if world.pseudonym in body and victim not in event.family_ids:
                failures.append(
                    f"{name} GET {url} shows the victim, event names {event.family_ids}"
                )
            break
        else:
            failures.append(f"no insider could open {url}")
    assert failures == []
    assert walked == len(FAMILY_PAGES)


def login_verified_client(user):
    from django.test import Client

    return login_verified(Client(), user)


def _rows(data) -> list:
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        return data["results"]
    return data if isinstance(data, list) else [data]


def test_every_family_api_read_logs_one_event_with_the_row_count_and_family_ids(world, schema):
    clients = {name: api_verified(user) for name, user in world.insiders.items()}
    victim = world.ids["family"]
    failures, walked = [], set()
    for path, _method, _operation in checks._operations(schema, {"get"}):
        resource = checks.resource_of(path)
        if resource not in FAMILY_API:
            continue
        url = re.sub(r"\{[^}]+\}", str(world.ids[resource]), path)
        for name, client in clients.items():
            mark = _mark()
            response = client.get(url)
            if response.status_code != 200:
                continue
            rows = _rows(response.json())
            events = _events_after(mark)
            walked.add(path)
            if len(events) != 1:
                failures.append(f"{name} GET {url}: {len(events)} events, expected 1")
                break
            event = events[0]
            if event.row_count != len(rows):
                failures.append(f"{name} GET {url}: row_count {event.row_count} != {len(rows)}")
            if resource != "imports" and rows and victim not in event.family_ids:
                failures.append(f"{name} GET {url}: victim not in {event.family_ids}")
            if not event.credential.startswith("token:") or event.actor_id is None:
                failures.append(f"{name} GET {url}: no actor or token in the event")
            break
        else:
            failures.append(f"no insider could read {url}")
    assert failures == []
    assert len(walked) == 2 * len(FAMILY_API)


def test_a_refused_detail_is_logged_as_refused(world):
    client = api_verified(world.insiders["coach"])
    mark = _mark()
    assert client.get("/api/families/999999/").status_code == 404
    (event,) = _events_after(mark)
    assert event.action == "api.family.refused" and event.scope == "id=999999"


def test_a_list_of_many_rows_is_one_event_and_a_bounded_number_of_queries(client):
    study = make_study()
    researcher = make_member(study, Role.RESEARCHER)
    families = [make_family(study, user=researcher) for _ in range(30)]
    for family in families:
        indicator_values_record(
            wave=family.waves.get(index=0), values={"bijstand": 1, "ww": 0}, user=researcher
        )
    api = api_verified(researcher)

    def read(limit):
        mark = _mark()
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/indicator-values/", {"limit": limit}).status_code == 200
        return _events_after(mark), len(queries)

    events_small, queries_small = read(4)
    events_all, queries_all = read(1000)
    assert len(events_small) == len(events_all) == 1
    assert events_all[0].row_count == 60
    assert events_all[0].family_ids == sorted(f.pk for f in families)
    assert queries_all == queries_small, "logging costs the same for 4 rows or 60"


def test_the_backup_logs_every_family_of_the_study(tmp_path):
    from django.core.management import call_command

    study = make_study()
    researcher = make_member(study, Role.RESEARCHER)
    family = make_family(study, user=researcher)
    mark = _mark()
    call_command("backup_study", study_id=study.pk, output=str(tmp_path / "b.json"))
    (event,) = _events_after(mark)
    assert event.action == "backup" and event.family_ids == [family.pk]
    assert Family.objects.filter(study=study).count() == event.row_count


def test_role_changes_are_logged():
    from study.services.studies import membership_grant
    from tests.factories import make_user

    study = make_study()
    user = make_user(Role.WIJKCOACH)
    mark = _mark()
    membership_grant(study=study, user=user, role=Role.RESEARCHER)
    events = _events_after(mark)
    assert [e.action for e in events] == ["membership.granted"]
    assert f"user #{user.pk}: researcher" in events[0].detail


def test_a_refused_page_naming_a_family_is_logged(world):
    client = login_verified_client(world.insiders["coach"])
    mark = _mark()
    response = client.get("/families/999999/")
    assert response.status_code == 404
    (event,) = _events_after(mark)
    assert event.action == "page.refused" and event.scope == "family_id=999999"
    assert event.actor_id == world.insiders["coach"].pk and event.client_ip
