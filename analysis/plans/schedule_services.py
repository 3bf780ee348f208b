"""Periodic effect reports: a due schedule starts a draft run and e-mails the study's researchers.

The Celery beat task only calls ``schedules_run_due``; a schedule is claimed by moving its
``next_due`` forward in one conditional UPDATE, so two beats (or a retry) never start two runs.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from analysis.models import ReportSchedule
from analysis.plans.selectors import may_edit_questions
from analysis.runs.services import analysis_run_request
from study.models import StudyMembership
from study.roles import Role

log = logging.getLogger(__name__)


def _anniversary(start: date, year: int) -> date:
    try:
        return start.replace(year=year)
    except ValueError:  # 29 February
        return start.replace(year=year, day=28)


def next_due_after(*, frequency: str, study, after: date) -> date:
    """The next due date strictly after ``after``.

    quarterly: the first day of the next quarter. yearly_after_wave: the day after the yearly
    wave round closes, i.e. each anniversary of the study start plus the wave window.
    """
    if frequency == ReportSchedule.Frequency.QUARTERLY:
        month = ((after.month - 1) // 3 + 1) * 3 + 1
        return date(after.year + (month > 12), (month - 1) % 12 + 1, 1)
    if frequency == ReportSchedule.Frequency.YEARLY_AFTER_WAVE:
        window = timedelta(days=int(study.wave_window_days) + 1)
        for year in range(max(after.year - 1, study.start_date.year), after.year + 2):
            due = _anniversary(study.start_date, year) + window
            if due > after:
                return due
    raise ValueError(f"unknown report frequency '{frequency}'")


def schedule_create(*, study, user, frequency: str, first_due: date | None = None):
    if user is None or not may_edit_questions(user, study):
        raise PermissionDenied
    if frequency not in ReportSchedule.Frequency.values:
        raise ValidationError(
            {"frequency": _("unknown report frequency '%(f)s'") % {"f": frequency}}
        )
    due = first_due or next_due_after(frequency=frequency, study=study, after=timezone.localdate())
    return ReportSchedule.objects.create(study=study, frequency=frequency, next_due=due)


def schedule_deactivate(*, schedule: ReportSchedule, user) -> ReportSchedule:
    if user is None or not may_edit_questions(user, schedule.study):
        raise PermissionDenied
    schedule.active = False
    schedule.save(update_fields=["active"])
    return schedule


def _researcher_emails_by_language(study) -> dict[str, list[str]]:
    """The study's researchers' e-mail addresses by the language each chose (else the site's)."""
    rows = StudyMembership.objects.filter(
        study=study, role=Role.RESEARCHER, active=True, user__is_active=True
    ).values_list("user__email", "user__profile__language")
    by_language: dict[str, set[str]] = {}
    for email, language in rows:
        if email:
            by_language.setdefault(language or settings.LANGUAGE_CODE, set()).add(email)
    return {language: sorted(emails) for language, emails in sorted(by_language.items())}


def _link(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _notify(schedule: ReportSchedule, run, error: str) -> int:
    by_language = _researcher_emails_by_language(schedule.study)
    if not by_language:
        log.warning("report schedule %s: the study has no researcher with an e-mail", schedule.pk)
        return 0
    sent = 0
    for language, recipients in by_language.items():
        # One message per language: each researcher reads it in the language they chose.
        with translation.override(language):
            subject, body = _notice(schedule, run, error)
        sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    return sent


def _notice(schedule: ReportSchedule, run, error: str) -> tuple[str, str]:
    link = _link(reverse("analysis:study", kwargs={"study_id": schedule.study_id}))
    study = schedule.study.name
    if run is not None:
        subject = _("Draft effect report started: %(study)s") % {"study": study}
        body = _(
            "The periodic effect report of %(study)s is due (%(frequency)s).\n"
            "A draft analysis (run %(run)s) was started. Review the draft report and publish "
            "it when it is right:\n%(link)s\n"
        ) % {
            "study": study,
            "frequency": schedule.get_frequency_display(),
            "run": run.pk,
            "link": link,
        }
    else:
        subject = _("Periodic effect report could not start: %(study)s") % {"study": study}
        body = _(
            "The periodic effect report of %(study)s is due, but the analysis could not "
            "start:\n%(error)s\n\n%(link)s\n"
        ) % {"study": study, "error": error, "link": link}
    return subject, body


def schedule_run(*, schedule: ReportSchedule, today: date) -> dict:
    """Claim one due schedule, request its draft run, notify the researchers."""
    new_due = next_due_after(frequency=schedule.frequency, study=schedule.study, after=today)
    claimed = ReportSchedule.objects.filter(
        pk=schedule.pk, active=True, next_due=schedule.next_due
    ).update(next_due=new_due)
    if not claimed:
        return {"schedule": schedule.pk, "status": "taken"}
    run, error = None, ""
    try:
        with transaction.atomic():
            run = analysis_run_request(
                study=schedule.study, user=None, params={"trigger": "schedule"}
            )
    except ValidationError as exc:
        error = "; ".join(exc.messages)
    ReportSchedule.objects.filter(pk=schedule.pk).update(
        last_run=run, last_run_at=timezone.now(), last_error=error
    )
    sent = _notify(schedule, run, error)
    return {
        "schedule": schedule.pk,
        "status": "started" if run else "refused",
        "run": run.pk if run else None,
        "error": error,
        "emails": sent,
        "next_due": new_due.isoformat(),
    }


def schedules_run_due(*, today: date | None = None) -> list[dict]:
    """Every active schedule whose next due date has come: one draft run and one e-mail each."""
    today = today or timezone.localdate()
    due = ReportSchedule.objects.filter(active=True, next_due__lte=today).select_related("study")
    return [schedule_run(schedule=s, today=today) for s in due]
