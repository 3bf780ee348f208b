"""Periodic reports: a due schedule starts one draft run and e-mails the study's researchers."""

from datetime import date

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied

from analysis import tasks
from analysis.models import AnalysisRun, ReportSchedule
from analysis.plans.plan_services import analysis_plan_freeze
from analysis.plans.schedule_services import (
    next_due_after,
    schedule_create,
    schedules_run_due,
)
from study.services.waves import wave_complete
from tracker import jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailable(researcher):
    researcher.email = "onderzoeker@example.org"
    researcher.save(update_fields=["email"])
    return researcher


@pytest.fixture(autouse=True)
def no_worker(monkeypatch):
    """The run itself is the analysis tests' business: here only the request counts."""
    monkeypatch.setattr(jobs, "send_now", lambda task_name, *args, **options: None)


def test_quarterly_is_due_on_the_first_day_of_the_next_quarter(study):
    q = ReportSchedule.Frequency.QUARTERLY
    assert next_due_after(frequency=q, study=study, after=date(2026, 2, 14)) == date(2026, 4, 1)
    assert next_due_after(frequency=q, study=study, after=date(2026, 4, 1)) == date(2026, 7, 1)
    assert next_due_after(frequency=q, study=study, after=date(2026, 11, 30)) == date(2027, 1, 1)


def test_yearly_is_due_the_day_after_the_wave_window_closes(study):
    y = ReportSchedule.Frequency.YEARLY_AFTER_WAVE
    closes = study.start_date.replace(year=2026).toordinal() + study.wave_window_days + 1
    due = next_due_after(frequency=y, study=study, after=date(2026, 1, 1))
    assert due.toordinal() == closes
    assert next_due_after(frequency=y, study=study, after=due).year == 2027


def test_a_due_schedule_starts_one_draft_run_and_mails_the_researchers(study, mailable):
    schedule = schedule_create(
        study=study, user=mailable, frequency="quarterly", first_due=date(2026, 10, 1)
    )
    results = schedules_run_due(today=date(2026, 10, 2))
    assert [r["status"] for r in results] == ["started"]
    run = AnalysisRun.objects.get(study=study)
    assert run.params["trigger"] == "schedule" and run.status == AnalysisRun.Status.QUEUED
    schedule.refresh_from_db()
    assert schedule.last_run == run and schedule.next_due == date(2027, 1, 1)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["onderzoeker@example.org"]
    assert study.name in message.subject
    assert f"/analysis/studies/{study.pk}/" in message.body
    # The same day again (a second beat): nothing new.
    assert schedules_run_due(today=date(2026, 10, 2)) == []
    assert AnalysisRun.objects.filter(study=study).count() == 1 and len(mail.outbox) == 1


def test_schedules_not_yet_due_or_stopped_do_nothing(study, mailable):
    schedule_create(study=study, user=mailable, frequency="quarterly", first_due=date(2026, 12, 1))
    stopped = schedule_create(
        study=study, user=mailable, frequency="quarterly", first_due=date(2026, 1, 1)
    )
    ReportSchedule.objects.filter(pk=stopped.pk).update(active=False)
    assert schedules_run_due(today=date(2026, 11, 1)) == []
    assert not mail.outbox


def test_a_refused_run_is_mailed_in_plain_words(study, family, mailable):
    wave_complete(wave=family.waves.get(index=1), on=date(2022, 3, 10))
    schedule = schedule_create(
        study=study, user=mailable, frequency="quarterly", first_due=date(2026, 1, 1)
    )
    (result,) = schedules_run_due(today=date(2026, 1, 1))
    assert result["status"] == "refused"
    schedule.refresh_from_db()
    assert "no frozen analysis plan" in schedule.last_error
    assert "no frozen analysis plan" in mail.outbox[0].body
    analysis_plan_freeze(study=study, user=mailable)
    ReportSchedule.objects.filter(pk=schedule.pk).update(next_due=date(2026, 1, 1))
    (result,) = schedules_run_due(today=date(2026, 1, 1))
    assert result["status"] == "started"


def test_the_beat_task_runs_the_due_schedules(study, mailable, monkeypatch):
    schedule_create(study=study, user=mailable, frequency="quarterly", first_due=date(2000, 1, 1))
    tasks.report_schedules_task.delay()
    assert AnalysisRun.objects.filter(study=study).count() == 1
    assert len(mail.outbox) == 1


def test_the_beat_schedule_lists_the_task():
    from django.conf import settings

    tasks_in_beat = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "analysis.tasks.report_schedules_task" in tasks_in_beat


def test_only_researchers_schedule(study, gemeente_user, client, mailable):
    with pytest.raises(PermissionDenied):
        schedule_create(study=study, user=gemeente_user, frequency="quarterly")
    client.force_login(gemeente_user)
    assert (
        client.post(
            f"/analysis/studies/{study.pk}/schedules/", {"frequency": "quarterly"}
        ).status_code
        == 404
    )
    client.force_login(mailable)
    response = client.post(f"/analysis/studies/{study.pk}/schedules/", {"frequency": "quarterly"})
    assert response.status_code == 302
    schedule = ReportSchedule.objects.get(study=study)
    page = client.get(f"/analysis/studies/{study.pk}/").content.decode()
    assert schedule.next_due.strftime("%Y-%m-%d") in page
    client.post(f"/analysis/studies/{study.pk}/schedules/{schedule.pk}/stop/")
    schedule.refresh_from_db()
    assert not schedule.active
