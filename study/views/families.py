"""Family pages: the family page, its audit trail, and enrolment."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from study import forms, selectors
from study.access_log import access_event_record
from study.roles import Role, is_data_manager, is_researcher, user_roles
from study.services import families as family_services


@login_required
def family_detail(request, family_id: int):
    family = selectors.family_get(request.user, family_id)
    context = selectors.family_detail(family)
    context["may_see_registry"] = is_researcher(request.user) or is_data_manager(request.user)
    context["may_log_contact"] = Role.WIJKCOACH in user_roles(request.user)
    access_event_record(user=request.user, action="family.view", family=family)
    return render(request, "study/family_detail.html", context)


@login_required
def family_audit(request, family_id: int):
    if not (is_data_manager(request.user) or is_researcher(request.user)):
        raise PermissionDenied
    family = selectors.family_get(request.user, family_id)
    access_event_record(user=request.user, action="family.audit", family=family)
    trail = selectors.family_audit_trail(family)
    return render(request, "study/family_audit.html", {"family": family, "trail": trail})


@login_required
def family_enrol(request: HttpRequest, study_id: int) -> HttpResponse:
    study = selectors.study_get(request.user, study_id)
    if not selectors.study_role(request.user, study) & {Role.RESEARCHER, Role.DATA_MANAGER}:
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    form = forms.EnrolForm(data, initial={"intake_date": timezone.localdate()})
    members = forms.MemberFormSet(data, prefix="members")
    member_errors: list[str] = []
    if request.method == "POST" and form.is_valid() and members.is_valid():
        specs = [
            family_services.MemberSpec(m["role"], m["birth_year"], m.get("relation", ""))
            for m in members.cleaned_data
            if m and not m.get("DELETE")
        ]
        try:
            family = family_services.family_enrol(
                study=study,
                arm_kind=form.cleaned_data["arm"],
                intake_date=form.cleaned_data["intake_date"],
                allocation=form.cleaned_data["allocation"],
                eligibility=form.eligibility(),
                members=specs,
                wijk=form.cleaned_data["wijk"],
                identifier=form.cleaned_data["identifier"] or None,
                user=request.user,
            )
        except ValidationError as exc:
            member_errors = form.add_service_errors(exc)
        else:
            messages.success(
                request, _("Family %(pseudonym)s enrolled.") % {"pseudonym": family.pseudonym}
            )
            return redirect("study:family_detail", family.pk)
    context = {"study": study, "form": form, "members": members, "member_errors": member_errors}
    invalid = request.method == "POST"
    return render(request, "study/family_enrol.html", context, status=400 if invalid else 200)
