"""Dutch formats: Django's own (`django.conf.locale.nl.formats`) with one style per kind, so
neighbouring pages never show "2026-10-10 17:45", "29 november 2026" and "01-12-2026" side by
side: a date is 01-12-2026, a date-time 01-12-2026 17:45 (issue 20)."""

from django.conf.locale.nl.formats import *  # noqa: F403

DATE_FORMAT = "d-m-Y"
SHORT_DATE_FORMAT = "d-m-Y"
DATETIME_FORMAT = "d-m-Y H:i"
SHORT_DATETIME_FORMAT = "d-m-Y H:i"
