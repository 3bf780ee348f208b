"""Registry import through the API, per role, including 404 outside the user's scope."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from study.models import ImportBatch, IndicatorValue
from study.roles import Role
from tests.factories import make_family, make_user
from tests.otp import api_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def fam(study, researcher):
    return make_family(study, user=researcher)


def client_for(user):
    return api_verified(user) if user else APIClient()


def upload(client, study, text, capture):
    with capture(execute=True):
        return client.post(
            "/api/imports/",
            {
                "study": study.pk,
                "file": SimpleUploadedFile("x.csv", text.encode()),
                "layout": "auto",
            },
            format="multipart",
        )


def test_researcher_uploads_polls_and_applies(researcher, fam, django_capture_on_commit_callbacks):
    client = client_for(researcher)
    response = upload(
        client,
        fam.study,
        f"pseudonym,year,bijstand\n{fam.pseudonym},2020,2\n",
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 201, response.json()
    batch_id = response.json()["id"]
    detail = client.get(f"/api/imports/{batch_id}/").json()
    assert detail["status"] == "validated" and detail["summary"]["new"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/imports/{batch_id}/apply/")
    assert response.status_code == 202
    assert client.get(f"/api/imports/{batch_id}/").json()["status"] == "applied"
    assert IndicatorValue.objects.filter(wave__family=fam).count() == 1
    # Applying again is refused with a readable error.
    again = client.post(f"/api/imports/{batch_id}/apply/")
    assert again.status_code == 400 and "dry run" in str(again.json())
    assert [b["id"] for b in client.get("/api/imports/").json()["results"]] == [batch_id]


def test_problems_come_back_by_row_and_column(researcher, fam, django_capture_on_commit_callbacks):
    client = client_for(researcher)
    response = upload(
        client,
        fam.study,
        f"pseudonym,year,bijstand\n{fam.pseudonym},2020,x\n",
        django_capture_on_commit_callbacks,
    )
    detail = client.get(f"/api/imports/{response.json()['id']}/").json()
    assert detail["status"] == "failed"
    assert detail["errors"][0]["row"] == 2 and detail["errors"][0]["column"] == "bijstand"


def test_missing_file_is_a_readable_400(researcher, fam):
    response = client_for(researcher).post(
        "/api/imports/", {"study": fam.study.pk}, format="multipart"
    )
    assert response.status_code == 400 and "file" in response.json()


@pytest.mark.parametrize("who", ["coach", "gemeente", "other researcher", "anonymous"])
def test_other_roles_get_404_or_401(who, fam, researcher, coach, gemeente_user):
    batch = ImportBatch.objects.create(
        study=fam.study, filename="x.csv", sha256="0", created_by=researcher
    )
    user = {
        "coach": coach,
        "gemeente": gemeente_user,
        "other researcher": make_user(Role.RESEARCHER),
        "anonymous": None,
    }[who]
    client = client_for(user)
    expected = (401, 403) if user is None else (404,)
    assert client.get(f"/api/imports/{batch.pk}/").status_code in expected
    assert client.post(f"/api/imports/{batch.pk}/apply/").status_code in expected
    response = client.post(
        "/api/imports/",
        {"study": fam.study.pk, "file": SimpleUploadedFile("x.csv", b"pseudonym,year\n")},
        format="multipart",
    )
    assert response.status_code in expected
    if user is not None:
        assert client.get("/api/imports/").json()["results"] == []
    assert not ImportBatch.objects.exclude(pk=batch.pk).exists()
