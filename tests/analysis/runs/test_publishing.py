"""Publishing an effect report: a preview of exactly what the gemeente will see, a confirmation
step, and withdrawal with a reason (the gemeente then sees it as withdrawn, with the date;
nothing is deleted; every step recorded). Pages and API, per role."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from rest_framework.test import APIClient

from analysis.models import AnalysisRun, Report, ReportPublicationEvent
from analysis.runs import report_services
from study.roles import Role
from study.services.studies import membership_grant
from tests.factories import make_study, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(study):
    """A draft report rendered as a run renders it (HTML and PDF from one context)."""
    run = AnalysisRun.objects.create(study=study, status="succeeded", results={"questions": []})
    return report_services.report_render(run=run)


def _get(client, user, url):
    client.force_login(user)
    return client.get(url)


def _body_of_page(html: str) -> str:
    return html[html.index('<article class="report"') : html.index("</article>") + 10]


def _pdf_text(pdf: bytes) -> str:
    import pypdfium2

    doc = pypdfium2.PdfDocument(pdf)
    return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))


def _as_draft(body: str) -> str:
    """The published rendering differs from the draft in its status only (title page)."""
    return body.replace('data-status="gepubliceerd">gepubliceerd', 'data-status="concept">concept')


def test_the_preview_shows_exactly_what_the_gemeente_reads_and_publishes_only_when_confirmed(
    client, study, researcher, gemeente_user, draft, django_capture_on_commit_callbacks
):
    preview = _get(client, researcher, f"/analysis/reports/{draft.pk}/publish/")
    assert preview.status_code == 200
    text = preview.content.decode()
    assert 'id="publish-preview"' in text and 'id="confirm-publish"' in text
    shown = _body_of_page(text)
    draft.refresh_from_db()
    assert not draft.published  # looking is not publishing
    assert _get(client, gemeente_user, f"/analysis/reports/{draft.pk}/").status_code == 404

    client.force_login(researcher)
    unconfirmed = client.post(f"/analysis/reports/{draft.pk}/publish/", {"preview": "1"})
    assert unconfirmed.status_code == 200 and 'id="confirm-error"' in unconfirmed.content.decode()
    # the report page's own button (no confirmation field) leads to the preview as well
    old_button = client.post(f"/analysis/reports/{draft.pk}/publish/")
    assert 'id="publish-preview"' in old_button.content.decode()
    draft.refresh_from_db()
    assert not draft.published and not draft.publication_events.exists()

    with django_capture_on_commit_callbacks(execute=False) as typesetting:
        done = client.post(f"/analysis/reports/{draft.pk}/publish/", {"confirm": "yes"})
    assert done.status_code == 302
    draft.refresh_from_db()
    assert draft.published and draft.published_by == researcher
    (event,) = draft.publication_events.all()
    assert (event.action, event.by) == ("published", researcher)

    # Published at once: the gemeente reads the published HTML; the PDF is still being typeset
    # (the draft's PDF, with "concept" on its title page, is not offered).
    page = _get(client, gemeente_user, f"/analysis/reports/{draft.pk}/").content.decode()
    seen = _body_of_page(page)
    assert 'data-status="concept"' in shown and 'data-status="gepubliceerd"' in seen
    assert _as_draft(seen) == shown
    assert draft.pdf is None and 'id="pdf-typesetting"' in page and 'id="report-pdf"' not in page
    assert "The PDF is being typeset" in page
    assert client.get(f"/analysis/reports/{draft.pk}/pdf/").status_code == 404
    status = client.get(f"/analysis/reports/{draft.pk}/pdf/status/").json()
    assert (status["status"], status["finished"], status["pdf"]) == ("queued", False, False)

    for send in typesetting:  # the job, as the worker runs it
        send()
    draft.refresh_from_db()
    assert bytes(draft.pdf).startswith(b"%PDF") and draft.pdf_error == ""
    assert "gepubliceerd" in _pdf_text(bytes(draft.pdf))  # typeset with its status
    page = _get(client, gemeente_user, f"/analysis/reports/{draft.pk}/").content.decode()
    assert 'id="report-pdf"' in page and 'id="pdf-typesetting"' not in page
    assert client.get(f"/analysis/reports/{draft.pk}/pdf/status/").json()["finished"] is True


def test_only_those_who_publish_see_the_preview_and_withdrawal_pages(
    client, study, draft, gemeente_user, coach
):
    membership_grant(study=study, user=coach, role=Role.WIJKCOACH)
    outsider = make_user(Role.RESEARCHER)
    membership_grant(study=make_study(), user=outsider, role=Role.RESEARCHER)
    for user in (gemeente_user, coach, outsider):
        for url in (
            f"/analysis/reports/{draft.pk}/publish/",
            f"/analysis/reports/{draft.pk}/withdraw/",
        ):
            assert _get(client, user, url).status_code == 404, (user, url)
            assert client.post(url, {"confirm": "yes", "reason": "x" * 20}).status_code == 404
    draft.refresh_from_db()
    assert not draft.published


def test_withdrawing_needs_a_reason_keeps_the_report_and_the_gemeente_sees_it_withdrawn(
    client, study, researcher, gemeente_user, draft
):
    report_services.report_publish(report=draft, user=researcher, typeset_here=True)
    draft.refresh_from_db()
    published_html, published_pdf = draft.html, bytes(draft.pdf)
    client.force_login(researcher)
    url = f"/analysis/reports/{draft.pk}/withdraw/"
    refused = client.post(url, {"reason": "fout"})
    assert refused.status_code == 400 and "at least 10 characters" in refused.content.decode()
    reason = "De kosten waren in de verkeerde prijzen berekend."
    assert client.post(url, {"reason": reason}).status_code == 302
    draft.refresh_from_db()
    assert draft.withdrawn and draft.published and draft.withdrawn_by == researcher
    assert draft.html == published_html and bytes(draft.pdf) == published_pdf  # nothing deleted
    assert [e.action for e in draft.publication_events.all()] == ["published", "withdrawn"]
    assert draft.publication_events.last().reason == reason

    page = _get(client, gemeente_user, f"/analysis/reports/{draft.pk}/").content.decode()
    assert (
        'id="report-withdrawn"' in page
        and f'data-withdrawn="{timezone.localtime(draft.withdrawn_at):%Y-%m-%d}"' in page
    )
    assert reason in page and "Samenvatting" not in page  # the content is not shown
    assert client.get(f"/analysis/reports/{draft.pk}/pdf/").status_code == 404
    listing = _get(client, gemeente_user, f"/analysis/studies/{study.pk}/").content.decode()
    assert f"withdrawn on {date_format(timezone.localtime(draft.withdrawn_at))}" in listing
    # researchers still read what was withdrawn
    own = _get(client, researcher, f"/analysis/reports/{draft.pk}/").content.decode()
    assert "Samenvatting" in own and 'id="report-withdrawn"' in own
    # withdrawn is final: neither withdrawn again nor published again
    with pytest.raises(ValidationError):
        report_services.report_withdraw(report=draft, user=researcher, reason=reason)
    with pytest.raises(ValidationError):
        report_services.report_publish(report=draft, user=researcher)


def test_a_draft_cannot_be_withdrawn_and_the_gemeente_cannot_withdraw(
    researcher, gemeente_user, draft
):
    with pytest.raises(ValidationError):
        report_services.report_withdraw(report=draft, user=researcher, reason="x" * 20)
    report_services.report_publish(report=draft, user=researcher)
    with pytest.raises(PermissionDenied):
        report_services.report_withdraw(report=draft, user=gemeente_user, reason="x" * 20)


def test_a_withdrawn_report_is_not_the_previous_report_of_the_next(study, researcher, draft):
    report_services.report_publish(report=draft, user=researcher)
    report_services.report_withdraw(report=draft, user=researcher, reason="verkeerde cijfers")
    previous = (
        Report.objects.filter(study=study, published=True, withdrawn_at__isnull=True)
        .exclude(pk=draft.pk)
        .first()
    )
    assert previous is None


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_publish_needs_confirmation_and_withdraw_a_reason_per_role(
    study, researcher, data_manager, gemeente_user, coach, draft
):
    membership_grant(study=study, user=coach, role=Role.WIJKCOACH)
    outsider = make_user(Role.RESEARCHER)
    membership_grant(study=make_study(), user=outsider, role=Role.RESEARCHER)
    base = f"/api/reports/{draft.pk}"
    # a draft is invisible to the gemeente, the coach and another study's researcher
    for user in (gemeente_user, coach, outsider):
        assert (
            _api(user).post(f"{base}/publish/", {"confirm": True}, format="json").status_code == 404
        )
    assert _api(researcher).post(f"{base}/publish/", {}, format="json").status_code == 400
    assert (
        _api(researcher).post(f"{base}/publish/", {"confirm": False}, format="json").status_code
        == 400
    )
    ok = _api(data_manager).post(f"{base}/publish/", {"confirm": True}, format="json")
    assert ok.status_code == 200 and ok.json()["published"] and not ok.json()["withdrawn"]
    # published: the gemeente and the coach read it but may not withdraw it
    for user in (gemeente_user, coach):
        answer = _api(user).post(f"{base}/withdraw/", {"reason": "x" * 20}, format="json")
        assert answer.status_code == 403, user
    assert (
        _api(outsider).post(f"{base}/withdraw/", {"reason": "x" * 20}, format="json").status_code
        == 404
    )
    short = _api(researcher).post(f"{base}/withdraw/", {"reason": "kort"}, format="json")
    assert short.status_code == 400 and "reason" in short.json()
    done = _api(researcher).post(
        f"{base}/withdraw/", {"reason": "Fout in de kostenberekening"}, format="json"
    )
    assert done.status_code == 200 and done.json()["withdrawn"]
    again = _api(researcher).post(f"{base}/withdraw/", {"reason": "x" * 20}, format="json")
    assert again.status_code == 409
    (listed,) = _api(gemeente_user).get("/api/reports/").json()["results"]
    assert listed["withdrawn"] and listed["withdrawal_reason"] == "Fout in de kostenberekening"
    assert ReportPublicationEvent.objects.filter(report=draft).count() == 2
