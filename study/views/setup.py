"""Set-up pages of a study: its set-up (changed with a reason), its members and roles, the
coordinator's caseload page, a family's status, and the study's professionals. Creating a study
is in `tracker/setup_views.py` (a new study gets the analysis app's research questions)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from study import access, selectors, setup_forms
from study.access_log import family_read
from study.models import Arm, Family, NotesGrant, Professional, StudyMembership
from study.services import care, members, professionals, studies
from study.services import families as family_services
from study.views.helpers import add_service_errors, require_family_right, require_study_right


def _study(request: HttpRequest, study_id: int, right: access.Right):
    study = selectors.study_get(request.user, study_id)
    require_study_right(request.user, study, right)
    return study


def _initial(study) -> dict:
    arms = {a.kind: a.name for a in Arm.objects.filter(study=study)}
    initial = {f: getattr(study, f) for f in studies.SET_UP_FIELDS if hasattr(study, f)}
    initial["intervention_name"] = arms.get(Arm.Kind.INTERVENTION, "")
    initial["comparison_name"] = arms.get(Arm.Kind.COMPARISON, "")
    return initial


@login_required
def study_edit(request: HttpRequest, study_id: int) -> HttpResponse:
    """Change the set-up (with a reason); once families are enrolled only what recorded data
    does not depend on."""
    study = _study(request, study_id, access.Right.STUDY_SET_UP)
    form = setup_forms.StudyEditForm(request.POST or None, initial=_initial(study))
    if request.method == "POST" and form.is_valid():
        changes = {"name": form.cleaned_data["name"], **form.options()}
        changes["municipality_code"] = form.cleaned_data["municipality_code"]
        changes["start_date"] = form.cleaned_data["start_date"]
        changes["intervention_name"] = form.cleaned_data["intervention_name"]
        changes["comparison_name"] = form.cleaned_data["comparison_name"]
        changes.setdefault("intervention_cap", study.intervention_cap)
        try:
            studies.study_update(
                study=study, changes=changes, reason=form.cleaned_data["reason"], user=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The study's set-up is saved."))
            return redirect("study:study_detail", study.pk)
    context = {
        "study": study,
        "form": form,
        "enrolled": study.families.exists(),
        "warnings": studies.set_up_warnings(study),
    }
    return render(request, "study/study_edit.html", context, status=400 if form.errors else 200)


# --- members ---------------------------------------------------------------------------------


@login_required
def study_members(request: HttpRequest, study_id: int) -> HttpResponse:
    """The study's members and roles; invite a person by e-mail with a role."""
    study = _study(request, study_id, access.Right.MEMBERS_MANAGE)
    form = setup_forms.InviteForm(request.POST or None)
    invitation = None
    if request.method == "POST" and form.is_valid():
        try:
            invitation = members.member_invite(
                study=study,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(user)s is invited; the e-mail holds their links.")
                % {"user": invitation.user.get_username()},
            )
    context = {
        "study": study,
        "form": form,
        "invitation": invitation,
        "memberships": selectors.study_memberships(study),
        "roles": setup_forms.RoleChangeForm().fields["role"].choices,
    }
    return render(request, "study/members.html", context, status=400 if form.errors else 200)


def _membership(study, membership_id: int) -> StudyMembership:
    membership = StudyMembership.objects.filter(study=study, pk=membership_id).first()
    if membership is None:
        raise Http404
    return membership


@login_required
@require_POST
def membership_change(request: HttpRequest, study_id: int, membership_id: int) -> HttpResponse:
    """Change a member's role, or end the membership (with a reason)."""
    study = _study(request, study_id, access.Right.MEMBERS_MANAGE)
    membership = _membership(study, membership_id)
    try:
        if request.POST.get("action") == "end":
            form = setup_forms.EndForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Give a reason for ending this membership."))
            members.member_end(
                membership=membership, ended_by=request.user, reason=form.cleaned_data["reason"]
            )
            messages.success(request, _("The membership has ended."))
        else:
            role_form = setup_forms.RoleChangeForm(request.POST)
            if not role_form.is_valid():
                raise ValidationError(_("Choose one of the roles."))
            members.member_change_role(
                membership=membership, role=role_form.cleaned_data["role"], changed_by=request.user
            )
            messages.success(request, _("The role is changed."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("study:study_members", study.pk)


# --- caseloads -------------------------------------------------------------------------------


@login_required
def caseloads(request: HttpRequest, study_id: int) -> HttpResponse:
    """Assign, hand over and end the caseloads of one family or many (coordinators, data
    managers); each family's caseload history."""
    study = _study(request, study_id, access.Right.CASELOAD_MANAGE)
    # Plain rows (the table's texts made once), not model instances per family and assignment.
    overview = selectors.caseload_table(request.user, study)
    coaches = selectors.study_coaches(study)
    form = setup_forms.CaseloadForm(
        request.POST or None, coaches=coaches, families=[row["family"] for row in overview]
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = {int(pk) for pk in data["families"]}
        families = selectors.caseload_families_chosen(request.user, study, chosen)
        coach = get_user_model().objects.filter(pk=data.get("coach") or 0).first()
        try:
            if data["action"] == "assign":
                n = care.caseloads_assign(
                    families=families, coach=coach, start_date=data["on"], user=request.user
                )
            elif data["action"] == "hand_over":
                n = care.caseloads_hand_over(
                    families=families, coach=coach, on=data["on"], user=request.user
                )
            else:
                n = care.caseloads_end(families=families, on=data["on"], user=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(n)d caseload(s) changed.") % {"n": n})
            return redirect("study:caseloads", study.pk)
    family_read(
        request,
        action="caseload.overview",
        families=[row["family"].pk for row in overview],
        study=study,
    )
    # The families ticked (a refused form shows them again), looked up once, not once per row.
    chosen = {str(pk) for pk in form["families"].value() or []}
    context = {
        "study": study,
        "form": form,
        "overview": overview,
        "coaches": coaches,
        "chosen": chosen,
    }
    return render(request, "study/caseloads.html", context, status=400 if form.errors else 200)


@login_required
def notes_grants(request: HttpRequest, study_id: int) -> HttpResponse:
    """The coordinator lets a family's coach read the notes of its earlier coaches (after a
    hand-over), with a reason; every grant is listed and audited."""
    study = _study(request, study_id, access.Right.NOTES_GRANT)
    rows = selectors.handed_over_families(request.user, study)
    grants = list(
        NotesGrant.objects.filter(family__study=study)
        .select_related("family", "coach", "granted_by")
        .order_by("-granted_at")
    )
    granted = {(g.family_id, g.coach_id) for g in grants}
    choices = [
        (f"{row['family'].pk}:{coach_id}", f"{row['family'].pseudonym} → {coach}")
        for row in rows
        for coach_id, coach in row["current"]
        if (row["family"].pk, coach_id) not in granted
    ]
    form = setup_forms.NotesGrantForm(request.POST or None, choices=choices)
    if request.method == "POST" and form.is_valid():
        family_pk, coach_pk = (int(x) for x in form.cleaned_data["grant"].split(":"))
        # a choice offered above: a handed-over family whose caseload the user manages
        family = selectors.caseload_families_chosen(request.user, study, {family_pk})[0]
        coach = get_user_model().objects.get(pk=coach_pk)
        try:
            care.notes_grant(
                family=family, coach=coach, reason=form.cleaned_data["reason"], user=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(coach)s now reads the earlier notes of %(family)s.")
                % {"coach": coach.get_username(), "family": family.pseudonym},
            )
            return redirect("study:notes_grants", study.pk)
    family_read(
        request,
        action="notes_grant.overview",
        families=sorted({row["family"].pk for row in rows} | {g.family_id for g in grants}),
        study=study,
    )
    context = {"study": study, "form": form, "rows": rows, "grants": grants}
    return render(request, "study/notes_grants.html", context, status=400 if form.errors else 200)


# --- a family's status -----------------------------------------------------------------------


@login_required
def family_status(request: HttpRequest, family_id: int) -> HttpResponse:
    """Record a change of the family's course (drop-out, moved away, ...) with date and
    reason; what a withdrawal does to the family's data is the status service's rule."""
    family = selectors.family_get(request.user, family_id)
    require_family_right(request.user, family, access.Right.RESEARCH_WRITE)
    form = setup_forms.StatusForm(
        request.POST or None,
        initial={"status": family.status, "on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            family_services.family_set_status(
                family=family,
                status=form.cleaned_data["status"],
                on=form.cleaned_data["on"],
                reason=form.cleaned_data["reason"].strip(),
                user=request.user,
            )
        except ValidationError as exc:
            exc = _status_errors(exc)
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The family's status is saved."))
            if not Family.objects.alive().filter(pk=family.pk).exists():
                # Withdrawn under the study's "remove" policy: the family page is gone.
                return redirect("study:study_detail", family.study_id)
            return redirect("study:family_detail", family.pk)
    family_read(request, action="family.status", families=family)
    context = {"family": family, "form": form}
    return render(request, "study/family_status.html", context, status=400 if form.errors else 200)


def _status_errors(exc: ValidationError) -> ValidationError:
    """The service names its fields after the model (status_reason, status_date)."""
    if not hasattr(exc, "error_dict"):
        return exc
    renamed = {"status_reason": "reason", "status_date": "on"}
    return ValidationError({renamed.get(k, k): v for k, v in exc.message_dict.items()})


# --- professionals ---------------------------------------------------------------------------


@login_required
def study_professionals(request: HttpRequest, study_id: int) -> HttpResponse:
    """The study's professionals: register one, deactivate one."""
    study = _study(request, study_id, access.Right.RESEARCH_WRITE)
    form = setup_forms.ProfessionalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            professional = professionals.professional_register(
                study=study, user=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("Professional %(code)s registered.") % {"code": professional.code}
            )
            return redirect("study:study_professionals", study.pk)
    context = {
        "study": study,
        "form": form,
        "professionals": selectors.study_professionals(study),
        "deactivate": setup_forms.DeactivateForm(initial={"on": timezone.localdate()}),
    }
    return render(request, "study/professionals.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def professional_deactivate(request: HttpRequest, study_id: int, professional_id: int):
    study = _study(request, study_id, access.Right.RESEARCH_WRITE)
    professional = Professional.objects.alive().filter(study=study, pk=professional_id).first()
    if professional is None:
        raise Http404
    form = setup_forms.DeactivateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the date and a reason."))
    else:
        try:
            professionals.professional_deactivate(
                professional=professional, user=request.user, **form.cleaned_data
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("%(code)s is deactivated.") % {"code": professional.code})
    return redirect("study:study_professionals", study.pk)
