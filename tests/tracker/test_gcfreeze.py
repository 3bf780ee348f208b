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
