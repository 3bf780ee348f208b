"""One settings module, driven by the environment.

Defaults work on a laptop (SQLite file, Celery tasks in-process); production values come from
the environment. With DEBUG off the app refuses to start without SECRET_KEY, LINKAGE_KEY and
AUDIT_KEY.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from tracker.envconf import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY")
LINKAGE_KEY = env_str("LINKAGE_KEY")
# The key of the audit trail's seals (HMAC-SHA256 over history rows and access events): never in
# the database, so a database role alone cannot forge a seal (study/audit.py).
AUDIT_KEY = env_str("AUDIT_KEY")
# The key `backup_study --encrypt` encrypts bundles with (AES-256-GCM; optional; keep it apart from
# the bundles, like AUDIT_KEY from the database).
BACKUP_KEY = env_str("BACKUP_KEY")
if not DEBUG and (not SECRET_KEY or not LINKAGE_KEY or not AUDIT_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY, LINKAGE_KEY and AUDIT_KEY must be set when DEBUG is off "
        "(for a local demo run with DEBUG=1, as `make run` does)."
    )
if DEBUG:
    # Local development only: fixed, clearly fake keys so the demo needs no setup.
    SECRET_KEY = SECRET_KEY or "dev-insecure-secret-key-do-not-use-in-production"
    LINKAGE_KEY = LINKAGE_KEY or "dev-insecure-linkage-key-do-not-use-in-production"
    AUDIT_KEY = AUDIT_KEY or "dev-insecure-audit-key-do-not-use-in-production"

# --- study (layout-study) ---
# The address of the site, for links that leave it (e-mails). A production site has a name of its
# own: refused when unset with DEBUG off, so e-mails never point at localhost.
SITE_URL = env_str("SITE_URL", "http://localhost:8000" if DEBUG else "").rstrip("/")
if not DEBUG and not SITE_URL:
    raise ImproperlyConfigured(
        "SITE_URL must be set when DEBUG is off: the address of the site, such as "
        "https://effectstudie.example.nl, for the links in e-mails."
    )
# --- end study (layout-study) ---

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served from our own origin (CSP)
    "simple_history",
    "tracker.app_names.Axes",  # django-axes, with a readable name in the admin
    "tracker.app_names.Otp",
    "tracker.app_names.Totp",
    "tracker.app_names.Static",  # recovery codes
    "study",
    "analysis",
    "analysis.costs",
    "analysis.monitor",
    "instruments",  # validated instruments: versioned definitions, administrations, scores
    "tracker",  # management commands that set up studies across study and analysis
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # a signed-in user's own language (the header's switch) over the cookie and the browser
    "tracker.language.UserLanguageMiddleware",
    "tracker.security.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "tracker.security.SessionTimeoutMiddleware",
    "tracker.twofactor.TwoFactorRequiredMiddleware",
    # a session in the locked respondent mode sees only its instrument (the family's tablet)
    "instruments.respondent.RespondentLockMiddleware",
    "tracker.security.ContentSecurityPolicyMiddleware",
    "tracker.security.DatabaseUnavailableMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # a refused page that names a family, wave, study or import is logged (NEN 7513)
    "study.access_log.RefusedReadMiddleware",
    # last, as django-axes asks: turns a lockout into a readable response
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "tracker.security.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Two-factor authentication (TOTP) for these roles, for staff and the installation
# administrator, and for wijkcoaches of studies that require it (Study.coach_otp_required, on by
# default); off only for a local DEBUG demo by default (`OTP_REQUIRED=1` forces it on).
OTP_REQUIRED = env_bool("OTP_REQUIRED", default=not DEBUG)
OTP_REQUIRED_ROLES = ["researcher", "datamanager", "coordinator"]
OTP_TOTP_ISSUER = "Effectstudie-tracker"
# A one-time link to enrol an authenticator is valid this long.
ENROLMENT_LINK_HOURS = env_int("ENROLMENT_LINK_HOURS", 72)

# The client's address (lockout, throttling, logs): REMOTE_ADDR, unless the app runs behind
# reverse proxies that set X-Forwarded-For (BEHIND_PROXY=1, with TRUSTED_PROXY_COUNT of them);
# only then is X-Forwarded-Proto trusted for HTTPS too. Without a proxy these headers come from
# the client and are ignored.
BEHIND_PROXY = env_bool("BEHIND_PROXY", default=False)
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1)

# Brute force (OWASP ASVS): 10 failed logins lock the pair (username, client address), and 10
# failed logins from one address lock that address for every account (so one client cannot try
# a few passwords on every account, and nobody can lock an account for everyone by its username
# alone); the lock ends after the cool-off or when a data manager resets it
# (`manage.py axes_reset_username NAME`, `axes_reset_ip ADDRESS`).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_CLIENT_IP_CALLABLE = "tracker.security.client_ip"
AXES_LOCKOUT_CALLABLE = "tracker.security.lockout_response"
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

ROOT_URLCONF = "tracker.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "study.context_processors.roles",
            ],
            # |localize, |unlocalize, {% localize off %} and |euro on every page, no {% load %}
            "builtins": [
                "django.templatetags.l10n",
                "study.templatetags.amounts",
                "study.templatetags.labels",
            ],
        },
    },
]

# Django's standard widget templates (inputs, selects and their options, radios, checkboxes)
# written by a Python fast path with the same output; everything else through the templates
# (issue 21: a select of 342 municipalities, a wave entry of 76 fields).
FORM_RENDERER = "tracker.form_renderer.FastTemplates"

WSGI_APPLICATION = "tracker.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Common and Dutch-context passwords (places, clubs, seasons, words + a year or digits),
    # from the list shipped in tracker/passwords/.
    {"NAME": "tracker.passwords.DutchContextPasswordValidator"},
]
# A password-reset link works this long (seconds).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_SECONDS", 3600)
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "study:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
# Dutch number formats (459,14; 149.723) with Django's nl formats, one date style per kind
# (tracker/formats). Years, ids and values in URLs, data- attributes and inputs are rendered
# with |unlocalize (a builtin here): tests/tracker/test_formats.py crawls for "2.024".
USE_THOUSAND_SEPARATOR = True
FORMAT_MODULE_PATH = ["tracker.formats"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))

# Sessions: server-side inactivity expiry (20 min) and an absolute lifetime (10 h).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 20 * 60)
SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_SECONDS", 10 * 3600)
# Activity moves the idle expiry forward at most once a minute (tracker.security's
# SessionTimeoutMiddleware), not by rewriting the session on every request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = env_int("SESSION_REFRESH_SECONDS", 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = 0 if DEBUG else 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts only from our own origin; inline style attributes are allowed (bar widths), inline
# scripts are not. Report plots are embedded as data: images.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# API tokens expire this many seconds after login (re-login rotates, DELETE /api/auth/token/
# revokes); a user who needs a second factor gets one only with a code from their authenticator
# (or from a verified session). Token auth comes first so a missing or expired token answers
# 401, not 403. Service accounts use per-study API keys (study.models.ApiKey) instead.
API_TOKEN_TTL = env_int("API_TOKEN_TTL", 8 * 3600)
# An API key lives this many days unless its issuer chooses fewer (at most a year).
API_KEY_DEFAULT_DAYS = env_int("API_KEY_DEFAULT_DAYS", 90)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "study.api.authentication.ExpiringTokenAuthentication",
        "study.api.authentication.ApiKeyAuthentication",
        "study.api.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["study.api.filters.ScopedFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "study.api.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("API_USER_THROTTLE", "6000/min"),
        # POST /api/auth/token/: per client address, and per username across addresses.
        "token_address": env_str("API_TOKEN_ADDRESS_THROTTLE", "30/min"),
        "token_username": env_str("API_TOKEN_USERNAME_THROTTLE", "10/min"),
    },
}
# The most rows one API page returns (?limit= above it is cut to it).
API_MAX_LIMIT = env_int("API_MAX_LIMIT", 1000)
SPECTACULAR_SETTINGS = {
    "TITLE": "Effect-study tracker API",
    "DESCRIPTION": (
        "Pseudonymised study data; every endpoint applies the same access rules as the pages. "
        "People sign in with POST /api/auth/token/ (username, password and, for roles that "
        "need it, the code of their authenticator app as `otp`) and send "
        "`Authorization: Token <token>`; service accounts send `Authorization: Api-Key <key>` "
        "with a per-study key a data manager issued."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs are for signed-in users (second factor passed where needed).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI and ReDoc from our own origin (drf-spectacular-sidecar), no inline script.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery: with no broker configured the tasks run in-process (eagerly), which is the embedded
# default of `make run`. Set CELERY_BROKER_URL (Redis) to run a real worker.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
# Results travel through Redis only where a workflow needs them (the monitor's chord); the run
# rows in the database hold every result that matters.
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL) or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = 3600
# acks_late + reject_on_worker_lost: a worker killed mid-task gets its task redelivered; the
# database row of a run is the record of truth, so redelivery is harmless (claim-before-work).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis redelivers unacknowledged tasks only after the visibility timeout: keep it longer than
# the longest task (analysis runs are limited to 30 minutes).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
# Imports have a queue of their own, so an analysis run never waits behind a long import: the
# workers consume both (`make worker`, the README's worker command: -Q celery,imports).
IMPORT_QUEUE = env_str("IMPORT_QUEUE", "imports")
CELERY_TASK_ROUTES = {
    "study.tasks.registry_import_validate_task": {"queue": IMPORT_QUEUE},
    "study.tasks.registry_import_apply_task": {"queue": IMPORT_QUEUE},
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "seal-audit-history": {"task": "study.tasks.audit_seal_task", "schedule": 300.0},
    # Nightly data-quality pass: rules opened and closed as queries (also run on every save).
    "data-quality": {"task": "study.tasks.data_quality_task", "schedule": 86400.0},
    "prune-idempotency-keys": {"task": "study.tasks.idempotency_prune_task", "schedule": 86400.0},
    # Hourly: e-mail reminders when a wave opens and when it becomes overdue (each once).
    "wave-reminders": {"task": "study.tasks.wave_reminders_task", "schedule": 3600.0},
    # Every kind of job (analysis runs, import dry runs and applies, monitor jobs) in one pass.
    "reconcile-jobs": {"task": "tracker.tasks.reconcile_jobs_task", "schedule": 300.0},
    # Hourly check for due periodic effect reports (a due schedule moves on once it has run).
    "analysis-report-schedules": {
        "task": "analysis.tasks.report_schedules_task",
        "schedule": 3600.0,
    },
}

# Throttling counters (API, token endpoint). Without CACHE_URL each process counts for itself;
# with several web processes set CACHE_URL=redis://… so they count together.
CACHE_URL = env_str("CACHE_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "effectstudie@localhost")
# Wave reminders go out for waves that opened or became overdue within this many days (no flood
# of old reminders when reminders are first switched on or the beat was down for long).
WAVE_REMINDER_MAX_AGE_DAYS = env_int("WAVE_REMINDER_MAX_AGE_DAYS", 14)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# --- analysis runs and jobs (layout-analysis) ---
# Who runs background jobs (tracker/jobs.py): "celery" hands them to Celery (a worker through the
# broker; in-process and synchronous when Celery is eager, as in the tests), "thread" runs them in
# background threads of the web process, so that starting a run on the embedded default (no
# broker) answers at once.
JOBS_RUNNER = env_str("JOBS_RUNNER", "celery" if CELERY_BROKER_URL else "thread")
if JOBS_RUNNER not in ("celery", "thread"):
    raise ImproperlyConfigured(f"JOBS_RUNNER must be 'celery' or 'thread', got {JOBS_RUNNER!r}")
JOBS_THREADS = env_int("JOBS_THREADS", 2)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Background threads write while the web process reads and writes: WAL lets readers and one
    # writer work at once, a write waits up to 20 s for the lock, and IMMEDIATE transactions take
    # the write lock at their start (no deadlock when a reading transaction starts to write).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
# One setting bounds a run (the task's time limit); the stale threshold is derived from it.
ANALYSIS_TIME_LIMIT = timedelta(minutes=env_int("ANALYSIS_TIME_LIMIT_MINUTES", 30))
# A run whose task keeps ending its worker is marked failed after this many attempts.
ANALYSIS_MAX_ATTEMPTS = env_int("ANALYSIS_MAX_ATTEMPTS", 3)
# The statistician's checks of issue 14 in every run (a run's "diagnostics" option overrides).
ANALYSIS_DIAGNOSTICS = env_bool("ANALYSIS_DIAGNOSTICS", default=True)
# Simulations behind a plan's pre-registered MDE when the plan names no number (issue 14).
PLANNED_MDE_REPS = env_int("PLANNED_MDE_REPS", 1000)
# A running run without a heartbeat for this long has lost its worker (longer than any run).
ANALYSIS_STALE_SECONDS = env_int(
    "ANALYSIS_STALE_SECONDS", int(ANALYSIS_TIME_LIMIT.total_seconds()) + 5 * 60
)
# A run queued this long whose message is not in the broker is sent again by the reconciler.
ANALYSIS_QUEUED_SECONDS = env_int("ANALYSIS_QUEUED_SECONDS", 10 * 60)

# --- study (layout-study) ---
# Registry imports: the largest file accepted (refused unread above it), how many deliveries a
# job that keeps ending its worker gets, and when the reconciler requeues a job: one still
# waiting after IMPORT_REQUEUE_QUEUED_SECONDS, or one working without a sign of life for
# IMPORT_STALE_SECONDS (longer than the tasks' 30-minute time limit).
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 50 * 1024 * 1024)
# Screening before anything of a file reaches the database (study/imports/screening.py): rows and
# columns counted while streaming, an XLSX's unpacked size and compression ratio.
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 250_000)
IMPORT_MAX_COLUMNS = env_int("IMPORT_MAX_COLUMNS", 300)
IMPORT_MAX_UNCOMPRESSED_BYTES = env_int("IMPORT_MAX_UNCOMPRESSED_BYTES", 200 * 1024 * 1024)
IMPORT_MAX_ZIP_RATIO = env_int("IMPORT_MAX_ZIP_RATIO", 100)
# Uploaded files wait here (never in the database) for their dry run and apply; the web process
# and the workers must share it. Deleted after the apply or a refusal, after
# IMPORT_RETENTION_SECONDS (default 0: at once).
IMPORT_SPOOL_DIR = env_str("IMPORT_SPOOL_DIR", str(BASE_DIR / "var" / "import-spool"))
IMPORT_RETENTION_SECONDS = env_int("IMPORT_RETENTION_SECONDS", 0)
IMPORT_MAX_ATTEMPTS = env_int("IMPORT_MAX_ATTEMPTS", 3)
IMPORT_STALE_SECONDS = env_int("IMPORT_STALE_SECONDS", 35 * 60)
IMPORT_REQUEUE_QUEUED_SECONDS = env_int("IMPORT_REQUEUE_QUEUED_SECONDS", 10 * 60)
# --- end study (layout-study) ---

# --- monitor and costs (layout-monitor) ---
# An extract uploaded to POST /api/monitor/run/ waits here for its job (household-level data:
# deleted when the job ends). With a broker, every worker must read the same directory.
MONITOR_UPLOAD_DIR = Path(env_str("MONITOR_UPLOAD_DIR", str(MEDIA_ROOT / "monitor")))
# Processes that count an extract without a broker (0: one per CPU); with a broker every
# municipality is a Celery task instead.
MONITOR_WORKERS = env_int("MONITOR_WORKERS", 0)
# How long `manage.py monitor` and `demo_monitor` wait for the workers' fan-out.
MONITOR_FANOUT_TIMEOUT_SECONDS = env_int("MONITOR_FANOUT_TIMEOUT_SECONDS", 3600)
# Monitor jobs (the API's): a job whose worker keeps stopping is failed after this many attempts;
# a running job without a sign of life for longer than its finishing task may take (an hour) has
# lost its worker; a job queued this long whose message is not in the broker is sent again.
MONITOR_JOB_MAX_ATTEMPTS = env_int("MONITOR_JOB_MAX_ATTEMPTS", 3)
MONITOR_JOB_STALE_SECONDS = env_int("MONITOR_JOB_STALE_SECONDS", 3600 + 5 * 60)
MONITOR_JOB_QUEUED_SECONDS = env_int("MONITOR_JOB_QUEUED_SECONDS", 10 * 60)
# A monitor job's status has an analysis run's choices: the OpenAPI schema keeps one enum for
# both, under the name it had.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    "RunStatusEnum": "analysis.monitor.models.MonitorJob.Status",
    "ArmKindEnum": "study.models.study.Arm.Kind",
    "StudyRoleEnum": "study.roles.Role",
    "MemberRoleEnum": "study.models.family.Member.Role",
    "FamilyStatusEnum": "study.models.family.Family.Status",
    "ContactKindEnum": "study.models.care.Contact.Kind",
    "PlanFreezeKindEnum": "analysis.models.PlanFreezeJob.Kind",
}

# --- audit (privacy) ---
# The sealer leaves the newest rows for this long, so rows of transactions still open when it
# runs (ids are handed out before commit) are sealed by the next run, never skipped.
AUDIT_SEAL_DELAY_SECONDS = env_int("AUDIT_SEAL_DELAY_SECONDS", 120)
# Every history row keeps the whole reason a person gave (corrections, unlocks, removals allow
# 300 characters; django-simple-history's default column holds 100 and PostgreSQL refused more).
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
# --- end audit (privacy) ---
