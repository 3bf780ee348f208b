"""No data lost: every change leaves an audit record with who, when, what and why."""

from django.urls import reverse

from study.models import IndicatorValue
from study.services.contacts import contact_log
from study.services.families import family_set_status
from study.services.values import indicator_values_record


def test_every_edit_leaves_an_audit_record(family, researcher):
    wave = family.waves.get(index=0)
    indicator_values_record(wave=wave, values={"bijstand": 1}, user=researcher)
    indicator_values_record(wave=wave, values={"bijstand": 2}, user=researcher)
    value = IndicatorValue.objects.get(wave=wave, indicator__code="bijstand")
    history = list(value.history.order_by("history_date"))
    assert [h.value for h in history] == [1, 2]
    assert all(h.history_user == researcher for h in history)
    delta = history[1].diff_against(history[0])
    assert [(c.field, c.old, c.new) for c in delta.changes if c.field == "value"] == [
        ("value", 1, 2)
    ]


def test_bulk_recording_is_audited_per_row(family, researcher):
    wave = family.waves.get(index=1)
    indicator_values_record(wave=wave, values={"bijstand": 1, "ww": 1, "moves": 3}, user=researcher)
    assert IndicatorValue.history.filter(wave=wave).count() == 3


def test_status_change_is_audited_with_reason(family, researcher):
    from datetime import date

    family_set_status(
        family=family,
        status="moved_away",
        on=date(2023, 1, 1),
        reason="moved to Enschede",
        user=researcher,
    )
    record = family.history.first()
    assert record.status == "moved_away" and record.history_user == researcher


def test_data_manager_reads_the_family_audit_trail(client, family, researcher, data_manager):
    indicator_values_record(wave=family.waves.get(index=0), values={"ww": 1}, user=researcher)
    client.force_login(data_manager)
    response = client.get(reverse("study:family_audit", args=[family.pk]))
    assert response.status_code == 200
    assert researcher.username in response.content.decode()


def test_wijkcoach_cannot_read_the_audit_trail(client, family, coach):
    client.force_login(coach)
    assert client.get(reverse("study:family_audit", args=[family.pk])).status_code == 403


def test_queryset_update_and_bulk_update_are_audited_too(family, researcher):
    from study.models import Family, Wave

    before = Wave.history.filter(family_id=family.pk).count()
    Wave.objects.filter(family=family).update(missed_reason="bulk change")
    waves = Wave.objects.filter(family=family)
    assert Wave.history.filter(family_id=family.pk).count() == before + waves.count()
    newest = Wave.history.filter(family_id=family.pk).first()
    assert newest.history_type == "~" and newest.history_change_reason == "bulk update"
    assert newest.missed_reason == "bulk change"

    family.wijk = "Centrum"
    Family.objects.bulk_update([family], ["wijk"])
    latest = family.history.first()
    assert latest.wijk == "Centrum" and latest.history_change_reason == "bulk update"


def test_a_logged_contact_has_its_history_row_on_every_database(family, coach):
    from datetime import timedelta

    from django.utils import timezone

    from study.models import Contact

    when = timezone.now() - timedelta(hours=2)
    contact = contact_log(
        family=family,
        coach=coach,
        occurred_at=when,
        kind="home_visit",
        duration_minutes=45,
        initiated_by="family",
        requested_at=when - timedelta(hours=5),
        note="private words",
        note_private=True,
    )
    stored = Contact.objects.get(pk=contact.pk)
    (row,) = stored.history.all()
    assert (row.history_type, row.history_user, row.history_change_reason) == (
        "+",
        coach,
        "contact logged",
    )
    for field in ("family_id", "coach_id", "occurred_at", "kind", "duration_minutes"):
        assert getattr(row, field) == getattr(stored, field), field
    assert (row.requested_at, row.note, row.note_private) == (
        stored.requested_at,
        "private words",
        True,
    )
    assert stored.created_at is not None and row.created_at == stored.created_at
