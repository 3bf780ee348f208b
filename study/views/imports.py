"""Pages of the registry import: upload, watch the dry run, read every problem, import."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from study import selectors
from study.access_log import family_read
from study.exporting import BOM, csv_dialect, csv_safe
from study.forms import ImportUploadForm
from study.imports import workflow


@login_required
def import_list(request, study_id: int):
    study = selectors.import_study_get(request.user, study_id)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = workflow.registry_import_upload_file(
                study=study,
                user=request.user,
                upload=form.cleaned_data["file"],
                layout=form.cleaned_data["layout"],
            )
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            return redirect("study:import_detail", batch_id=batch.pk)
    batches = selectors.import_batch_list(request.user).filter(study=study)[:30]
    return render(
        request, "study/import_list.html", {"study": study, "form": form, "batches": batches}
    )


@login_required
def import_detail(request, batch_id: int):
    # The selector holds the rule: batches of studies where the user may import.
    batch = selectors.import_batch_get(request.user, batch_id)
    family_read(
        request,
        action="import.detail",
        study=batch.study,
        row_count=batch.error_count,
        scope=f"batch={batch.pk}",
    )
    preview = workflow.preview_shown(batch, request.LANGUAGE_CODE or "nl")
    return render(
        request,
        "study/import_detail.html",
        {"batch": batch, "study": batch.study, "preview": preview},
    )


@login_required
def import_status(request, batch_id: int):
    batch = selectors.import_batch_get(request.user, batch_id)
    return JsonResponse(
        {
            "id": batch.pk,
            "status": batch.status,
            "finished": batch.is_finished,
            "progress": batch.progress,
            "note": batch.progress_note,
        }
    )


@login_required
@require_POST
def import_apply(request, batch_id: int):
    batch = selectors.import_batch_get(request.user, batch_id)
    try:
        workflow.registry_import_apply_request(batch=batch, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("study:import_detail", batch_id=batch.pk)


@login_required
def import_errors_csv(request, batch_id: int):
    batch = selectors.import_batch_get(request.user, batch_id)
    family_read(
        request,
        action="import.problems",
        study=batch.study,
        row_count=len(batch.errors),
        scope=f"batch={batch.pk}",
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-problems.csv"'
    writer = csv.writer(response)
    writer.writerow([_("row"), _("column"), _("cell"), _("problem")])
    for error in batch.errors:
        writer.writerow(
            csv_safe(
                [
                    error.get("row", ""),
                    error.get("column", ""),
                    error.get("cell", ""),
                    error["message"],
                ]
            )
        )
    return response


@login_required
def import_template(request, study_id: int):
    """A wide CSV to fill in: one row per family (pseudonym) and wave year, one column per
    indicator code of the study's catalogue (what REDCap users know as the import template)."""
    study = selectors.import_study_get(request.user, study_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-template-study{study.pk}.csv"'
    families = selectors.research_family_list(request.user, write=True).filter(study=study)
    family_read(request, action="import.template", families=families, study=study)
    # ?csv=nl: for Dutch Excel (';' and a byte-order mark); the import reads both.
    dialect = csv_dialect(request.GET.get("csv"))
    if dialect.bom:
        response.write(BOM)
    workflow.template_write(study, families, response, delimiter=dialect.sep)
    return response
