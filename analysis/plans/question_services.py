"""Research questions per study: seeded from the code registry when a study is set up
(tracker/setup.py), edited by the researchers, read by the runs and the plan."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from analysis.effects.questions import (
    DIRECTIONS,
    MODELS,
    UNITS,
    Question,
    question_from_dict,
    registry_dicts,
    validate_outcomes,
)
from analysis.models import StudyQuestion
from analysis.plans.selectors import may_edit_questions

EDITABLE = (
    "title",
    "unit",
    "outcomes",
    "expected_direction",
    "model",
    "primary",
    "active",
    "not_answered_reason",
    "order",
)


def questions_seed(*, study) -> int:
    """Give a study the registry's questions when it has none yet; returns how many were added.
    Called when a study is set up (tracker.setup) and from the questions page of a study that has
    none (restored from a backup, or created in the admin)."""
    if StudyQuestion.objects.filter(study=study).exists():
        return 0
    rows = [StudyQuestion(study=study, **q) for q in registry_dicts()]
    try:
        with transaction.atomic():
            StudyQuestion.objects.bulk_create(rows, ignore_conflicts=True)
    except IntegrityError:  # seeded at the same moment by another request
        return 0
    return len(rows)


def question_dicts(*, study, active_only: bool = True) -> list[dict]:
    """The study's questions as plain dicts, in their order."""
    qs = StudyQuestion.objects.filter(study=study)
    if active_only:
        qs = qs.filter(active=True)
    return [
        {"code": q.code, **{f: getattr(q, f) for f in EDITABLE}}
        for q in qs.order_by("order", "code")
    ]


def questions_for_run(*, study) -> tuple[Question, ...]:
    """The active questions of a study as the runner's (pure) Question objects."""
    return tuple(question_from_dict(q) for q in question_dicts(study=study))


def _clean(data: dict) -> dict:
    errors: dict[str, str] = {}
    clean = {k: v for k, v in data.items() if k in EDITABLE}
    if "title" in clean and not str(clean["title"]).strip():
        errors["title"] = _("the question text is empty")
    if "unit" in clean and clean["unit"] not in UNITS:
        errors["unit"] = _("unit '%(unit)s' must be one of %(units)s") % {
            "unit": clean["unit"],
            "units": ", ".join(UNITS),
        }
    if "expected_direction" in clean and clean["expected_direction"] not in DIRECTIONS:
        errors["expected_direction"] = _("expected direction must be decrease or increase")
    if "model" in clean and clean["model"] not in MODELS:
        errors["model"] = _("model must be one of %(names)s") % {"names": ", ".join(MODELS)}
    if "outcomes" in clean:
        try:
            clean["outcomes"] = validate_outcomes(
                clean["outcomes"], clean.get("expected_direction", "decrease")
            )
        except ValueError as exc:
            errors["outcomes"] = str(exc)
    if errors:
        raise ValidationError(errors)
    return clean


def _check_may_edit(user, study) -> None:
    if user is None or not may_edit_questions(user, study):
        raise PermissionDenied


@transaction.atomic
def question_update(*, question: StudyQuestion, user, data: dict) -> StudyQuestion:
    """Change a study's question (a frozen plan is not changed: runs report the deviation)."""
    _check_may_edit(user, question.study)
    for field, value in _clean(data).items():
        setattr(question, field, value)
    question.save()
    return question


@transaction.atomic
def question_create(*, study, user, code: str, data: dict) -> StudyQuestion:
    _check_may_edit(user, study)
    code = (code or "").strip()
    if not code:
        raise ValidationError({"code": _("a question needs a code")})
    if StudyQuestion.objects.filter(study=study, code=code).exists():
        raise ValidationError(
            {"code": _("the study already has a question '%(code)s'") % {"code": code}}
        )
    clean = _clean({"unit": "family", **data})
    if not str(clean.get("title", "")).strip():
        raise ValidationError({"title": _("the question text is empty")})
    return StudyQuestion.objects.create(study=study, code=code, **clean)
