"""Periodic report schedules of a study: add one, stop one (the researchers)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analysis.plans import forms, schedule_services, selectors


@login_required
@require_POST
def schedule_add(request, study_id: int):
    study = selectors.study_for_editors(request.user, study_id)
    try:
        schedule = schedule_services.schedule_create(
            study=study, user=request.user, frequency=request.POST.get("frequency", "")
        )
    except ValidationError as exc:
        for e in forms.error_messages(exc):
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
    study = selectors.study_for_editors(request.user, study_id)
    schedule = selectors.schedule_list(request.user, study=study).filter(pk=schedule_id).first()
    if schedule is None:
        raise Http404
    schedule_services.schedule_deactivate(schedule=schedule, user=request.user)
    messages.success(request, _("The periodic reports are stopped."))
    return redirect("analysis:study", study_id=study.pk)
