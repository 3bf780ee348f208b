"""No personal data in URLs (they end up in server and proxy logs): no route parameter, API
filter, search or ordering field, OpenAPI query parameter, admin search box or page query
parameter may carry a pseudonym, linkage key or other identifier. Generated from the URL
configuration, so a new endpoint is covered without anyone remembering."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver

from tests.otp import api_verified

FORBIDDEN = ("pseudonym", "linkage", "bsn", "identifier", "birth")
ROOT = Path(__file__).resolve().parents[3]


def _is_forbidden(name: str) -> bool:
    return any(word in name.lower() for word in FORBIDDEN)


def _patterns(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _patterns(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def _view_class(pattern: URLPattern):
    callback = pattern.callback
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None)


def query_fields_of(view_class) -> set[str]:
    """Every name a DRF view accepts as a filter, search or ordering field."""
    names: set[str] = set()
    fields = getattr(view_class, "filterset_fields", None) or []
    names |= set(fields) | {lookup for f in fields for lookup in (f.split("__"))}
    filterset = getattr(view_class, "filterset_class", None)
    if filterset is not None:
        for name, flt in filterset.base_filters.items():
            names |= {name, str(getattr(flt, "field_name", ""))}
    names |= {f.lstrip("^=@$") for f in getattr(view_class, "search_fields", None) or []}
    ordering = getattr(view_class, "ordering_fields", None)
    if isinstance(ordering, list | tuple):
        names |= set(ordering)
    return names


def _route_violations(route: str, pattern) -> list[str]:
    found = []
    for name in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route):
        name = "".join(name)
        if _is_forbidden(name):
            found.append(f"route {route} has parameter {name}")
    view_class = _view_class(pattern)
    if view_class is None:
        return found
    lookup = getattr(view_class, "lookup_field", "pk")
    if _is_forbidden(lookup):
        found.append(f"{route}: objects are looked up by {lookup}")
    found += [
        f"{route}: query parameter/filter {name}"
        for name in query_fields_of(view_class)
        if _is_forbidden(name)
    ]
    return found


def violations() -> list[str]:
    found = []
    for route, pattern in _patterns(get_resolver().url_patterns):
        found += _route_violations(route, pattern)
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.search_fields or ():
            if _is_forbidden(name):
                found.append(f"admin {model.__name__} searches {name} through ?q=")
    return found


def test_no_url_filter_or_search_carries_personal_data():
    assert violations() == []


def test_the_scan_finds_a_planted_pseudonym_filter(monkeypatch):
    """The scan must be able to fail: plant a filter by pseudonym and it is reported."""
    from study.api.views import FamilyViewSet

    monkeypatch.setattr(FamilyViewSet, "filterset_fields", ["study", "pseudonym"])
    assert any("pseudonym" in v for v in violations())
    monkeypatch.setattr(FamilyViewSet, "search_fields", ["^pseudonym"], raising=False)
    assert any("families" in v and "pseudonym" in v for v in violations())


@pytest.mark.django_db
def test_no_openapi_query_or_path_parameter_carries_personal_data(researcher):
    client = api_verified(researcher)
    schema = yaml.safe_load(client.get("/api/schema/").content)
    parameters = [
        (path, p["name"], p["in"])
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        if isinstance(operation, dict)
        for p in operation.get("parameters", [])
    ]
    assert len(parameters) > 20  # the scan sees the real schema
    assert [p for p in parameters if p[2] in ("query", "path") and _is_forbidden(p[1])] == []


def test_pages_read_no_personal_data_from_the_query_string():
    """Server-rendered pages: no `request.GET[...]` / `query_params` key names an identifier."""
    pattern = re.compile(r"(?:GET|query_params)(?:\.get\(|\[)\s*[\"'](\w+)[\"']")
    found = []
    for folder in ("study", "analysis", "tracker"):
        for path in (ROOT / folder).rglob("*.py"):
            for key in pattern.findall(path.read_text(encoding="utf-8")):
                if _is_forbidden(key):
                    found.append(f"{path.relative_to(ROOT)}: ?{key}=")
    assert found == []
