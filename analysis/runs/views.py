"""Pages of the analysis app: start a run, watch its progress, read, publish (after a preview
and a confirmation) and withdraw reports."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analysis.models import Report
from analysis.plans import selectors as plan_selectors
from analysis.runs import report_services, selectors, services
from analysis.runs.job import TYPESET_JOB
from study import access
from study import selectors as study_selectors
from tracker import jobs


@login_required
def study_analyses(request, study_id: int):
    study = study_selectors.study_get(request.user, study_id)
    rights = access.study_rights(request.user, study)  # one query for every right below
    may_run = access.Right.ANALYSE in rights
    return render(
        request,
        "analysis/study_analyses.html",
        {
            "study": study,
            "may_run": may_run,
            "in_progress": selectors.run_in_progress(study) if may_run else None,
            "may_publish": access.Right.REPORT_PUBLISH in rights,
            "runs": selectors.run_list(request.user, study=study, may_run=may_run)[:20],
            "reports": selectors.study_report_list(study, rights=rights),
            "schedules": plan_selectors.schedule_list(request.user, study=study, may_run=may_run),
            "may_schedule": access.Right.PLAN_EDIT in rights,
        },
    )


@login_required
@require_POST
def run_start(request, study_id: int):
    study = study_selectors.study_get(request.user, study_id)
    if not selectors.may_run_analyses(request.user, study):
        raise Http404
    try:
        services.analysis_run_request(study=study, user=request.user)
    except services.RunAlreadyActive as exc:
        messages.warning(request, exc.messages[0])
        return redirect("analysis:study", study_id=study.pk)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
        return redirect("analysis:study", study_id=study.pk)
    messages.success(
        request, _("The analysis was started; its progress is shown below under Runs.")
    )
    return redirect("analysis:study", study_id=study.pk)


@login_required
def run_status(request, run_id: int):
    run = selectors.run_get(request.user, run_id)
    return JsonResponse(
        {
            "id": run.pk,
            "status": run.status,
            "progress": run.progress,
            "note": run.progress_note,
            "error": run.error,
        }
    )


def _may_publish(user, report) -> bool:
    return access.has_right(user, report.study, access.Right.REPORT_PUBLISH)


@login_required
def report_detail(request, report_id: int):
    report = selectors.report_get(request.user, report_id)
    may_publish = _may_publish(request.user, report)
    if report.withdrawn:
        # The gemeente sees that it was withdrawn, when and why; researchers also its content.
        return render(
            request,
            "analysis/publication/withdrawn.html",
            {
                "report": report,
                "may_publish": may_publish,
                "content": report_services.published_rendering(report) if may_publish else "",
            },
        )
    typesetting = selectors.typesetting(report) if report.published else None
    return render(
        request,
        "analysis/report.html",
        {
            "report": report,
            "may_publish": may_publish,
            "typesetting": typesetting,
            "may_typeset_again": may_publish
            and report.published
            and not report.withdrawn
            and (typesetting is None or jobs.job_stalled(TYPESET_JOB, typesetting))
            and not Report.objects.filter(pk=report.pk, pdf__isnull=False).exists(),
        },
    )


@login_required
@require_POST
def report_typeset(request, report_id: int):
    """Typeset a published report's PDF again (after a failure, or when it stalled)."""
    report = selectors.report_get(request.user, report_id)
    if not _may_publish(request.user, report):
        raise Http404
    try:
        report_services.report_typeset_again(report=report, user=request.user)
    except ValidationError as exc:
        messages.warning(request, exc.messages[0])
    else:
        messages.success(request, _("The PDF is being typeset again."))
    return redirect("analysis:report", report_id=report.pk)


@login_required
def report_pdf(request, report_id: int):
    report = selectors.report_get(request.user, report_id)
    if not report.pdf or (report.withdrawn and not _may_publish(request.user, report)):
        raise Http404
    response = HttpResponse(bytes(report.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="effectrapportage-v{report.version}.pdf"'
    return response


@login_required
def report_pdf_status(request, report_id: int):
    """The progress of a published report's PDF (the report page's progress bar polls it)."""
    report = selectors.report_get(request.user, report_id)
    if report.withdrawn and not _may_publish(request.user, report):
        raise Http404
    job = selectors.typeset_last(report)
    finished = job is None or not job.is_active
    return JsonResponse(
        {
            "status": job.status if job else "",
            "progress": job.progress if job else 100,
            "note": job.progress_note if job else "",
            "pdf": Report.objects.filter(pk=report.pk, pdf__isnull=False).exists(),
            "finished": finished,
        }
    )


@login_required
def report_publish(request, report_id: int):
    """GET: a preview of exactly what the gemeente will see, with a confirmation step; POST with
    the confirmation publishes (a POST without it, as from an older form, shows the preview)."""
    report = selectors.report_get(request.user, report_id)
    if not _may_publish(request.user, report):
        raise Http404
    if report.published:
        return redirect("analysis:report", report_id=report.pk)
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm") == "yes":
            report_services.report_publish(report=report, user=request.user)
            messages.success(
                request,
                _(
                    "The report is published; the municipality can read it now. Its PDF is "
                    "being typeset and appears on the report page when it is ready."
                ),
            )
            return redirect("analysis:report", report_id=report.pk)
        if "confirm" in request.POST or "preview" in request.POST:
            error = _("Tick the box to confirm that the municipality may read this report.")
    return render(
        request,
        "analysis/publication/preview.html",
        {
            "report": report,
            "content": report_services.published_rendering(report),
            "today": timezone.localdate(),
            "error": error,
        },
    )


@login_required
def report_withdraw(request, report_id: int):
    """GET: the withdrawal form (a reason is required); POST: withdraw the published report."""
    report = selectors.report_get(request.user, report_id)
    if not _may_publish(request.user, report) or not report.published:
        raise Http404
    if report.withdrawn:
        return redirect("analysis:report", report_id=report.pk)
    errors: list[str] = []
    reason = ""
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        try:
            report_services.report_withdraw(report=report, user=request.user, reason=reason)
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(
                request,
                _("The report is withdrawn; the municipality now sees it as withdrawn."),
            )
            return redirect("analysis:report", report_id=report.pk)
    return render(
        request,
        "analysis/publication/withdraw.html",
        {"report": report, "errors": errors, "reason": reason},
        status=400 if errors else 200,
    )
