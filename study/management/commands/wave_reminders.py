"""Send the wave reminders where no beat runs (the embedded default): e-mails to the coach and
the researchers about waves that opened or became overdue, each wave and event once."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand

from study.services.reminders import wave_reminders_send


class Command(BaseCommand):
    help = "E-mail reminders about waves that opened or became overdue (each once)."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=date.fromisoformat, help="the day (default: today)")

    def handle(self, *args, date=None, **options):
        outcome = wave_reminders_send(today=date)
        self.stdout.write(
            f"{outcome.sent} reminders sent, {outcome.without_recipients} waves without anyone "
            f"to remind, {outcome.failed} failed (tried again next time)"
        )
