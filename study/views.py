"""Pages of the study app: thin views that call selectors and render."""

from __future__ import annotations

import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render

from study import exporting, selectors
from study.access_log import access_event_record
from study.roles import Role, is_data_manager, is_researcher, user_roles


@login_required
def home(request):
    roles = user_roles(request.user)
    if roles == {Role.WIJKCOACH}:
        return redirect("study:caseload")
    studies = selectors.study_list(request.user)
    return render(request, "study/home.html", {"studies": studies, "roles": roles})


@login_required
def study_detail(request, study_id: int):
    study = selectors.study_get(request.user, study_id)
    roles = selectors.study_role(request.user, study)
    if not roles & {Role.RESEARCHER, Role.DATA_MANAGER}:
        # The gemeente reads published reports only; a wijkcoach works from the caseload.
        if Role.WIJKCOACH in roles:
            return redirect("study:caseload")
        return render(request, "study/study_public.html", {"study": study})
    families = selectors.family_list(request.user, study=study)
    dashboard = selectors.study_dashboard(study, families)
    return render(
        request,
        "study/study_detail.html",
        {
            "study": study,
            "dashboard": dashboard,
            "families": families.order_by("arm__kind", "pseudonym"),
        },
    )


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
def caseload(request):
    families = selectors.coach_caseload(request.user).order_by("pseudonym")
    return render(request, "study/caseload.html", {"families": families})


@login_required
def study_export(request, study_id: int, fmt: str):
    """The analysis-ready panel of the families the user may see (researchers, data managers)."""
    study = selectors.study_get(request.user, study_id)
    if not selectors.study_role(request.user, study) & {Role.RESEARCHER, Role.DATA_MANAGER}:
        raise Http404
    if fmt not in exporting.FORMATS:
        raise Http404
    families = selectors.family_list(request.user, study=study)
    rows = exporting.export_rows(families)
    access_event_record(user=request.user, action=f"export.{fmt}", study=study, row_count=rows)
    filename = f"panel-study{study.pk}.{fmt}"
    if fmt == "csv":
        # Streamed family by family: the first bytes leave before the whole panel is built.
        response = StreamingHttpResponse(
            exporting.export_csv_stream(study, families), content_type=exporting.FORMATS[fmt]
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    # Binary formats are written whole (their headers need it) to a temporary file on disk,
    # then streamed from there, so a large study does not sit in memory.
    spool = tempfile.TemporaryFile()
    exporting.export_write(study, families, fmt, spool)
    spool.seek(0)
    return FileResponse(
        spool, as_attachment=True, filename=filename, content_type=exporting.FORMATS[fmt]
    )


@login_required
def study_codebook(request, study_id: int):
    study = selectors.study_get(request.user, study_id)
    if not selectors.study_role(request.user, study) & {Role.RESEARCHER, Role.DATA_MANAGER}:
        raise Http404
    response = HttpResponse(
        exporting.codebook_frame(study).to_csv(index=False), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="codebook-study{study.pk}.csv"'
    return response
