"""Pages of a study's research questions (researchers edit, data managers read)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analysis.models import StudyQuestion
from analysis.plans import forms, question_services, selectors
from study.access import Right


@login_required
def question_list(request, study_id: int):
    study, rights = selectors.study_rights_for_analysts(request.user, study_id)
    feeds = selectors.question_indicators(study)
    questions = [
        (q, feeds.get(q.code, []))
        for q in selectors.question_list(request.user, study=study, may_run=True)
    ]
    return render(
        request,
        "analysis/questions.html",
        {
            "study": study,
            "questions": questions,
            "may_edit": Right.PLAN_EDIT in rights,
            "plan": selectors.plan_current(study),
        },
    )


@login_required
@require_POST
def questions_seed(request, study_id: int):
    """Start a study without questions (restored, or made in the admin) from the registry."""
    study = selectors.study_for_editors(request.user, study_id)
    if question_services.questions_seed(study=study):
        messages.success(request, _("The study now has the registry's research questions."))
    return redirect("analysis:questions", study_id=study.pk)


def _save(request, study, question) -> list[str]:
    """Create or update the question from the POST; the errors to show (none: saved)."""
    try:
        data = forms.question_data(request.POST)
        if question is None:
            question_services.question_create(
                study=study, user=request.user, code=request.POST.get("code", ""), data=data
            )
        else:
            question_services.question_update(question=question, user=request.user, data=data)
    except ValidationError as exc:
        return forms.error_messages(exc)
    return []


@login_required
def question_edit(request, study_id: int, question_id: int | None = None):
    study, _rights = selectors.study_rights_for_analysts(request.user, study_id, edit=True)
    question = None
    if question_id is not None:
        questions = selectors.question_list(request.user, study=study, may_run=True)
        question = questions.filter(pk=question_id).first()
        if question is None:
            raise Http404
    errors: list[str] = []
    if request.method == "POST":
        errors = _save(request, study, question)
        if not errors:
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
            "models": StudyQuestion.Model.choices,
            "plan": selectors.plan_current(study),
        },
    )
