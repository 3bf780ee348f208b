"""Wijkcoach pages: caseload, contact logging, care workers, due waves; professional survey."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from django.urls import reverse

from study.models import CareInvolvement, Contact, Professional, ProfessionalSurvey
from study.services.care import care_involvement_add
from study.services.values import indicator_values_record
from tests.factories import make_user


def _contact(**overrides) -> dict:
    data = {
        "occurred_at": "2022-05-01T10:30",
        "kind": "home_visit",
        "duration_minutes": "45",
        "initiated_by": "coach",
    }
    data.update(overrides)
    return data


def test_caseload_lists_only_own_families_with_quick_actions(client, coach, family, other_family):
    client.force_login(coach)
    html = client.get(reverse("study:caseload")).content.decode()
    assert family.pseudonym in html and other_family.pseudonym not in html
    assert reverse("study:contact_new", args=[family.pk]) in html


def test_contact_form_defaults_to_now_and_the_coach(client, coach, family):
    client.force_login(coach)
    with time_machine.travel("2022-06-01 08:15:00+00:00", tick=False):
        html = client.get(reverse("study:contact_new", args=[family.pk])).content.decode()
    assert 'value="2022-06-01T10:15"' in html  # Europe/Amsterdam, summer time
    radio = re.search(r'<input[^>]*name="initiated_by"[^>]*value="coach"[^>]*>', html).group(0)
    assert "checked" in radio


def test_coach_logs_a_contact(client, coach, family):
    client.force_login(coach)
    response = client.post(reverse("study:contact_new", args=[family.pk]), _contact())
    assert response.status_code == 302
    contact = Contact.objects.get(family=family)
    assert (contact.kind, contact.duration_minutes, contact.coach) == ("home_visit", 45, coach)
    assert contact.requested_at is None


def test_request_time_is_kept_when_the_family_asked(client, coach, family):
    client.force_login(coach)
    client.post(
        reverse("study:contact_new", args=[family.pk]),
        _contact(initiated_by="family", requested_at="2022-04-29T09:00"),
    )
    contact = Contact.objects.get(family=family)
    assert contact.response_hours == pytest.approx(49.5)


def test_a_stale_request_time_is_dropped_when_the_coach_initiated(client, coach, family):
    client.force_login(coach)
    client.post(
        reverse("study:contact_new", args=[family.pk]),
        _contact(requested_at="2022-04-29T09:00"),
    )
    assert Contact.objects.get(family=family).requested_at is None


def test_contact_errors_are_shown_next_to_the_field(client, coach, family):
    client.force_login(coach)
    response = client.post(
        reverse("study:contact_new", args=[family.pk]),
        _contact(duration_minutes="0", occurred_at="2999-01-01T10:00"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-duration_minutes"' in html
    assert not Contact.objects.filter(family=family).exists()


def test_a_contact_in_the_future_is_refused_by_the_service(client, coach, family):
    client.force_login(coach)
    response = client.post(
        reverse("study:contact_new", args=[family.pk]), _contact(occurred_at="2999-01-01T10:00")
    )
    assert response.status_code == 400
    assert 'id="error-occurred_at"' in response.content.decode()


@pytest.mark.parametrize("who,status", [("other_coach", 404), ("gemeente_user", 404)])
def test_outsiders_cannot_log_a_contact(client, request, family, who, status):
    client.force_login(request.getfixturevalue(who))
    url = reverse("study:contact_new", args=[family.pk])
    assert client.get(url).status_code == status
    assert client.post(url, _contact()).status_code == status
    assert not Contact.objects.filter(family=family).exists()


def test_a_researcher_does_not_log_contacts(client, researcher, family):
    client.force_login(researcher)
    assert client.get(reverse("study:contact_new", args=[family.pk])).status_code == 403


def test_coach_adds_and_ends_a_care_worker(client, coach, family):
    client.force_login(coach)
    url = reverse("study:care_workers", args=[family.pk])
    response = client.post(
        url, {"organisation": "GGZ Oost", "discipline": "behandelaar", "start_date": "2022-01-10"}
    )
    assert response.status_code == 302
    involvement = CareInvolvement.objects.get(family=family)
    assert (
        reverse("study:care_involvement_end", args=[involvement.pk])
        in client.get(url).content.decode()
    )
    end = reverse("study:care_involvement_end", args=[involvement.pk])
    client.post(end, {"end_date": "2021-12-31"})
    involvement.refresh_from_db()
    assert involvement.end_date is None, "an end before the start is refused"
    client.post(end, {"end_date": "2022-06-30"})
    involvement.refresh_from_db()
    assert involvement.end_date == date(2022, 6, 30)


def test_other_coach_cannot_see_or_end_a_care_worker(client, coach, other_coach, family):
    involvement = care_involvement_add(
        family=family, organisation="GGZ", discipline="x", start_date=date(2022, 1, 1), user=coach
    )
    client.force_login(other_coach)
    assert client.get(reverse("study:care_workers", args=[family.pk])).status_code == 404
    end = reverse("study:care_involvement_end", args=[involvement.pk])
    assert client.post(end, {"end_date": "2022-06-30"}).status_code == 404
    involvement.refresh_from_db()
    assert involvement.end_date is None


def test_due_waves_lists_own_families_only(client, coach, family, other_family):
    client.force_login(coach)
    with time_machine.travel(date(2022, 3, 1), tick=False):
        html = client.get(reverse("study:waves_due")).content.decode()
    assert f"{family.pseudonym} · T1" in html
    assert other_family.pseudonym not in html
    assert "/entry/" not in html, "a coach gets no link to registry values"


def test_researcher_due_waves_link_to_the_entry_form(client, researcher, family):
    client.force_login(researcher)
    with time_machine.travel(date(2022, 3, 1), tick=False):
        html = client.get(reverse("study:waves_due")).content.decode()
    assert reverse("study:wave_entry", args=[family.waves.get(index=1).pk]) in html


def test_gemeente_sees_no_due_waves(client, gemeente_user, family):
    client.force_login(gemeente_user)
    with time_machine.travel(date(2022, 3, 1), tick=False):
        html = client.get(reverse("study:waves_due")).content.decode()
    assert family.pseudonym not in html


def test_coach_family_page_hides_registry_values_but_offers_contact(client, coach, family):
    indicator_values_record(wave=family.waves.get(index=0), values={"bijstand": 1})
    client.force_login(coach)
    html = client.get(reverse("study:family_detail", args=[family.pk])).content.decode()
    assert "/entry/" not in html
    assert reverse("study:contact_new", args=[family.pk]) in html


@pytest.mark.parametrize("url_name", ["caseload", "waves_due", "professional_survey"])
def test_anonymous_is_sent_to_login(client, url_name):
    response = client.get(reverse(f"study:{url_name}"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_anonymous_cannot_log_contacts(client, family):
    response = client.get(reverse("study:contact_new", args=[family.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_professional_answers_the_yearly_survey(client, study):
    user = make_user(None)
    professional = Professional.objects.create(
        study=study, organisation="Wijkteam", approach="new", user=user
    )
    client.force_login(user)
    url = reverse("study:professional_survey")
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"year": "2022", "job_satisfaction": "8", "autonomy": "4", "cooperation": "2"}
    )
    assert response.status_code == 302
    survey = ProfessionalSurvey.objects.get(professional=professional, year=2022)
    assert (survey.job_satisfaction, survey.autonomy, survey.pride, survey.cooperation) == (
        8,
        4,
        None,
        2,
    )
    response = client.post(url, {"year": "2022", "job_satisfaction": "11"})
    assert response.status_code == 400
    assert 'id="error-job_satisfaction"' in response.content.decode()


def test_a_user_without_a_professional_gets_no_form(client, coach):
    client.force_login(coach)
    response = client.get(reverse("study:professional_survey"))
    assert response.status_code == 200
    assert 'id="professional-survey"' not in response.content.decode()


def test_a_professional_cannot_answer_for_another(client, study):
    own, other = make_user(None), make_user(None)
    Professional.objects.create(study=study, organisation="A", approach="new", user=own)
    theirs = Professional.objects.create(study=study, organisation="B", approach="new", user=other)
    client.force_login(own)
    client.post(
        reverse("study:professional_survey"),
        {"professional": theirs.pk, "year": "2022", "job_satisfaction": "1"},
    )
    assert not ProfessionalSurvey.objects.filter(professional=theirs).exists()


def test_a_contact_form_sent_twice_logs_one_contact(client, coach, family):
    client.force_login(coach)
    url = reverse("study:contact_new", args=[family.pk])
    token = client.get(url).context["form"]["form_token"].value()
    assert token
    first = client.post(url, _contact(form_token=token), follow=True)
    again = client.post(url, _contact(form_token=token), follow=True)
    assert Contact.objects.filter(family=family).count() == 1
    assert "already saved" in [str(m) for m in again.context["messages"]][0]
    assert "logged" in [str(m) for m in first.context["messages"]][0]
    fresh = client.get(url).context["form"]["form_token"].value()
    assert fresh != token
    client.post(url, _contact(form_token=fresh))
    assert Contact.objects.filter(family=family).count() == 2


def test_contact_errors_are_summarised_with_links(client, coach, family):
    client.force_login(coach)
    url = reverse("study:contact_new", args=[family.pk])
    response = client.post(url, _contact(duration_minutes="0", kind=""))
    assert response.status_code == 400
    summary = response.content.decode().split('id="error-summary"')[1].split("</div>")[0]
    assert 'href="#id_duration_minutes"' in summary and "#id_kind" in summary


def test_a_refused_end_date_shows_next_to_its_field_and_in_the_summary(client, coach, family):
    involvement = care_involvement_add(
        family=family, organisation="GGZ", discipline="x", start_date=date(2022, 1, 10), user=coach
    )
    client.force_login(coach)
    end = reverse("study:care_involvement_end", args=[involvement.pk])
    response = client.post(end, {"end_date": "2021-12-31"})
    assert response.status_code == 400  # the page itself, not a redirect that loses the date
    page = response.content.decode()
    summary = page.split('id="error-summary"')[1].split("</div>")[0]
    assert f'href="#end-{involvement.pk}"' in summary
    assert "before the start date" in summary
    card = page.split(f'id="involvement-{involvement.pk}"')[1].split("</form>")[0]
    assert 'value="2021-12-31"' in card and 'aria-invalid="true"' in card
    assert f'id="error-end-{involvement.pk}"' in card and "before the start date" in card
    involvement.refresh_from_db()
    assert involvement.end_date is None


def test_an_unreadable_end_date_is_kept_as_typed_next_to_its_field(client, coach, family):
    involvement = care_involvement_add(
        family=family, organisation="GGZ", discipline="x", start_date=date(2022, 1, 10), user=coach
    )
    client.force_login(coach)
    end = reverse("study:care_involvement_end", args=[involvement.pk])
    response = client.post(end, {"end_date": "31-13-2022"})
    assert response.status_code == 400
    card = response.content.decode().split(f'id="involvement-{involvement.pk}"')[1]
    assert 'value="31-13-2022"' in card.split("</form>")[0]


def test_a_care_worker_add_error_is_in_the_summary_at_the_top(client, coach, family):
    client.force_login(coach)
    url = reverse("study:care_workers", args=[family.pk])
    response = client.post(url, {"organisation": "GGZ", "discipline": "x", "start_date": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert page.index('id="error-summary"') < page.index('id="involvement-form"')
    assert 'href="#id_start_date"' in page.split('id="error-summary"')[1].split("</div>")[0]
    assert 'value="GGZ"' in page
