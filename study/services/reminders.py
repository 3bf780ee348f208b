"""E-mail reminders about waves: when a wave's window opens and when it becomes overdue, to the
family's wijkcoach (on the caseload that day) and the study's researchers. Each wave and event
is reminded once: the reminder row is claimed (a unique row) in the transaction that sends the
mail, so a run repeated or run twice at once sends nothing twice, and a failed send is tried
again by the next run. Runs hourly (beat) and by `manage.py wave_reminders` where no beat runs.
The mail names the family by pseudonym only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from study.models import CaseloadAssignment, Family, StudyMembership, Wave, WaveReminder
from study.roles import Role

Event = WaveReminder.Event
OPEN_STATUSES = (Wave.Status.PLANNED, Wave.Status.DUE, Wave.Status.OVERDUE)


@dataclass
class RemindersOutcome:
    sent: int = 0
    without_recipients: int = 0
    failed: int = 0


def _candidates(today: date, max_age: int) -> list[tuple[Wave, str]]:
    """(wave, event) pairs that happened in the last `max_age` days and were not reminded."""
    oldest = today - timedelta(days=max_age)
    waves = (
        Wave.objects.alive()
        .filter(
            family__in=Family.objects.alive().filter(status=Family.Status.ACTIVE),
            index__gte=0,
            locked=False,
            status__in=OPEN_STATUSES,
        )
        .filter(
            Q(window_start__lte=today, window_start__gte=oldest)
            | Q(window_end__lt=today, window_end__gte=oldest - timedelta(days=1))
        )
        .select_related("family__study")
    )
    done = set(WaveReminder.objects.filter(wave__in=waves).values_list("wave_id", "event"))
    found: list[tuple[Wave, str]] = []
    for wave in waves:
        event = Event.OVERDUE if wave.status_on(today) == Wave.Status.OVERDUE else Event.OPENED
        if (wave.pk, event) not in done:
            found.append((wave, event))
    return found


def recipients_of(wave: Wave, today: date) -> list[str]:
    """The family's wijkcoach(es) on the caseload today and the study's active researchers, each
    address once."""
    coaches = CaseloadAssignment.objects.active_on(today).filter(
        family_id=wave.family_id, coach__is_active=True
    )
    researchers = StudyMembership.objects.filter(
        study_id=wave.family.study_id, role=Role.RESEARCHER, active=True, user__is_active=True
    )
    addresses = list(coaches.values_list("coach__email", flat=True)) + list(
        researchers.values_list("user__email", flat=True)
    )
    return sorted({a for a in addresses if a})


def _message(wave: Wave, event: str) -> tuple[str, str]:
    family, study = wave.family.pseudonym, wave.family.study.name
    link = settings.SITE_URL + reverse("study:wave_entry", args=[wave.pk])
    words = {"wave": wave.label, "family": family, "study": study, "link": link}
    words["start"] = wave.window_start.isoformat() if wave.window_start else "—"
    words["end"] = wave.window_end.isoformat() if wave.window_end else "—"
    if event == Event.OPENED:
        subject = _("Wave %(wave)s of %(family)s is open") % words
        body = (
            _(
                "Wave %(wave)s of family %(family)s (%(study)s) is open from %(start)s to %(end)s.\n"
                "Record it here:\n%(link)s\n"
            )
            % words
        )
    else:
        subject = _("Wave %(wave)s of %(family)s is overdue") % words
        body = (
            _(
                "Wave %(wave)s of family %(family)s (%(study)s) was due by %(end)s and is not "
                "recorded yet. Record it, or mark it missed with a reason:\n%(link)s\n"
            )
            % words
        )
    return subject, body


def _remind(wave: Wave, event: str, today: date) -> bool | None:
    """Claim and send one reminder; None when it has no one to go to (not claimed, so a coach
    assigned later still gets it)."""
    recipients = recipients_of(wave, today)
    if not recipients:
        return None
    subject, body = _message(wave, event)
    try:
        with transaction.atomic():
            WaveReminder.objects.create(wave=wave, event=event, recipients=len(recipients))
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except IntegrityError:
        return False  # another run claimed it first
    return True


def wave_reminders_send(*, today: date | None = None) -> RemindersOutcome:
    """Send every reminder due today (waves that opened or became overdue in the last
    WAVE_REMINDER_MAX_AGE_DAYS days and were not reminded of it yet)."""
    today = today or timezone.localdate()
    outcome = RemindersOutcome()
    for wave, event in _candidates(today, settings.WAVE_REMINDER_MAX_AGE_DAYS):
        try:
            sent = _remind(wave, event, today)
        except OSError:  # the mail server: tried again by the next run (nothing was claimed)
            outcome.failed += 1
            continue
        if sent is None:
            outcome.without_recipients += 1
        elif sent:
            outcome.sent += 1
    return outcome
