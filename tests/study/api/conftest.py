"""The API tests run under the production rule for second factors (OTP_REQUIRED on): their clients
sign in with a token requested with a valid authenticator code (tests/otp.py), never by forcing a
user onto the request."""

import pytest


@pytest.fixture(autouse=True)
def second_factor_required(settings):
    settings.OTP_REQUIRED = True
