"""Form input of the question, plan and schedule pages: POST data parsed into service arguments,
and a service's ValidationError as messages to show."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from analysis.did.inference import DEFAULT_METHODS
from analysis.effects.plan import HONEST_SD_METHODS
from analysis.method_labels import DESIGN_LABELS, INFERENCE_LABELS, label


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
    honest = _honest(post)
    if honest:
        changes["honest"] = honest
    return changes


def _whole(post, key: str) -> int | None:
    text = (post.get(key) or "").strip()
    return int(text) if text else None


def freeze_settings(post) -> dict:
    """The run settings of the first freeze (empty fields keep the defaults): design,
    inference, bootstrap draws, seed, multiplicity, the HonestDiD restrictions, target and
    Delta^SD method, and the planned MDE's power and assumed serial correlation.
    Raises ValueError when a number is not a number."""
    settings: dict = {}
    for key in ("design", "multiplicity", "inference"):
        if post.get(key):
            settings[key] = post[key]
    for key in ("draws", "seed"):
        value = _whole(post, key)
        if value is not None:
            settings[key] = value
    honest = _honest(post)
    if honest:
        settings["honest"] = honest
    power: dict = {}
    if (post.get("power") or "").strip():
        power["power"] = float(post["power"].replace(",", "."))
    if (post.get("rho") or "").strip():
        power["rho"] = float(post["rho"].replace(",", "."))
    if power:
        settings["power"] = power
    return settings


def _honest(post) -> dict:
    honest: dict = {}
    restriction = post.get("honest_restrictions", "")
    if restriction:
        honest["restrictions"] = ["rm", "sd"] if restriction == "both" else [restriction]
    for key in ("target", "sd_method"):
        if post.get(f"honest_{key}"):
            honest[key] = post[f"honest_{key}"]
    return honest


def sd_method_choices() -> list[tuple[str, str]]:
    """The Delta^SD tests a plan may choose, R's default (FLCI) first, with their labels."""
    labels = {
        "FLCI": _("fixed-length confidence interval (FLCI, R's default)"),
        "C-LF": _("conditional-least-favourable hybrid test (C-LF)"),
    }
    return [(m, labels[m]) for m in HONEST_SD_METHODS]


def inference_choices() -> list[tuple[str, str]]:
    """The inference methods a plan (and a run) may follow, with their labels."""
    return [(m, label(INFERENCE_LABELS, m)) for m in DEFAULT_METHODS]


def design_choices() -> list[tuple[str, str]]:
    return [(code, str(words)) for code, words in DESIGN_LABELS.items()]
