"""Contact notes are free text, not pseudonymised: a note with an 11-proof number is refused, and
a note written before that rule is shown masked to everyone but its own coach."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from study.models import Contact
from study.services.contacts import contact_log
from tests.otp import api_verified

pytestmark = pytest.mark.django_db

WHEN = datetime(2022, 5, 1, 10, tzinfo=UTC)


def _log(family, coach, note):
    return contact_log(
        family=family,
        coach=coach,
        occurred_at=WHEN,
        kind=Contact.Kind.PHONE,
        duration_minutes=10,
        initiated_by=Contact.Initiator.COACH,
        note=note,
    )


@pytest.mark.parametrize("note", ["BSN 123456782", "bsn: 1234.56.782", "moeder 123 456 782"])
def test_a_note_with_a_bsn_is_refused_and_not_stored(family, coach, note):
    with pytest.raises(ValidationError) as refused:
        _log(family, coach, note)
    assert "note" in refused.value.message_dict
    assert "123456782" not in str(refused.value)
    assert not Contact.objects.filter(family=family).exists()


def test_an_ordinary_note_is_kept(family, coach):
    assert _log(family, coach, "Gesprek over schulden, volgende week 10:30 (tel. 0546-123456)")


def test_an_older_note_with_a_bsn_is_masked_for_the_researcher(family, coach, researcher, settings):
    settings.OTP_REQUIRED = True
    # Researchers read notes only where the study allows it (issue 17), then masked.
    type(family.study).objects.filter(pk=family.study_id).update(contact_notes_for_research=True)
    contact = _log(family, coach, "gesprek")
    Contact.objects.filter(pk=contact.pk).update(note="BSN 123456782 genoemd")
    seen = api_verified(researcher).get("/api/contacts/").json()["results"]
    assert seen[0]["note"] == "BSN ********* genoemd"
    own = api_verified(coach).get("/api/contacts/").json()["results"]
    assert own[0]["note"] == "BSN 123456782 genoemd"
