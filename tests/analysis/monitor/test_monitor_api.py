"""The monitor API: researchers and data managers only, suppressed aggregates, clear errors."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from .helpers_monitor import household_rows, three_years

pytestmark = pytest.mark.django_db


def user_with(role):
    user = User.objects.create_user(username=f"u-{role}", password="x")
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def extract_upload(tmp_path, mutations=None):
    rows = []
    for i in range(12):
        rows += three_years(
            f"h{i}",
            y0={"bijstand": 1, "adult_outreach_care": 1, "child_ots": 1},
            y1={"child_ots": 1},
            y2={"child_ots": 1},
        )
    frame = household_rows(rows)
    for (row, col), value in (mutations or {}).items():
        frame.loc[row, col] = value
    return SimpleUploadedFile("extract.csv", frame.to_csv(index=False).encode(), "text/csv")


def post(user, data):
    client = APIClient()
    if user:
        client.force_authenticate(user)
    return client.post(reverse("monitor_api:run"), data, format="multipart")


@pytest.mark.parametrize("role", ["researcher", "datamanager"])
def test_researcher_and_data_manager_get_the_counts(role, tmp_path):
    response = post(user_with(role), {"file": extract_upload(tmp_path), "year": 2014})
    assert response.status_code == 200, response.content
    almelo = response.json()["municipalities"][0]
    assert almelo["households_with_child"] == 12
    assert almelo["mpg"] == 12


@pytest.mark.parametrize("role", ["gemeente", "wijkcoach", None])
def test_other_roles_and_anonymous_are_refused(role, tmp_path):
    user = user_with(role) if role else None
    response = post(user, {"file": extract_upload(tmp_path), "year": 2014})
    assert response.status_code in (401, 403)


def test_small_counts_are_suppressed(tmp_path):
    upload = extract_upload(
        tmp_path, {(0, "n_children"): 0, (3, "n_children"): 0, (6, "n_children"): 0}
    )
    response = post(user_with("researcher"), {"file": upload, "year": 2014})
    assert response.status_code == 200
    almelo = response.json()["municipalities"][0]
    # Three of the twelve households have no child in 2014: 9 households, 9 MPG, both hidden.
    assert almelo["households_with_child"] == "*"
    assert almelo["mpg"] == "*"
    assert almelo["mpg_total_cost_eur"] == "*"


def test_invalid_extract_gives_row_and_column(tmp_path):
    upload = extract_upload(tmp_path, {(1, "ww"): -4})
    response = post(user_with("researcher"), {"file": upload, "year": 2014})
    assert response.status_code == 400
    assert "line 3, column 'ww': -4 is negative" in response.json()["errors"]
