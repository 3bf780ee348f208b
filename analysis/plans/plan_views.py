"""Pages of a study's pre-registered analysis plan: read it, freeze it, revise it."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analysis.plans import forms, plan_services, selectors
from study.access import Right


@login_required
def plan_detail(request, study_id: int):
    study, rights = selectors.study_rights_for_analysts(request.user, study_id)
    plans = list(selectors.plan_list(request.user, study=study, may_run=True))
    current = plans[0] if plans else None
    last = selectors.freeze_last(study)
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
            "may_edit": Right.PLAN_EDIT in rights,
            "post_intake": plan_services.study_has_post_intake_data(study),
            "inference_choices": forms.inference_choices(),
            "design_choices": forms.design_choices(),
            "defaults": plan_services.PLAN_DEFAULTS,
            "sd_method_choices": forms.sd_method_choices(),
            "planned_mde": (current.content.get("planned_mde") or {}) if current else {},
            "freezing": selectors.freeze_in_progress(study),
            "freeze_failed": last if last and last.status == last.Status.FAILED else None,
        },
    )


def _requested(request) -> None:
    messages.success(
        request,
        _(
            "The analysis plan is being frozen: the minimum detectable effects are computed "
            "first (progress below); the version is frozen when they are done."
        ),
    )


@login_required
@require_POST
def plan_freeze(request, study_id: int):
    study = selectors.study_for_editors(request.user, study_id)
    try:
        plan_services.analysis_plan_freeze_request(
            study=study, user=request.user, params=forms.freeze_settings(request.POST)
        )
    except ValueError:
        messages.error(request, _("Draws, seed, power and correlation must be numbers."))
    except plan_services.PlanFreezeActive as exc:
        messages.warning(request, exc.messages[0])
    except ValidationError as exc:
        for e in forms.error_messages(exc):
            messages.error(request, e)
    else:
        _requested(request)
    return redirect("analysis:plan", study_id=study.pk)


@login_required
@require_POST
def plan_revise(request, study_id: int):
    study = selectors.study_for_editors(request.user, study_id)
    try:
        plan_services.analysis_plan_revise_request(
            study=study,
            user=request.user,
            changes=forms.plan_changes(request.POST),
            reason=request.POST.get("reason", ""),
        )
    except ValueError:
        messages.error(request, _("Draws and seed must be whole numbers."))
    except plan_services.PlanFreezeActive as exc:
        messages.warning(request, exc.messages[0])
    except ValidationError as exc:
        for e in forms.error_messages(exc):
            messages.error(request, e)
    else:
        _requested(request)
    return redirect("analysis:plan", study_id=study.pk)


@login_required
def plan_freeze_status(request, job_id: int):
    """The progress of a freeze (the plan page's progress bar polls it)."""
    job = selectors.freeze_job_get(request.user, job_id)
    return JsonResponse(
        {
            "id": job.pk,
            "status": job.status,
            "progress": job.progress,
            "note": job.progress_note,
            "error": job.error,
            "plan_version": job.plan.version if job.plan_id else None,
            "finished": job.is_finished,
        }
    )
