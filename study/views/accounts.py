"""A data manager's pages for a study's credentials: one-time enrolment links for its members'
authenticators, and the study's API keys for service accounts (both shown once)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from study import access, selectors
from study.models import ApiKey
from study.services import accounts, api_keys
from study.services.languages import in_language_of
from study.views.helpers import add_service_errors, require_study_right
from tracker.twofactor import second_factor_passed


def _managed_study(request: HttpRequest, study_id: int, right: access.Right):
    study = selectors.study_get(request.user, study_id)
    require_study_right(request.user, study, right)
    return study


@login_required
def enrolment_links(request: HttpRequest, study_id: int) -> HttpResponse:
    """The study's members, and a one-time link to enrol an authenticator for each."""
    study = _managed_study(request, study_id, access.Right.MEMBERS_MANAGE)
    issued = None
    if request.method == "POST":
        member = selectors.study_member_get(study, request.POST.get("user", ""))
        _link, raw = accounts.enrolment_link_issue(user=member, issued_by=request.user)
        issued = {"user": member, "url": accounts.enrolment_link_url(raw)}
        if member.email:
            with in_language_of(member):
                subject = _("Link your authenticator app")
                body = _("Open this link once, after logging in with your password: %(url)s") % {
                    "url": issued["url"]
                }
            send_mail(subject, body, None, [member.email])
    context = {"study": study, "members": selectors.study_member_list(study), "issued": issued}
    return render(request, "study/enrolment_links.html", context)


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name (the system that uses it)"), max_length=100)
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("Scopes"),
        choices=[(s, s) for s in access.SCOPES],
        widget=forms.CheckboxSelectMultiple,
    )
    days = forms.IntegerField(
        label=gettext_lazy("Valid for (days)"), min_value=1, max_value=api_keys.MAX_DAYS
    )


@login_required
def api_key_list(request: HttpRequest, study_id: int) -> HttpResponse:
    """The study's API keys; issuing one shows its secret once."""
    study = _managed_study(request, study_id, access.Right.API_KEYS_MANAGE)
    form = ApiKeyForm(request.POST or None, initial={"days": api_keys.default_days()})
    secret = None
    if request.method == "POST" and form.is_valid():
        try:
            _key, secret = api_keys.api_key_issue(
                study=study,
                user=request.user,
                second_factor=second_factor_passed(request),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
    context = {
        "study": study,
        "form": form,
        "secret": secret,
        "keys": selectors.api_key_list(request.user, study=study),
    }
    return render(request, "study/api_keys.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def api_key_revoke(request: HttpRequest, study_id: int, key_id: int) -> HttpResponse:
    study = _managed_study(request, study_id, access.Right.API_KEYS_MANAGE)
    key = ApiKey.objects.filter(study=study, pk=key_id).first()
    if key is None:
        raise Http404
    api_keys.api_key_revoke(key=key, user=request.user)
    messages.success(request, _("API key %(key)s is revoked.") % {"key": key})
    return redirect("study:api_keys", study.pk)
