"""The wijkcoach's pages: the caseload, logging a contact, the care workers of a family."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from study import access, forms, selectors
from study.access_log import family_read
from study.idempotency import run_once
from study.services import care as care_services
from study.services.contacts import contact_log
from study.views.helpers import (
    add_service_errors,
    care_lists,
    cleaned_or_error,
    require_held,
    url_maker,
)


@login_required
def caseload(request):
    """The user's caseload as cards, 50 families a page (a data manager's caseload is every
    family of every study; the page must not grow with them)."""
    # The page's ids first (a plain count and slice), then the cards of those families only.
    # The access selector is asked once; the cards keep its filter (same rule, same day).
    families = access.caseload_families(request.user)
    ids = selectors.coach_caseload_ids(request.user, families=families)
    page = _caseload_page(ids, request.GET.get("page"))
    shown = selectors.coach_caseload_cards(
        request.user, ids=list(page.object_list), families=families
    )
    # The study of the cards when they share one (what the read log would look up itself).
    study = selectors.study_of_families({f["pk"]: f["study_id"] for f in shown})
    family_read(request, action="caseload", families=[f["pk"] for f in shown], study=study)
    # Each card's three links made here, not by three URL tags per card.
    detail, contact, care = (
        url_maker(name)
        for name in ("study:family_detail", "study:contact_new", "study:care_workers")
    )
    for family in shown:
        family["links"] = {
            "detail": detail(family["pk"]),
            "contact": contact(family["pk"]),
            "care": care(family["pk"]),
        }
    return render(request, "study/caseload.html", {"families": shown, "page": page})


CASELOAD_PER_PAGE = 50


def _caseload_page(ids, number: str | None) -> Page:
    """The page `number` of the caseload's ids, as `Paginator(ids).get_page(number)` gives it.
    The first page (no number, or "1") reads one more id than a page holds first: a caseload
    that fits on one page (every coach's) then needs no COUNT; a longer one counts as before and
    keeps the ids already read."""
    first = list(ids[: CASELOAD_PER_PAGE + 1]) if number in (None, "1") else None
    if first is not None and len(first) <= CASELOAD_PER_PAGE:
        return Paginator(first, CASELOAD_PER_PAGE).get_page(number)
    page = Paginator(ids, CASELOAD_PER_PAGE).get_page(number)
    if first is not None and page.number == 1:
        page.object_list = first[:CASELOAD_PER_PAGE]
    return page


@login_required
def contact_new(request: HttpRequest, family_id: int) -> HttpResponse:
    family, rights = selectors.family_get_with_rights(request.user, family_id)
    require_held(rights, access.Right.CONTACT_LOG)
    family_read(request, action="family.contact_form", families=family)
    form = forms.ContactForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        token = data.pop("form_token", "")

        def produce() -> tuple[int, dict]:
            contact = contact_log(family=family, coach=request.user, **data)
            return 201, {"contact": contact.pk}

        try:
            if token:
                # A double click or a resent form carries the same token: logged once.
                outcome = run_once(
                    user=request.user, scope="form:contact", key=token, payload="", produce=produce
                )
                replayed = outcome.replayed
            else:
                produce()
                replayed = False
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if replayed:
                messages.info(
                    request, _("This contact was already saved; it was not logged twice.")
                )
            else:
                messages.success(
                    request,
                    _("Contact with %(pseudonym)s logged.") % {"pseudonym": family.pseudonym},
                )
            return redirect("study:caseload")
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request, "study/contact_form.html", {"family": family, "form": form}, status=status
    )


@login_required
def care_workers(request: HttpRequest, family_id: int) -> HttpResponse:
    family = selectors.family_get(request.user, family_id)
    form = forms.InvolvementForm(
        request.POST if request.method == "POST" else None, **care_lists(family.study)
    )
    if request.method == "POST" and form.is_valid():
        try:
            care_services.care_involvement_add(
                family=family, user=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Care worker added."))
            return redirect("study:care_workers", family.pk)
    return _care_workers_page(request, family, form=form)


def _care_workers_page(
    request: HttpRequest, family, *, form, failed_end=None, end_form=None
) -> HttpResponse:
    """The family's care workers with the add form; a refused end date is shown next to that
    involvement's date field and in the error summary at the top, with the date as typed."""
    family_read(request, action="family.care_workers", families=family)
    context = {
        "family": family,
        "form": form,
        "involvements": selectors.care_involvement_list(family),
        "end_form": forms.InvolvementEndForm(initial={"end_date": timezone.localdate()}),
        "failed_end": failed_end,
        "failed_end_form": end_form,
        "summary_form": end_form if end_form is not None else form,
    }
    failed = form.is_bound and form.errors or end_form is not None
    return render(request, "study/care_workers.html", context, status=400 if failed else 200)


@login_required
@require_POST
def care_involvement_end(request: HttpRequest, involvement_id: int) -> HttpResponse:
    involvement = selectors.care_involvement_get(request.user, involvement_id)
    form = forms.InvolvementEndForm(request.POST)
    form.fields["end_date"].widget.attrs["id"] = f"end-{involvement.pk}"
    try:
        data = cleaned_or_error(form)
        care_services.care_involvement_end(
            involvement=involvement, end_date=data["end_date"], user=request.user
        )
    except ValidationError as exc:
        if not form.errors:  # the date alone is the form: every refusal sits next to it
            form.add_error("end_date", ValidationError(exc.messages))
        add_form = forms.InvolvementForm(**care_lists(involvement.family.study))
        return _care_workers_page(
            request, involvement.family, form=add_form, failed_end=involvement.pk, end_form=form
        )
    messages.success(request, _("Involvement of %(org)s ended.") % {"org": involvement})
    return redirect("study:care_workers", involvement.family_id)
