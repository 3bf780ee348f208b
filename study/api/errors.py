"""Error pages that answer in JSON under /api/ (an API client cannot read an HTML page), and
Django's own pages everywhere else."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    """404 for a URL no route matches, e.g. /api/families/1.5/."""
    if _is_api(request):
        return JsonResponse({"detail": _("Not found: no such API address.")}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse(
            {"detail": _("Server error: the request could not be completed.")},
            status=500,
        )
    return defaults.server_error(request)
