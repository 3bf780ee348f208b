"""Family pages: the family page, its audit trail, and enrolment."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from study import access, audit_trail, forms, selectors
from study.access_log import family_read
from study.models import Study
from study.services import allocation as allocation_services
from study.services import families as family_services
from study.views.helpers import require_family_right, require_study_right, url_maker


@login_required
def family_detail(request, family_id: int):
    family, rights = selectors.family_get_with_rights(request.user, family_id)
    registry = access.Right.RESEARCH_READ in rights
    context = selectors.family_detail(family, registry=registry)
    context["may_see_registry"] = registry
    context["may_log_contact"] = access.Right.CONTACT_LOG in rights
    context["may_change_status"] = access.Right.RESEARCH_WRITE in rights
    context["may_correct_all"] = access.Right.DATA_CORRECT in rights
    correct = url_maker("study:contact_correct")  # reversed once, not per contact
    for contact in context["contacts"]:
        contact.href = correct(contact.pk)
    instruments, entry = url_maker("instruments:wave_instruments"), url_maker("study:wave_entry")
    for wave in context["waves"]:
        wave.instruments_href, wave.entry_href = instruments(wave.pk), entry(wave.pk)
    family_read(request, action="family.view", families=family)
    return render(request, "study/family_detail.html", context)


@login_required
def family_audit(request, family_id: int):
    family = selectors.family_get(request.user, family_id)
    require_family_right(request.user, family, access.Right.RESEARCH_READ)
    families = selectors.research_family_list(request.user).filter(pk=family.pk)
    return audit_page(request, families=families, family=family, study=family.study)


def audit_page(request, *, families, study, family=None) -> HttpResponse:
    """The readable audit trail of some families (one family, or a study): filters, pages, CSV;
    every look and every export is access-logged."""
    form = forms.AuditFilterForm(request.GET or None)
    spec = form.spec()
    detail = ", ".join(f"{k}={v}" for k, v in vars(spec).items() if v not in (None, ""))
    # The families' ids once: for the read log and for every history table's query.
    ids = sorted(families.values_list("pk", flat=True))
    if request.GET.get("format") == "csv":
        family_read(
            request, action="audit.export", families=family or ids, study=study, detail=detail
        )
        rows = audit_trail.trail(ids, spec)
        response = StreamingHttpResponse(audit_trail.trail_csv(rows), content_type="text/csv")
        name = family.pseudonym if family else f"study{study.pk}"
        response["Content-Disposition"] = f'attachment; filename="audit-{name}.csv"'
        return response
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 1
    number = max(number, 1)
    per_page = audit_trail.PER_PAGE
    # Only the rows up to this page (and one more, to know there is a next page) are read.
    rows = audit_trail.trail(ids, spec, limit=number * per_page + 1)
    page = audit_trail.trail_page(rows, page=number, per_page=per_page)
    family_read(
        request,
        action="audit.view",
        families=family or ids,
        study=study,
        row_count=len(page.rows),
        detail=detail,
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "family": family,
        "study": study,
        "form": form,
        "page": page,
        "trail": page.rows,
        "query": query.urlencode(),
    }
    return render(request, "study/family_audit.html", context)


@login_required
def family_enrol(request: HttpRequest, study_id: int) -> HttpResponse:
    study = selectors.study_get(request.user, study_id)
    require_study_right(request.user, study, access.Right.RESEARCH_WRITE)
    data = request.POST if request.method == "POST" else None
    randomised = study.allocation_method == Study.AllocationMethod.RANDOMISED
    form = forms.EnrolForm(
        data, initial={"intake_date": timezone.localdate()}, randomised=randomised
    )
    members = forms.MemberFormSet(data, prefix="members")
    member_errors: list[str] = []
    if request.method == "POST" and form.is_valid() and members.is_valid():
        specs = [
            family_services.MemberSpec(m["role"], m["birth_year"], m.get("relation", ""))
            for m in members.cleaned_data
            if m and not m.get("DELETE")
        ]
        common = {
            "study": study,
            "intake_date": form.cleaned_data["intake_date"],
            "eligibility": form.eligibility(),
            "members": specs,
            "wijk": form.cleaned_data["wijk"],
            "identifier": form.cleaned_data["identifier"] or None,
            "eligibility_override_reason": form.cleaned_data["eligibility_override_reason"],
            "user": request.user,
        }
        try:
            if randomised:
                family = allocation_services.family_enrol_randomised(**common)
            else:
                family = family_services.family_enrol(
                    arm_kind=form.cleaned_data["arm"],
                    allocation=form.cleaned_data["allocation"],
                    match_set=form.cleaned_data["match_set"],
                    **common,
                )
        except ValidationError as exc:
            member_errors = form.add_service_errors(exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            text = _("Family %(pseudonym)s enrolled.") % {"pseudonym": family.pseudonym}
            if randomised:
                text += " " + _("Allocated by randomisation to: %(arm)s.") % {"arm": family.arm}
            messages.success(request, text)
            return redirect("study:family_detail", family.pk)
    context = {
        "study": study,
        "form": form,
        "members": members,
        "member_errors": member_errors,
        "randomised": randomised,
    }
    invalid = request.method == "POST"
    return render(request, "study/family_enrol.html", context, status=400 if invalid else 200)
