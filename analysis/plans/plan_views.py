"""Pages of a study's pre-registered analysis plan: read it, freeze it, revise it."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analysis.effects import plan as plan_core
from analysis.plans import forms, plan_services, selectors


@login_required
def plan_detail(request, study_id: int):
    study = selectors.study_for_analysts(request.user, study_id)
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
            "inference_choices": forms.inference_choices(),
            "design_choices": forms.design_choices(),
            "defaults": plan_services.PLAN_DEFAULTS,
            "sd_methods": plan_core.HONEST_SD_METHODS,
            "planned_mde": (current.content.get("planned_mde") or {}) if current else {},
        },
    )


@login_required
@require_POST
def plan_freeze(request, study_id: int):
    study = selectors.study_for_editors(request.user, study_id)
    try:
        plan = plan_services.analysis_plan_freeze(
            study=study, user=request.user, params=forms.freeze_settings(request.POST)
        )
    except ValueError:
        messages.error(request, _("Draws, seed, power and correlation must be numbers."))
    except ValidationError as exc:
        for e in forms.error_messages(exc):
            messages.error(request, e)
    else:
        messages.success(request, _("Analysis plan version %(v)s is frozen.") % {"v": plan.version})
    return redirect("analysis:plan", study_id=study.pk)


@login_required
@require_POST
def plan_revise(request, study_id: int):
    study = selectors.study_for_editors(request.user, study_id)
    try:
        plan = plan_services.analysis_plan_revise(
            study=study,
            user=request.user,
            changes=forms.plan_changes(request.POST),
            reason=request.POST.get("reason", ""),
        )
    except ValueError:
        messages.error(request, _("Draws and seed must be whole numbers."))
    except ValidationError as exc:
        for e in forms.error_messages(exc):
            messages.error(request, e)
    else:
        messages.success(request, _("Analysis plan version %(v)s is frozen.") % {"v": plan.version})
    return redirect("analysis:plan", study_id=study.pk)
