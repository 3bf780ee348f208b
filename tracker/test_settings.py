"""Test settings: the main settings with eager Celery, a fast hasher and fixed keys."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "test-secret-key")
os.environ.setdefault("LINKAGE_KEY", "test-linkage-key")
os.environ.setdefault("AUDIT_KEY", "test-audit-key")

from tracker.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Jobs run through eager Celery: synchronously, inside the test (tests rely on it).
JOBS_RUNNER = "celery"
SECURE_SSL_REDIRECT = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests assert on the English source strings; tests/test_smoke.py checks the Dutch default.
LANGUAGE_CODE = "en"
if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    # The test database's flush TRUNCATEs every table; the audit tables' TRUNCATE trigger lets
    # only sessions started with this setting through (study/audit_guards.py).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c tracker.audit_truncate=allow"  # noqa: F405
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not Django's shared in-memory database: there a second writer (a live-server
    # request beside a background job thread) fails at once with "table is locked"; a file
    # in WAL mode makes it wait (the busy timeout), as the embedded default does in use.
    (BASE_DIR / "var").mkdir(exist_ok=True)  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test-db.sqlite3")}  # noqa: F405

# Diagnostics (issue 14) are computed on one run of the suite only (its fixture asks for them).
ANALYSIS_DIAGNOSTICS = False
# Plans frozen in fixtures simulate their MDE with fewer draws (tests of the MDE itself set
# their own number); the 80 % power check is tests/analysis/effects/test_planned_mde.py.
PLANNED_MDE_REPS = 100
