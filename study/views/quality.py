"""Data-quality queries: the study's list (by status) and one query's thread, where researchers
answer and a data manager closes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from study import access, forms, selectors
from study.access_log import family_read
from study.models import DataQuery
from study.services import quality
from study.views.helpers import add_service_errors


@login_required
def query_list(request: HttpRequest, study_id: int) -> HttpResponse:
    study = selectors.study_get(request.user, study_id)
    if not access.may_read_research(request.user, study):
        raise Http404
    status = request.GET.get("status", "open")
    families = selectors.research_family_list(request.user).filter(study=study)
    family_id = request.GET.get("family", "")
    if family_id.isdigit():  # the record grid's link: one family's queries
        families = families.filter(pk=int(family_id))
    queries = DataQuery.objects.filter(wave__family__in=families).order_by("-opened_at")
    if status in DataQuery.Status.values:
        queries = queries.filter(status=status)
    shown = selectors.query_list_rows(queries[:500])
    family_read(
        request,
        action="query.list",
        families=sorted({q.family_id for q in shown}),
        study=study,
        row_count=len(shown),
        scope=f"status={status}",
    )
    context = {
        "study": study,
        "queries": shown,
        "status": status,
        "statuses": DataQuery.Status.choices,
        "family_id": family_id if family_id.isdigit() else "",
    }
    return render(request, "study/query_list.html", context)


def _query_get(user, pk: int) -> DataQuery:
    query = (
        DataQuery.objects.filter(pk=pk, wave__family__in=selectors.research_family_list(user))
        .select_related("wave__family__study", "indicator", "rule")
        .first()
    )
    if query is None:
        raise Http404
    return query


@login_required
def query_detail(request: HttpRequest, query_id: int) -> HttpResponse:
    query = _query_get(request.user, query_id)
    family = query.wave.family
    family_read(request, action="query.view", families=family, detail=str(query.pk))
    answer = forms.QueryAnswerForm(request.POST if request.POST.get("action") == "answer" else None)
    close = forms.ReasonForm(request.POST if request.POST.get("action") == "close" else None)
    reopen = forms.ReopenForm(request.POST if request.POST.get("action") == "reopen" else None)
    if request.method == "POST":
        try:
            if answer.is_bound and answer.is_valid():
                quality.query_answer(
                    query=query, text=answer.cleaned_data["text"], user=request.user
                )
                messages.success(request, _("Answer added."))
                return redirect("study:query_detail", query.pk)
            if close.is_bound and close.is_valid():
                quality.query_close(
                    query=query, reason=close.cleaned_data["reason"], user=request.user
                )
                messages.success(request, _("Query closed."))
                return redirect("study:query_detail", query.pk)
            if reopen.is_bound and reopen.is_valid():
                quality.query_reopen(
                    query=query, reason=reopen.cleaned_data["reason"], user=request.user
                )
                messages.success(request, _("Query reopened."))
                return redirect("study:query_detail", query.pk)
        except ValidationError as exc:
            bound = next((f for f in (answer, close, reopen) if f.is_bound), answer)
            add_service_errors(bound, exc)
    context = {
        "query": query,
        "family": family,
        "thread": query.thread.select_related("author"),
        "answer_form": answer,
        "close_form": close,
        "reopen_form": reopen,
        "may_answer": access.may_write_research(request.user, family),
        "may_close": access.family_has_right(request.user, family, access.Right.DATA_CORRECT),
        "label": query.indicator.label(request.LANGUAGE_CODE or "nl"),
    }
    status = 400 if any(f.is_bound and f.errors for f in (answer, close, reopen)) else 200
    return render(request, "study/query_detail.html", context, status=status)
