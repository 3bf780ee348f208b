"""Two-factor authentication: required for researchers and data managers, optional for coaches."""

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _otp_on(settings):
    settings.OTP_REQUIRED = True


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_researcher_without_second_factor_is_sent_to_verification(client):
    client.force_login(make_user("researcher"))
    response = client.get(reverse("study:home"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/")


def test_researcher_registers_an_authenticator_and_gets_in(client):
    user = make_user("researcher")
    client.force_login(user)
    page = client.get("/accounts/2fa/?next=/")
    assert "otp-secret" in page.content.decode()
    device = TOTPDevice.objects.get(user=user)
    response = client.post("/accounts/2fa/?next=/", {"token": _code(device)})
    assert response.status_code == 302
    assert client.get(reverse("study:home")).status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_a_wrong_code_is_refused_with_a_message(client):
    client.force_login(make_user("datamanager"))
    client.get("/accounts/2fa/")
    response = client.post("/accounts/2fa/", {"token": "000000"})
    assert response.status_code == 200
    assert client.get(reverse("study:home")).status_code == 302


def test_wijkcoach_does_not_need_a_second_factor(client):
    client.force_login(make_user("wijkcoach"))
    assert client.get(reverse("study:caseload")).status_code == 200
