"""Notes with a purpose (issue 17): researchers and data managers read contact notes only when
the study allows it, and then masked; after a hand-over the new coach reads the earlier coaches'
notes only when the study's coordinator grants it (the grant page, audited). Per role, through
the API, the correction page and the grant page."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from study import access
from study.models import AccessEvent, Contact, NotesGrant, Study
from study.roles import Role
from study.services import care
from study.services.contacts import contact_log
from study.services.studies import study_update
from tests.factories import make_member
from tests.otp import api_verified

pytestmark = pytest.mark.django_db

NOTE = "Gesprek over schulden; BSN 123456782 stond in de brief"
MASKED = "Gesprek over schulden; BSN ********* stond in de brief"


@pytest.fixture
def noted(family, coach):
    contact = contact_log(
        family=family,
        coach=coach,
        occurred_at=datetime(2022, 5, 1, 10, tzinfo=UTC),
        kind=Contact.Kind.PHONE,
        duration_minutes=10,
        initiated_by=Contact.Initiator.COACH,
        note="gesprek",
    )
    # Written before notes refused 11-proof numbers.
    Contact.objects.filter(pk=contact.pk).update(note=NOTE)
    return contact


@pytest.fixture
def coordinator(study):
    return make_member(study, Role.COORDINATOR)


def _notes(user) -> list[str]:
    response = api_verified(user).get("/api/contacts/")
    assert response.status_code == 200
    return [row["note"] for row in response.json()["results"]]


def _allow(study, on=True):
    Study.objects.filter(pk=study.pk).update(contact_notes_for_research=on)


def test_the_coach_who_wrote_it_reads_it_in_full(noted, coach):
    assert _notes(coach) == [NOTE]


def test_researchers_and_data_managers_see_no_note_unless_the_study_allows_it(
    noted, study, researcher, data_manager
):
    assert _notes(researcher) == [""]
    assert _notes(data_manager) == [""]
    _allow(study)
    assert _notes(researcher) == [MASKED]
    assert _notes(data_manager) == [MASKED]


def test_an_api_key_with_research_read_follows_the_study_setting(noted, study, data_manager):
    from rest_framework.test import APIClient

    from study.services import api_keys

    _key, raw = api_keys.api_key_issue(
        study=study,
        name="gemeente",
        scopes=["families:read", "research:read"],
        days=30,
        user=data_manager,
        second_factor=True,
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert [r["note"] for r in client.get("/api/contacts/").json()["results"]] == [""]
    _allow(study)
    assert [r["note"] for r in client.get("/api/contacts/").json()["results"]] == [MASKED]


def test_a_private_note_stays_private_even_when_the_study_allows_notes(noted, study, researcher):
    Contact.objects.filter(pk=noted.pk).update(note_private=True)
    _allow(study)
    assert _notes(researcher) == [""]


def _hand_over(family, new_coach, coordinator):
    care.caseloads_hand_over(
        families=[family], coach=new_coach, on=timezone.localdate(), user=coordinator
    )


def test_after_a_hand_over_the_new_coach_reads_earlier_notes_only_once_granted(
    noted, family, coach, other_coach, coordinator, study
):
    _hand_over(family, other_coach, coordinator)
    assert _notes(coach) == []  # the old coach keeps no access
    assert _notes(other_coach) == [""]  # the contact, not its note
    _allow(study)  # the research setting is not the coach's
    assert _notes(other_coach) == [""]
    care.notes_grant(
        family=family, coach=other_coach, reason="lopend schuldtraject", user=coordinator
    )
    assert _notes(other_coach) == [MASKED]
    grant = NotesGrant.objects.get(family=family, coach=other_coach)
    assert grant.granted_by == coordinator
    assert (
        grant.history.get().history_change_reason == "earlier notes granted: lopend schuldtraject"
    )


def test_a_grant_ends_with_the_caseload(noted, family, coach, other_coach, coordinator):
    _hand_over(family, other_coach, coordinator)
    care.notes_grant(family=family, coach=other_coach, reason="nodig", user=coordinator)
    assert access.note_reader(other_coach)(noted) == access.NoteView.MASKED
    tomorrow = timezone.localdate() + timedelta(days=1)
    care.caseloads_hand_over(families=[family], coach=coach, on=tomorrow, user=coordinator)
    with time_machine.travel(datetime.combine(tomorrow, time(12), tzinfo=UTC)):
        assert access.note_reader(other_coach)(noted) == access.NoteView.HIDDEN
        assert access.note_reader(coach)(noted) == access.NoteView.FULL


@pytest.mark.parametrize("role", [Role.DATA_MANAGER, Role.RESEARCHER, Role.WIJKCOACH])
def test_only_the_coordinator_grants(noted, family, other_coach, coordinator, study, role):
    _hand_over(family, other_coach, coordinator)
    other = make_member(study, role)
    with pytest.raises(PermissionDenied):
        care.notes_grant(family=family, coach=other_coach, reason="x", user=other)


def test_a_grant_needs_a_reason_and_the_familys_coach_today(
    noted, family, coach, other_coach, coordinator
):
    with pytest.raises(ValidationError) as refused:
        care.notes_grant(family=family, coach=other_coach, reason="reden", user=coordinator)
    assert "family" in refused.value.message_dict
    _hand_over(family, other_coach, coordinator)
    with pytest.raises(ValidationError) as refused:
        care.notes_grant(family=family, coach=other_coach, reason="  ", user=coordinator)
    assert "reason" in refused.value.message_dict


def test_the_grant_page_for_the_coordinator(noted, family, coach, other_coach, coordinator, study):
    _hand_over(family, other_coach, coordinator)
    client = Client()
    client.force_login(coordinator)
    url = f"/studies/{study.pk}/notes-grants/"
    before = AccessEvent.objects.count()
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert family.pseudonym in body and coach.get_username() in body
    assert NOTE not in body and "schulden" not in body  # the page never shows a note
    assert AccessEvent.objects.count() == before + 1
    assert AccessEvent.objects.latest("pk").family_ids == [family.pk]
    refused = client.post(url, {"grant": f"{family.pk}:{other_coach.pk}", "reason": ""})
    assert refused.status_code == 400
    done = client.post(url, {"grant": f"{family.pk}:{other_coach.pk}", "reason": "schulden"})
    assert done.status_code == 302
    assert NotesGrant.objects.filter(family=family, coach=other_coach).exists()
    assert "schulden" in client.get(url).content.decode()  # listed with its reason
    assert _notes(other_coach) == [MASKED]


@pytest.mark.parametrize(
    "role", [Role.DATA_MANAGER, Role.RESEARCHER, Role.WIJKCOACH, Role.GEMEENTE]
)
def test_the_grant_page_refuses_everyone_else(study, role):
    client = Client()
    client.force_login(make_member(study, role))
    assert client.get(f"/studies/{study.pk}/notes-grants/").status_code in (403, 404)


def test_the_correction_page_shows_the_note_only_to_its_coach(noted, study, coach, data_manager):
    _allow(study)
    for user, shown in ((coach, True), (data_manager, False)):
        client = Client()
        client.force_login(user)
        body = client.get(f"/contacts/{noted.pk}/correct/").content.decode()
        assert ("123456782" in body) is shown
        assert ('name="note"' in body) is shown
    # The data manager's correction leaves the note as it is.
    client = Client()
    client.force_login(data_manager)
    response = client.post(
        f"/contacts/{noted.pk}/correct/",
        {
            "occurred_at": "2022-05-01 12:00",
            "kind": Contact.Kind.HOME_VISIT,
            "duration_minutes": 30,
            "initiated_by": Contact.Initiator.COACH,
            "reason": "verkeerd type",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    noted.refresh_from_db()
    assert noted.kind == Contact.Kind.HOME_VISIT and noted.note == NOTE


def test_the_setting_changes_after_enrolment_with_a_reason(noted, study, researcher):
    study_update(
        study=study,
        changes={"contact_notes_for_research": True},
        reason="ethische commissie akkoord",
        user=researcher,
    )
    study.refresh_from_db()
    assert study.contact_notes_for_research is True
    assert study.history.latest().history_change_reason.endswith("ethische commissie akkoord")
    assert _notes(researcher) == [MASKED]
