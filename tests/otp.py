"""Second factors in tests, the supported way: a confirmed authenticator (TOTP device), its codes,
and logins that pass the real verification page or the token endpoint with a valid code."""

from __future__ import annotations

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

PASSWORD = "pw-for-tests-123"  # tests.factories.make_user's default


def authenticator(user) -> TOTPDevice:
    """The user's confirmed authenticator (made on first use)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test phone", confirmed=True)


def code(device: TOTPDevice) -> str:
    """A valid code the device has not accepted yet (django-otp refuses a code twice, and any
    code of a time step before the last one it accepted)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    step = max(totp.t(), device.last_t + 1)
    totp.time = device.t0 + step * device.step
    return f"{totp.token():0{device.digits}d}"


def login_verified(client, user):
    """Log the test client in and pass the verification page with a valid code."""
    client.force_login(user)
    response = client.post("/accounts/2fa/", {"token": code(authenticator(user))})
    assert response.status_code == 302, response.content[:500]
    return client


def token_for(user, password: str = PASSWORD) -> str:
    """An API token requested with username, password and a valid code."""
    response = APIClient().post(
        "/api/auth/token/",
        {"username": user.username, "password": password, "otp": code(authenticator(user))},
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def api_verified(user, password: str = PASSWORD) -> APIClient:
    """An API client with a token issued with a second factor."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user, password)}")
    return client
