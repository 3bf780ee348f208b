#!/usr/bin/env python
"""Django's command-line utility."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        _ = settings.INSTALLED_APPS  # Django would defer this error and fail later, obscurely
    except ImproperlyConfigured as exc:
        sys.exit(f"manage.py: {exc}")

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
