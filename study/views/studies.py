"""Study pages: home, the study dashboard, the panel export and the codebook."""

from __future__ import annotations

import tempfile

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from study import access, exporting, selectors
from study.access_log import family_read
from study.models import Arm
from study.roles import Role
from study.services.studies import may_create_study
from study.templatetags import dashboard_rows
from study.views.helpers import url_maker


@login_required
def home(request):
    roles = access.roles_held(request.user)
    if roles == {Role.WIJKCOACH}:
        return redirect("study:caseload")
    studies = selectors.study_list(request.user)
    context = {
        "studies": studies,
        "roles": roles,
        "may_create_study": may_create_study(request.user),
    }
    return render(request, "study/home.html", context)


@login_required
def study_detail(request, study_id: int):
    study = selectors.study_get(request.user, study_id)
    # Study-wide rights in one query; research read is one of them (`access.may_read_research`).
    rights = access.study_rights(request.user, study)
    if access.Right.RESEARCH_READ not in rights:
        # The gemeente reads published reports only; a wijkcoach works from the caseload.
        if Role.WIJKCOACH in access.study_roles(request.user, study):
            return redirect("study:caseload")
        return render(request, "study/study_public.html", {"study": study, "rights": rights})
    families = selectors.research_family_list(request.user).filter(study=study)
    dashboard = selectors.study_dashboard(study, families)
    # The family list is paged like the record status dashboard (every family's row read once,
    # for the counts above it too), and the read log holds the families shown.
    page = Paginator(dashboard["families"], FAMILIES_PER_PAGE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    detail = url_maker("study:family_detail")  # reversed once, not per row
    family_read(
        request,
        action="study.families",
        families=[f.pk for f in shown],
        study=study,
        row_count=len(shown),
    )
    return render(
        request,
        "study/study_detail.html",
        {
            "study": study,
            "rights": rights,
            "overrides": dashboard["overrides"],
            "dashboard": dashboard,
            "families": shown,
            "families_html": dashboard_rows.family_rows_html(shown, detail),
            "upcoming_html": dashboard_rows.upcoming_rows_html(dashboard["upcoming"], detail),
            "page": page,
        },
    )


#: Families per page of the study dashboard's family list.
FAMILIES_PER_PAGE = 50


def _research_study(user, study_id: int):
    """A study whose panel the user may export (researchers, data managers), or 404."""
    study = selectors.study_get(user, study_id)
    if not access.may_read_research(user, study):
        raise Http404
    return study


@login_required
def study_export(request, study_id: int, fmt: str):
    """The analysis-ready panel of the families the user may see (researchers, data managers)."""
    study = _research_study(request.user, study_id)
    if fmt not in exporting.FORMATS:
        raise Http404
    families = selectors.research_family_list(request.user).filter(study=study)
    # read once (one query): for the log and the CSV pieces
    ids, rows = exporting.export_family_ids_and_rows(families)
    family_read(
        request, action=f"export.{fmt}", families=ids, study=study, row_count=rows, scope=fmt
    )
    suffix = "csv" if fmt in exporting.CSV_DIALECTS else fmt
    filename = f"panel-study{study.pk}{'-nl' if fmt == 'csv-nl' else ''}.{suffix}"
    if fmt in exporting.CSV_DIALECTS:
        # Streamed family by family: the first bytes leave before the whole panel is built.
        response = StreamingHttpResponse(
            exporting.export_csv_stream(study, families, fmt=fmt, family_ids=ids),
            content_type=f"{exporting.FORMATS[fmt]}; charset=utf-8",
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
    study = _research_study(request.user, study_id)
    dialect = exporting.csv_dialect(request.GET.get("csv"))
    body = exporting.frame_to_csv_bytes(exporting.codebook_frame(study), dialect)
    response = HttpResponse(
        (exporting.BOM + body) if dialect.bom else body, content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="codebook-study{study.pk}.csv"'
    return response


@login_required
def study_audit(request, study_id: int):
    """The study-wide audit trail: every change to the data of the study's families the user
    may read (researchers, data managers)."""
    from study.views.families import audit_page

    study = _research_study(request.user, study_id)
    families = selectors.research_family_list(request.user).filter(study=study)
    return audit_page(request, families=families, study=study)


#: Families per page of the record status dashboard (REDCap's and Castor's pages of records).
RECORDS_PER_PAGE = (25, 50, 100)


@login_required
def record_status(request, study_id: int):
    """The record status dashboard: the study's families x waves, status in colour and words;
    filtered, with the counts per wave over every filtered family, and paged (50 families a
    page unless `per_page` says 25 or 100)."""
    study = selectors.study_get(request.user, study_id)
    families = selectors.family_list(request.user).filter(study=study)
    spec = selectors.GridFilter(
        arm=request.GET.get("arm", ""),
        wijk=request.GET.get("wijk", ""),
        coach=request.GET.get("coach", ""),
        status=request.GET.get("status", ""),
    )
    grid = selectors.record_status_grid(families, spec)
    per_page = request.GET.get("per_page", "")
    per_page = int(per_page) if per_page in {str(n) for n in RECORDS_PER_PAGE} else 50
    page = Paginator(grid["rows"], per_page).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    family_read(
        request,
        action="study.records",
        families=[row["family"].pk for row in shown],
        study=study,
        row_count=len(shown),
    )
    # The rows' markup made here in one pass (escaped), not by the template per row and cell.
    queries_url = reverse("study:query_list", args=[study.pk])
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "study": study,
        "grid": grid,
        "spec": spec,
        "arms": Arm.Kind.choices,
        "page": page,
        "rows": shown,
        "rows_html": dashboard_rows.record_rows_html(
            shown, queries_url, url_maker("study:family_detail")
        ),
        "counts_html": dashboard_rows.record_counts_html(grid["counts"]),
        "per_page": per_page,
        "per_page_choices": RECORDS_PER_PAGE,
        "query": query.urlencode(),
        "queries_url": queries_url,
    }
    return render(request, "study/record_status.html", context)
