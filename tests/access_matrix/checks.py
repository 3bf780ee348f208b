"""The access matrix's checks, generated from the URL configuration and the OpenAPI schema.

Each check walks every page route or API operation as every actor of the world and returns the
failures it found (a list of readable lines), so that a test can assert there are none, and a
test with a broken selector can assert there are some.

What an actor may see is decided per *kind* of the victim's data (world.FAMILY, RESEARCH, ...);
every page route that takes an id and every API resource is classified here, and a test fails
when a new one is not (so the matrix cannot silently skip it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.settings import spectacular_settings
from rest_framework.test import APIClient

from tests.access_matrix.world import (
    ANALYSIS,
    CASELOAD,
    FAMILY,
    MANAGE,
    MONITOR,
    RESEARCH,
    STUDY,
    Actor,
    World,
)
from tests.otp import api_verified, login_verified

#: Page routes that take an id, by the kind of data they show or change.
PAGE_KINDS: dict[str, str] = {
    "instruments:wave_instruments": FAMILY,
    "instruments:entry": FAMILY,
    "instruments:respondent_start": FAMILY,
    "instruments:administration": FAMILY,
    "instruments:export": RESEARCH,
    "instruments:versions": RESEARCH,
    "instruments:codebook": RESEARCH,
    "study:study_detail": STUDY,
    "study:family_detail": FAMILY,
    "study:contact_new": FAMILY,
    "study:care_workers": FAMILY,
    "study:care_involvement_end": FAMILY,
    "study:family_audit": RESEARCH,
    "study:contact_correct": FAMILY,
    "study:care_involvement_correct": FAMILY,
    "study:family_remove": MANAGE,
    "study:family_erase": MANAGE,
    "study:erasure_list": MANAGE,
    "study:study_audit": RESEARCH,
    # Lists only the families the visitor may see (a coach: their caseload; others: none).
    "study:record_status": STUDY,
    "study:query_list": RESEARCH,
    "study:query_detail": RESEARCH,
    "study:family_enrol": RESEARCH,
    "study:wave_entry": RESEARCH,
    "study:wave_complete": RESEARCH,
    "study:wave_missed": RESEARCH,
    "study:wave_lock": RESEARCH,
    "study:wave_unlock": RESEARCH,
    "study:study_export": RESEARCH,
    "study:study_codebook": RESEARCH,
    "study:import_list": RESEARCH,
    "study:import_template": RESEARCH,
    "study:import_detail": RESEARCH,
    "study:import_status": RESEARCH,
    "study:import_apply": RESEARCH,
    "study:import_errors": RESEARCH,
    "study:enrolment_links": MANAGE,
    "study:api_keys": MANAGE,
    "study:api_key_revoke": MANAGE,
    "study:access_log": MANAGE,
    "study:care_catalogue": MANAGE,
    "study:study_edit": MANAGE,
    "study:study_members": MANAGE,
    "study:membership_change": MANAGE,
    "study:caseloads": CASELOAD,
    "study:notes_grants": CASELOAD,
    "study:matching_candidates": RESEARCH,
    "study:family_status": RESEARCH,
    "study:study_professionals": RESEARCH,
    "study:professional_deactivate": RESEARCH,
    "costs:family": RESEARCH,
    "monitor:detail": MONITOR,
    "monitor:publish": MONITOR,
    "monitor:print": MONITOR,
    "monitor:download": MONITOR,
    # The study's analysis page lists what every member may read (published reports).
    "analysis:study": STUDY,
}
#: Every analysis page takes a study, run or report id of the victim's study.
PAGE_NAMESPACE_KINDS = {"analysis": ANALYSIS}
#: Routes whose parameter is a secret of the visitor's own (no data of the victim's).
PAGE_OWN_SECRETS = {"two_factor_enrol", "password_reset_confirm"}

#: API resources (the path after /api/, monitor's with its second part), by kind; None: no data
#: of the victim's (reference data, the caller's own token) or checked elsewhere.
API_KINDS: dict[str, str | None] = {
    "families": FAMILY,
    "waves": FAMILY,
    "contacts": FAMILY,
    "care-involvements": FAMILY,
    "indicator-values": RESEARCH,
    "members": RESEARCH,
    "wave-surveys": RESEARCH,
    "professionals": RESEARCH,
    "professional-surveys": RESEARCH,
    "imports": RESEARCH,
    "matching-candidates": RESEARCH,
    "analysis-runs": ANALYSIS,
    "analysis-plans": ANALYSIS,
    "plan-freezes": ANALYSIS,
    "reports": ANALYSIS,
    "monitor/reports": MONITOR,
    "monitor/jobs": MONITOR,
    "studies": STUDY,
    "memberships": MANAGE,
    "caseloads": CASELOAD,
    "administrations": FAMILY,
    "instrument-versions": None,  # definitions; a study's own ones: tests/instruments/test_api.py
    "auth": None,  # the caller's own token
    # Setting up a new study names no data of the victim's (tests/study/api/test_api_setup.py).
    "study-set-up": None,
    "costs": None,  # the price catalogue every study shares (tests/analysis/costs)
    # A run is accepted for any municipality the caller manages; its job refuses the others
    # (tests/analysis/monitor/test_monitor_api.py).
    "monitor/run": None,
}
#: Filter parameters that can name the victim's data: the kind of what they name, the victim's
#: value, and an unknown value of the same type.
FILTERS = {
    "family": (FAMILY, "family", 999_999),
    "wave__family": (FAMILY, "family", 999_999),
    "wave": (FAMILY, "wave", 999_999),
    "study": (STUDY, "study", 999_999),
    "professional": (RESEARCH, "professional", 999_999),
    "municipality": (MONITOR, None, "Nergenshuizen"),
}
DENIED = {401, 403, 404, 405}
GROUP = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


# --- clients -----------------------------------------------------------------------------------


def api_client(actor: Actor) -> APIClient:
    if actor.api_key:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {actor.api_key}")
        return client
    return api_verified(actor.user) if actor.user is not None else APIClient()


def page_client(actor: Actor) -> Client:
    return login_verified(Client(), actor.user) if actor.user is not None else Client()


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def snapshot() -> dict[str, int]:
    """What a write would change: the rows of every history table (every audited write leaves
    one) and of the unaudited tables that matter."""
    counts = {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model.__name__.startswith("Historical")
    }
    for label in (
        "study.ImportBatch",
        "analysis.AnalysisRun",
        "analysis.ReportPublicationEvent",
        "analysis.PlanFreezeJob",
        "analysis.ReportTypesetJob",
        "monitor.MonitorJob",
    ):
        model = apps.get_model(label)
        counts[label] = model._default_manager.count()
    counts["published reports"] = (
        apps.get_model("analysis.Report").objects.filter(published=True).count()
    )
    counts["published monitor reports"] = (
        apps.get_model("monitor.MonitorReport").objects.filter(published_at__isnull=False).count()
    )
    return counts


# --- pages -------------------------------------------------------------------------------------


@dataclass
class Route:
    route: str
    name: str  # namespace:name

    @property
    def params(self) -> list[str]:
        return [m.group("name") for m in GROUP.finditer(self.route)]


def routes() -> list[Route]:
    def walk(patterns, prefix="", namespace="") -> Iterator[Route]:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace or namespace
                yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                name = f"{namespace}:{p.name}" if namespace else (p.name or "")
                yield Route(prefix + str(p.pattern), name)

    found = walk(get_resolver().url_patterns)
    return [r for r in found if not r.route.startswith(("admin/", "api/", "static/"))]


def page_kind(route: Route) -> str | None:
    namespace = route.name.partition(":")[0] if ":" in route.name else ""
    return PAGE_KINDS.get(route.name) or PAGE_NAMESPACE_KINDS.get(namespace)


def unclassified_routes() -> list[str]:
    return [
        f"{r.route} ({r.name})"
        for r in routes()
        if r.params and page_kind(r) is None and r.name.rpartition(":")[2] not in PAGE_OWN_SECRETS
    ]


def page_url(route: Route, ids: dict[str, int]) -> str:
    segments = [s for s in route.route.split("/") if s and "<" not in s]

    def fill(match: re.Match) -> str:
        name = match.group("name")
        key = name.removesuffix("_id")
        if key in ids:
            return str(ids[key])
        if name in {"pk", "id"}:
            owner = next((s for s in reversed(segments) if s in ids), "families")
            return str(ids[owner])
        if name == "fmt":
            return "csv"
        return "1" if match.group("conv") == "int" else "x"

    return "/" + GROUP.sub(fill, route.route)


def check_pages(world: World, actors: list[Actor]) -> list[str]:
    """GET and POST every page as every actor: routes of a kind the actor may not see answer
    401/403/404/405 (anonymous: the login page), and write nothing; no page shows the victim's
    pseudonym or linkage key to an actor who may not see the family."""
    failures = []
    secrets = [s for s in (world.pseudonym, world.linkage_key) if s]
    for actor in actors:
        if not actor.pages:
            continue
        client = page_client(actor)
        for route in routes():
            url = page_url(route, world.ids)
            kind = page_kind(route)
            forbidden = kind is not None and kind not in actor.may
            # Posting to the account pages logs out, changes the language, ...: not the victim's.
            own = route.route.startswith(("accounts/", "i18n/"))
            for method in ("get",) if own else ("get", "post"):
                before = snapshot() if forbidden and method == "post" else None
                response = getattr(client, method)(url)
                # The caseload page names pseudonyms to whoever manages the caseloads.
                shown = [] if kind == CASELOAD and CASELOAD in actor.may else secrets
                failures += _page_failures(actor, method, url, response, forbidden, shown)
                if before is not None and snapshot() != before:
                    failures.append(f"{actor.name} POST {url} changed data")
    return failures


def _page_failures(actor, method, url, response, forbidden, secrets) -> list[str]:
    status = response.status_code
    where = f"{actor.name} {method.upper()} {url}: {status}"
    if status >= 500:
        return [f"{where} server error"]
    if FAMILY not in actor.may and any(s in _body(response) for s in secrets):
        return [f"{where} shows the victim family"]
    if not forbidden or status in DENIED:
        return []
    if actor.user is None and status == 302 and "/accounts/login/" in response["Location"]:
        return []
    return [f"{where}, expected 401/403/404/405"]


# --- API -------------------------------------------------------------------------------------


def api_schema() -> dict:
    generator = spectacular_settings.DEFAULT_GENERATOR_CLASS()
    return json.loads(OpenApiJsonRenderer().render(generator.get_schema(request=None, public=True)))


def resource_of(path: str) -> str:
    parts = [p for p in path.removeprefix("/api/").split("/") if p]
    return "/".join(parts[:2]) if parts[0] == "monitor" else parts[0]


def unclassified_api_paths(schema: dict) -> list[str]:
    return [path for path in schema["paths"] if resource_of(path) not in API_KINDS]


def _operations(schema: dict, methods: set[str]) -> Iterator[tuple[str, str, dict]]:
    for path, operations in sorted(schema["paths"].items()):
        for method, operation in operations.items():
            if method in methods and isinstance(operation, dict):
                yield path, method, operation


def _rows(data) -> list:
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        return data["results"]
    return data if isinstance(data, list) else []


def _listed(response) -> set:
    try:
        return {row.get("id") for row in _rows(response.json()) if isinstance(row, dict)}
    except ValueError:
        return set()


def check_api_lists_and_details(world: World, actors: list[Actor], schema: dict) -> list[str]:
    """Every GET of the schema as every actor: a list never holds the id of the victim's object
    of a kind the actor may not see, a filter naming the victim's data answers exactly like one
    naming nothing, and the victim's object answers 401/403/404."""
    failures = []
    for actor in actors:
        client = api_client(actor)
        for path, _method, operation in _operations(schema, {"get"}):
            kind = API_KINDS.get(resource_of(path))
            if kind is None or kind in actor.may:
                continue
            victim = world.ids.get(resource_of(path))
            if "{" in path:
                failures += _detail_failures(actor, client, path, victim)
            else:
                failures += _list_failures(actor, client, path, operation, victim, world.ids)
    return failures


def _detail_failures(actor, client, path, victim) -> list[str]:
    if victim is None:
        return []
    url = re.sub(r"\{[^}]+\}", str(victim), path, count=1)
    url = re.sub(r"\{[^}]+\}", "1", url)
    response = client.get(url)
    if response.status_code in DENIED and response.json().get("detail"):
        return []
    return [f"{actor.name} GET {url}: {response.status_code}, expected 401/403/404"]


def _list_failures(actor, client, path, operation, victim, ids) -> list[str]:
    failures = []
    response = client.get(path)
    if actor.user is None and not actor.api_key:
        if response.status_code != 401:
            failures.append(f"anonymous GET {path}: {response.status_code}, expected 401")
        return failures
    if response.status_code >= 500:
        return [f"{actor.name} GET {path}: server error"]
    if victim is not None and victim in _listed(response):
        failures.append(f"{actor.name} GET {path} lists the victim's {resource_of(path)} {victim}")
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "query" or parameter["name"] not in FILTERS:
            continue
        named_kind, key, unknown = FILTERS[parameter["name"]]
        if named_kind in actor.may:
            continue  # it names something the actor may see
        value = ids[key] if key else "Almelo"
        named = client.get(path, {parameter["name"]: value})
        nothing = client.get(path, {parameter["name"]: unknown})
        if (named.status_code, named.content) != (nothing.status_code, nothing.content):
            failures.append(
                f"{actor.name} GET {path}?{parameter['name']}=<victim> answers "
                f"{named.status_code} {named.content[:80]!r}, unlike an unknown id "
                f"({nothing.status_code} {nothing.content[:80]!r})"
            )
    return failures


def check_insider_sees(world: World, schema: dict) -> list[str]:
    """The matrix can see: the victim's researcher lists every victim object of the API (the
    memberships and caseloads, which researchers do not manage: the victim's data manager)."""
    researcher = api_verified(world.insiders["researcher"])
    manager = api_verified(world.insiders["data manager"])
    failures = []
    for path, _method, _operation in _operations(schema, {"get"}):
        victim = world.ids.get(resource_of(path))
        kind = API_KINDS.get(resource_of(path))
        if "{" in path or victim is None or kind is None:
            continue
        client, who = (
            (manager, "data manager")
            if kind in (MANAGE, CASELOAD)
            else (
                researcher,
                "researcher",
            )
        )
        if victim not in _listed(client.get(path)):
            failures.append(f"the victim's {who} does not see {path} {victim}")
    return failures


# --- API writes ---------------------------------------------------------------------------------


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


NAMED_VALUES: dict[str, object] = {
    "values": {"bijstand": "1"},
    "version": "",  # no version: the write is not checked against one
    "reason": "correction in the access matrix",
}


def _value(schema, name: str, prop: dict, ids: dict[str, int]):
    prop = _resolve(schema, prop)
    for combined in ("allOf", "oneOf", "anyOf"):
        if combined in prop:
            prop = _resolve(schema, prop[combined][0])
    kind, fmt = prop.get("type"), prop.get("format")
    if name in ids and kind == "integer":
        return ids[name]
    if "enum" in prop:
        return next((v for v in prop["enum"] if v not in ("", None)), prop["enum"][0])
    if name == "file" or fmt == "binary":
        return SimpleUploadedFile("extract.csv", b"pseudonym,year,bijstand\n", "text/csv")
    if name in NAMED_VALUES:
        return NAMED_VALUES[name]
    special = {"date-time": "2022-05-01T10:00:00Z", "date": "2022-05-01", "decimal": "1"}
    if fmt in special:
        return special[fmt]
    if kind in ("integer", "number"):
        low = prop.get("minimum", 0)
        return max(low, min(2022 if name == "year" else 3, prop.get("maximum", 10**6)))
    return {"boolean": False, "object": {}, "array": []}.get(kind, "x")


def request_body(schema: dict, operation: dict, ids: dict[str, int]) -> tuple[object, str]:
    """A plausible body for the operation naming the victim's objects, and its format."""
    content = operation.get("requestBody", {}).get("content", {})
    if not content:
        return None, "json"
    media = "application/json" if "application/json" in content else next(iter(content))
    node = _resolve(schema, content[media]["schema"])
    many = node.get("type") == "array"
    item = _resolve(schema, node["items"]) if many else node
    body = {n: _value(schema, n, p, ids) for n, p in item.get("properties", {}).items()}
    upload = any(isinstance(v, SimpleUploadedFile) for v in body.values())
    return ([body] if many else body), ("multipart" if upload else "json")


def _send(client, method: str, url: str, body, fmt: str):
    if body is not None and fmt == "multipart":
        for value in body.values() if isinstance(body, dict) else ():
            if isinstance(value, SimpleUploadedFile):
                value.seek(0)
    return getattr(client, method)(url, body, format=fmt)


def write_operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [
        (path, method, op)
        for path, method, op in _operations(schema, {"post", "put", "patch", "delete"})
        if API_KINDS.get(resource_of(path)) is not None
    ]


def check_api_writes(world: World, actors: list[Actor], schema: dict) -> list[str]:
    """Every write operation of the schema as every actor who may not see its kind, with a body
    naming the victim's objects: never a 2xx, and nothing changes."""
    failures = []
    for actor in actors:
        client = api_client(actor)
        for path, method, operation in write_operations(schema):
            kind = API_KINDS[resource_of(path)]
            if kind in actor.may:
                continue
            url = re.sub(r"\{[^}]+\}", str(world.ids.get(resource_of(path), 1)), path)
            body, fmt = request_body(schema, operation, world.ids)
            before = snapshot()
            response = _send(client, method, url, body, fmt)
            if 200 <= response.status_code < 300 or response.status_code >= 500:
                failures.append(f"{actor.name} {method.upper()} {url}: {response.status_code}")
            elif snapshot() != before:
                failures.append(f"{actor.name} {method.upper()} {url} changed data")
    return failures


def insider_writes(world: World, schema: dict) -> dict[str, int]:
    """The same generated writes as the victim's own researcher, coach and data manager: the
    status each operation answered best (so the matrix's bodies are shown to be valid)."""
    best: dict[str, int] = {}
    clients: list[Callable[[], APIClient]] = [
        lambda user=user: api_verified(user) for user in world.insiders.values()
    ]
    made = [make() for make in clients]
    for path, method, operation in write_operations(schema):
        url = re.sub(r"\{[^}]+\}", str(world.ids.get(resource_of(path), 1)), path)
        for client in made:
            body, fmt = request_body(schema, operation, world.ids)
            status = _send(client, method, url, body, fmt).status_code
            key = f"{method.upper()} {path}"
            if 200 <= status < 300:
                best[key] = status
                break
            best[key] = status
    return best
