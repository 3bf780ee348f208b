"""Wave reminders by e-mail: to the coach on the caseload and the study's researchers when a
wave opens and when it becomes overdue, each wave and event once (a repeated run, the beat task
or the command send nothing twice), never for a wave recorded, locked or long past."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings

from study.models import Wave, WaveReminder
from study.services.reminders import wave_reminders_send

pytestmark = pytest.mark.django_db


@pytest.fixture
def addressed(family, coach, researcher):
    for user, address in ((coach, "coach@example.nl"), (researcher, "onderzoeker@example.nl")):
        user.email = address
        user.save(update_fields=["email"])
    return family


def _t1(family) -> Wave:
    return family.waves.get(index=1)


def test_an_opened_wave_is_reminded_once_to_the_coach_and_the_researcher(addressed):
    wave = _t1(addressed)
    day = wave.window_start + timedelta(days=1)
    assert wave_reminders_send(today=day).sent == 1
    (message,) = mail.outbox
    assert sorted(message.to) == ["coach@example.nl", "onderzoeker@example.nl"]
    assert addressed.pseudonym in message.subject and "is open" in message.subject
    assert f"/waves/{wave.pk}/entry/" in message.body
    assert wave_reminders_send(today=day).sent == 0  # again: nothing twice
    assert wave_reminders_send(today=day + timedelta(days=2)).sent == 0
    assert len(mail.outbox) == 1


def test_an_overdue_wave_is_reminded_once_more(addressed):
    wave = _t1(addressed)
    wave_reminders_send(today=wave.window_start)
    overdue = wave.window_end + timedelta(days=1)
    assert wave_reminders_send(today=overdue).sent == 1
    assert "overdue" in mail.outbox[-1].subject
    assert wave_reminders_send(today=overdue).sent == 0
    assert set(WaveReminder.objects.filter(wave=wave).values_list("event", flat=True)) == {
        "opened",
        "overdue",
    }


def test_recorded_locked_and_old_waves_get_no_reminder(addressed, researcher):
    wave = _t1(addressed)
    wave.status = Wave.Status.COMPLETED
    wave.save(update_fields=["status"])
    assert wave_reminders_send(today=wave.window_start).sent == 0
    t2 = addressed.waves.get(index=2)
    t2.locked = True
    t2.save(update_fields=["locked"])
    assert wave_reminders_send(today=t2.window_end + timedelta(days=1)).sent == 0
    t3 = addressed.waves.get(index=3)
    with override_settings(WAVE_REMINDER_MAX_AGE_DAYS=14):
        assert wave_reminders_send(today=t3.window_end + timedelta(days=30)).sent == 0
    assert mail.outbox == []


def test_a_wave_with_no_one_to_remind_waits_for_a_coach(family):
    wave = _t1(family)  # no e-mail addresses
    outcome = wave_reminders_send(today=wave.window_start)
    assert (outcome.sent, outcome.without_recipients) == (0, 1)
    assert not WaveReminder.objects.exists()


def test_a_failing_mail_server_leaves_the_reminder_for_the_next_run(addressed, monkeypatch):
    wave = _t1(addressed)

    def down(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr("study.services.reminders.send_mail", down)
    assert wave_reminders_send(today=wave.window_start).failed == 1
    assert not WaveReminder.objects.exists()
    monkeypatch.undo()
    assert wave_reminders_send(today=wave.window_start).sent == 1


def test_the_command_and_the_beat_task_send_them_once(addressed, settings):
    from study.tasks import wave_reminders_task

    wave = _t1(addressed)
    call_command("wave_reminders", "--date", wave.window_start.isoformat())
    assert len(mail.outbox) == 1
    assert "study.tasks.wave_reminders_task" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert wave_reminders_task.delay().get() == 0  # today: T1 of 2021 is long past
    assert len(mail.outbox) == 1
