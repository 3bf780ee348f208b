"""The access log of a study (NEN 7513) for its data managers: who read which families, when,
from where, with which credential; filters and a CSV of the filtered events."""

from __future__ import annotations

import csv

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from study import access, selectors
from study.access_log import access_events_for
from study.exporting import csv_safe
from study.views.helpers import require_study_right

PAGE_ROWS = 200
#: The columns of the page's table (access_log.html, page_rows.access_rows).
SHOWN = (
    "at",
    "actor__username",
    "role",
    "action",
    "row_count",
    "pseudonym",
    "scope",
    "detail",
    "client_ip",
    "credential",
)


class AccessLogFilter(forms.Form):
    actor = forms.CharField(label=gettext_lazy("User name"), required=False, max_length=150)
    action = forms.CharField(label=gettext_lazy("Action (start)"), required=False, max_length=40)
    since = forms.DateField(label=gettext_lazy("From"), required=False)
    until = forms.DateField(label=gettext_lazy("Until"), required=False)
    family = forms.IntegerField(label=gettext_lazy("Family id"), required=False, min_value=1)


class _Echo:
    def write(self, value):
        return value


def _csv_rows(events):
    writer = csv.writer(_Echo())
    yield writer.writerow(
        [
            _("when"),
            _("user"),
            _("role"),
            _("action"),
            _("families"),
            _("family ids"),
            _("scope"),
            _("client address"),
            _("credential"),
            _("detail"),
        ]
    )
    for e in events:
        yield writer.writerow(
            csv_safe(
                [
                    e.at.isoformat(),
                    e.actor.username if e.actor else "",
                    e.role,
                    e.action,
                    e.row_count,
                    " ".join(str(i) for i in e.family_ids or []),
                    e.scope,
                    e.client_ip or "",
                    e.credential,
                    e.detail,
                ]
            )
        )


@login_required
def access_log(request: HttpRequest, study_id: int) -> HttpResponse:
    study = selectors.study_get(request.user, study_id)
    require_study_right(request.user, study, access.Right.ACCESS_LOG_READ)
    form = AccessLogFilter(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = access_events_for(
        study,
        actor=filters.get("actor") or "",
        action=filters.get("action") or "",
        since=filters.get("since"),
        until=filters.get("until"),
        family=filters.get("family") or 0,
    )
    if request.GET.get("format") == "csv":
        response = StreamingHttpResponse(_csv_rows(events), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="access-log-study{study.pk}.csv"'
        return response
    # The page reads only the columns its table shows (not the family ids or the mac).
    shown = (
        events[:PAGE_ROWS] if isinstance(events, list) else list(events.only(*SHOWN)[:PAGE_ROWS])
    )
    query = request.GET.copy()
    query["format"] = "csv"
    return render(
        request,
        "study/access_log.html",
        {"study": study, "form": form, "events": shown, "csv_query": query.urlencode()},
    )
