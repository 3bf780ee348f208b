"""After the first request the long-lived objects sit in the permanent generation, so a full
collection no longer walks them during a later request (tracker/gcfreeze.py)."""

from __future__ import annotations

import gc

import pytest

from tracker import gcfreeze

pytestmark = pytest.mark.django_db


def test_the_first_finished_request_freezes_the_loaded_objects(client, monkeypatch):
    monkeypatch.setattr(gcfreeze, "_done", False)
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    client.get("/accounts/login/")
    frozen = gc.get_freeze_count()
    assert frozen > 10_000
    calls = []
    monkeypatch.setattr(gcfreeze.gc, "freeze", lambda: calls.append(1))
    client.get("/accounts/login/")
    assert calls == []  # once per process, not per request


def _cached_names() -> set[str]:
    from django.template import engines

    names = set()
    for engine in engines.all():
        for loader in engine.engine.template_loaders:
            names |= set(getattr(loader, "get_template_cache", {}))
    return names


def test_the_first_finished_request_compiles_every_project_template_first(client, monkeypatch):
    from django.template import engines

    for engine in engines.all():
        engine.engine.template_loaders[0].reset()
    monkeypatch.setattr(gcfreeze, "_done", False)
    warmed = []
    monkeypatch.setattr("instruments.library.shipped", lambda: warmed.append("instruments") or ())
    client.get("/accounts/login/")
    names = {name for _engine, name in gcfreeze.project_templates()}
    assert {"study/family_detail.html", "study/record_status.html", "base.html"} <= names
    # nothing of Django's own or third parties' (the virtual environment may sit in the project)
    assert not any(
        name.startswith(("admin/", "rest_framework/", "django_filters/")) for name in names
    )
    assert names <= _cached_names()  # compiled: a later first visit of a page reads no file
    assert warmed == ["instruments"]  # each app's warm_up() ran (the shipped definitions read)


def test_a_template_that_does_not_compile_is_skipped_at_warm_up(monkeypatch, caplog):
    from django.template import engines

    engine = engines.all()[0]
    good = gcfreeze.project_templates()[0]
    monkeypatch.setattr(
        gcfreeze, "project_templates", lambda: [(engine, "no/such/template.html"), good]
    )
    assert gcfreeze.warm_up() == 1
    assert "no/such/template.html" in caplog.text
