"""Pages of the monitor: the reports a user may see, one report, its downloads (CSV, XLSX) and
printable page, publishing (thin views; who sees what is decided in study/access.py through the
selectors)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analysis.monitor import downloads, selectors, services

DOWNLOADS = {
    "csv": ("text/csv; charset=utf-8", downloads.report_csv),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        downloads.report_xlsx,
    ),
}


@login_required
def report_list(request):
    reports = selectors.monitor_report_list(request.user)
    return render(
        request,
        "monitor/report_list.html",
        {
            "reports": reports,
            "may_manage": selectors.may_manage_monitor(request.user),
        },
    )


@login_required
def report_detail(request, pk: int):
    report = selectors.monitor_report_get(request.user, pk)
    return render(
        request,
        "monitor/report_detail.html",
        {
            "report": report,
            "may_manage": selectors.may_manage_report(request.user, report),
            **selectors.monitor_report_display(report),
        },
    )


@login_required
def report_print(request, pk: int):
    """The report as one printable page (print it, or save it as PDF, from the browser)."""
    report = selectors.monitor_report_get(request.user, pk)
    return render(
        request,
        "monitor/report_print.html",
        {"report": report, **selectors.monitor_report_display(report)},
    )


@login_required
def report_download(request, pk: int, fmt: str):
    report = selectors.monitor_report_get(request.user, pk)
    if fmt not in DOWNLOADS:
        raise Http404
    content_type, make = DOWNLOADS[fmt]
    response = HttpResponse(make(report, translation.get_language()), content_type=content_type)
    name = f"monitor-{slugify(report.municipality)}-{report.year}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def report_publish(request, pk: int):
    report = selectors.monitor_report_get(request.user, pk)
    try:
        if request.POST.get("action") == "withdraw":
            services.monitor_report_withdraw(report=report, user=request.user)
            messages.success(request, _("The monitor report is no longer published."))
        else:
            services.monitor_report_publish(report=report, user=request.user)
            messages.success(request, _("The monitor report is published for the municipality."))
    except PermissionDenied:
        raise Http404 from None
    return redirect("monitor:detail", pk=report.pk)
