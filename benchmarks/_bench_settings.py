"""Settings of the benchmark server: production settings (DEBUG off) with only what plain HTTP
on 127.0.0.1 needs changed, and a URL configuration with one extra bare endpoint."""

from tracker.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks._bare_urls"
SECURE_SSL_REDIRECT = False  # plain HTTP on localhost
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
OTP_REQUIRED = False  # the simulated researchers browse with a seeded session, no TOTP prompt
