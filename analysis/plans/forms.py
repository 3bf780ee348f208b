"""Form input of the question, plan and schedule pages: POST data parsed into service arguments,
and a service's ValidationError as messages to show."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from analysis.did.inference import DEFAULT_METHODS


def error_messages(exc: ValidationError) -> list[str]:
    """A ValidationError as lines to show, each naming its field when it has one."""
    if hasattr(exc, "message_dict"):
        return [f"{field}: {'; '.join(msgs)}" for field, msgs in exc.message_dict.items()]
    return list(exc.messages)


def question_data(post) -> dict:
    """The edited fields of a research question; the outcomes arrive as JSON text."""
    data = {
        "title": post.get("title", ""),
        "unit": post.get("unit", "family"),
        "expected_direction": post.get("expected_direction", "decrease"),
        "model": post.get("model", "auto"),
        "primary": post.get("primary") == "on",
        "active": post.get("active") == "on",
        "not_answered_reason": post.get("not_answered_reason", ""),
    }
    try:
        data["outcomes"] = json.loads(post.get("outcomes") or "[]")
    except json.JSONDecodeError as exc:
        raise ValidationError(
            {"outcomes": f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"}
        ) from None
    return data


def plan_changes(post) -> dict:
    """The parameters a plan revision changes (empty fields keep the plan's value).
    Raises ValueError when draws or seed are not whole numbers."""
    changes: dict = {}
    for key in ("design", "multiplicity", "inference", "clustering"):
        if post.get(key):
            changes[key] = post[key]
    for key in ("draws", "seed"):
        if post.get(key, "").strip():
            changes[key] = int(post[key])
    return changes


def inference_choices() -> list[tuple[str, str]]:
    """The inference methods a plan (and a run) may follow, with their labels."""
    labels = {"wild": _("wild cluster bootstrap")}
    return [(m, labels.get(m, m.upper())) for m in DEFAULT_METHODS]
