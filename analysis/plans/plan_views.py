"""Pages of a study's research questions and its pre-registered analysis plan (researchers)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analysis import plan_services, question_services, schedule_services, selectors
from analysis.models import StudyQuestion
from study import selectors as study_selectors


def _study_for_researchers(user, study_id: int):
    study = study_selectors.study_get(user, study_id)
    if not selectors.may_run_analyses(user, study):
        raise Http404
    return study


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "message_dict"):
        return [f"{field}: {'; '.join(msgs)}" for field, msgs in exc.message_dict.items()]
    return list(exc.messages)


@login_required
def question_list(request, study_id: int):
    study = _study_for_researchers(request.user, study_id)
    question_services.questions_seed(study=study)
    return render(
        request,
        "analysis/questions.html",
        {
            "study": study,
            "questions": selectors.question_list(request.user, study=study),
            "may_edit": selectors.may_edit_questions(request.user, study),
            "plan": plan_services.plan_current(study),
        },
    )


def _form_data(post) -> dict:
    data = {
        "title": post.get("title", ""),
        "unit": post.get("unit", "family"),
        "expected_direction": post.get("expected_direction", "decrease"),
        "estimator": post.get("estimator", "auto"),
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


@login_required
def question_edit(request, study_id: int, question_id: int | None = None):
    study = _study_for_researchers(request.user, study_id)
    if not selectors.may_edit_questions(request.user, study):
        raise Http404
    question = None
    if question_id is not None:
        question = selectors.question_list(request.user, study=study).filter(pk=question_id).first()
        if question is None:
            raise Http404
    errors: list[str] = []
    if request.method == "POST":
        try:
            data = _form_data(request.POST)
            if question is None:
                question_services.question_create(
                    study=study, user=request.user, code=request.POST.get("code", ""), data=data
                )
            else:
                question_services.question_update(question=question, user=request.user, data=data)
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("The research question is saved."))
            return redirect("analysis:questions", study_id=study.pk)
    outcomes = request.POST.get("outcomes") if request.method == "POST" else None
    if outcomes is None:
        outcomes = json.dumps(question.outcomes if question else [], indent=1, ensure_ascii=False)
    return render(
        request,
        "analysis/question_edit.html",
        {
            "study": study,
            "question": question,
            "values": request.POST if request.method == "POST" else None,
            "outcomes_json": outcomes,
            "errors": errors,
            "units": StudyQuestion.Unit.choices,
            "estimators": StudyQuestion.Estimator.choices,
            "plan": plan_services.plan_current(study),
        },
    )


@login_required
def plan_detail(request, study_id: int):
    study = _study_for_researchers(request.user, study_id)
    plans = list(selectors.plan_list(request.user, study=study))
    current = plans[0] if plans else None
    return render(
        request,
        "analysis/plan.html",
        {
            "study": study,
            "plans": plans,
            "current": current,
            "content_json": json.dumps(current.content, indent=1, ensure_ascii=False)
            if current
            else "",
            "may_edit": selectors.may_edit_questions(request.user, study),
            "post_intake": plan_services.study_has_post_intake_data(study),
        },
    )


@login_required
@require_POST
def plan_freeze(request, study_id: int):
    study = _study_for_researchers(request.user, study_id)
    if not selectors.may_edit_questions(request.user, study):
        raise Http404
    try:
        plan = plan_services.analysis_plan_freeze(study=study, user=request.user)
    except ValidationError as exc:
        for e in _errors(exc):
            messages.error(request, e)
    else:
        messages.success(request, _("Analysis plan version %(v)s is frozen.") % {"v": plan.version})
    return redirect("analysis:plan", study_id=study.pk)


@login_required
@require_POST
def plan_revise(request, study_id: int):
    study = _study_for_researchers(request.user, study_id)
    if not selectors.may_edit_questions(request.user, study):
        raise Http404
    changes: dict = {}
    for key in ("estimator", "inference", "clustering"):
        if request.POST.get(key):
            changes[key] = request.POST[key]
    try:
        for key in ("draws", "seed"):
            if request.POST.get(key, "").strip():
                changes[key] = int(request.POST[key])
        plan = plan_services.analysis_plan_revise(
            study=study, user=request.user, changes=changes, reason=request.POST.get("reason", "")
        )
    except ValueError:
        messages.error(request, _("Draws and seed must be whole numbers."))
    except ValidationError as exc:
        for e in _errors(exc):
            messages.error(request, e)
    else:
        messages.success(request, _("Analysis plan version %(v)s is frozen.") % {"v": plan.version})
    return redirect("analysis:plan", study_id=study.pk)


@login_required
@require_POST
def schedule_add(request, study_id: int):
    study = _study_for_researchers(request.user, study_id)
    if not selectors.may_edit_questions(request.user, study):
        raise Http404
    try:
        schedule = schedule_services.schedule_create(
            study=study, user=request.user, frequency=request.POST.get("frequency", "")
        )
    except ValidationError as exc:
        for e in _errors(exc):
            messages.error(request, e)
    else:
        messages.success(
            request,
            _("Periodic reports are scheduled; the first is due on %(date)s.")
            % {"date": schedule.next_due.isoformat()},
        )
    return redirect("analysis:study", study_id=study.pk)


@login_required
@require_POST
def schedule_stop(request, study_id: int, schedule_id: int):
    study = _study_for_researchers(request.user, study_id)
    if not selectors.may_edit_questions(request.user, study):
        raise Http404
    schedule = selectors.schedule_list(request.user, study=study).filter(pk=schedule_id).first()
    if schedule is None:
        raise Http404
    schedule_services.schedule_deactivate(schedule=schedule, user=request.user)
    messages.success(request, _("The periodic reports are stopped."))
    return redirect("analysis:study", study_id=study.pk)
