"""English formats: Django's own with one style per kind (a date 1 Dec 2026, a date-time
1 Dec 2026 17:45), as in the Dutch formats."""

from django.conf.locale.en.formats import *  # noqa: F403

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y H:i"
SHORT_DATETIME_FORMAT = "j M Y H:i"
