"""Correction pages: a coach corrects or removes their own contact with a reason; a data
manager removes a family entered in error; others are refused."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from study.models import CareInvolvement, Contact, Family
from study.services.care import care_involvement_add
from study.services.contacts import contact_log

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(family, coach):
    return contact_log(
        family=family,
        coach=coach,
        occurred_at=datetime(2022, 5, 1, 10, 0, tzinfo=UTC),
        kind="phone",
        duration_minutes=15,
        initiated_by="coach",
    )


def _form(contact, **changes) -> dict:
    data = {
        "occurred_at": "2022-05-01T12:00",
        "kind": contact.kind,
        "duration_minutes": str(contact.duration_minutes),
        "initiated_by": contact.initiated_by,
        "action": "save",
    }
    data.update(changes)
    return data


def test_the_coach_corrects_their_contact_and_a_reason_is_required(client, coach, contact):
    client.force_login(coach)
    url = reverse("study:contact_correct", args=[contact.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    response = client.post(url, _form(contact, duration_minutes="45"))
    assert response.status_code == 400 and 'id="error-summary"' in response.content.decode()
    contact.refresh_from_db()
    assert contact.duration_minutes == 15
    response = client.post(url, _form(contact, duration_minutes="45", reason="typed 15"))
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.duration_minutes == 45
    assert "typed 15" in contact.history.order_by("-history_id").first().history_change_reason


def test_the_coach_removes_a_contact_logged_in_error(client, coach, contact):
    client.force_login(coach)
    url = reverse("study:contact_correct", args=[contact.pk])
    client.post(url, {"action": "remove", "reason": "wrong family"})
    assert not Contact.objects.alive().filter(pk=contact.pk).exists()


def test_another_coach_and_a_researcher_cannot_correct(client, other_coach, researcher, contact):
    url = reverse("study:contact_correct", args=[contact.pk])
    client.force_login(other_coach)
    assert client.get(url).status_code == 404
    client.force_login(researcher)
    assert client.get(url).status_code == 403
    assert client.post(url, {"action": "remove", "reason": "x"}).status_code == 403
    assert Contact.objects.alive().filter(pk=contact.pk).exists()


def test_care_involvement_is_corrected_on_its_page(client, coach, family):
    involvement = care_involvement_add(
        family=family,
        organisation="GGZ",
        discipline="psycholoog",
        start_date=date(2022, 1, 1),
        user=coach,
    )
    client.force_login(coach)
    url = reverse("study:care_involvement_correct", args=[involvement.pk])
    assert (
        client.get(reverse("study:care_workers", args=[family.pk])).content.decode().count(url) == 1
    )
    client.post(
        url,
        {
            "organisation": "GGZ Twente",
            "discipline": "psycholoog",
            "start_date": "2022-01-01",
            "reason": "full name",
            "action": "save",
        },
    )
    involvement.refresh_from_db()
    assert involvement.organisation == "GGZ Twente"
    client.post(url, {"action": "remove", "reason": "not involved"})
    assert not CareInvolvement.objects.alive().filter(pk=involvement.pk).exists()


def test_only_a_data_manager_removes_a_family(client, researcher, data_manager, family):
    url = reverse("study:family_remove", args=[family.pk])
    client.force_login(researcher)
    assert client.get(url).status_code == 403
    client.force_login(data_manager)
    assert url in client.get(reverse("study:family_detail", args=[family.pk])).content.decode()
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "test entry"}).status_code == 302
    assert not Family.objects.alive().filter(pk=family.pk).exists()
