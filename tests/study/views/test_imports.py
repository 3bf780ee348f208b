"""Import pages: upload -> dry run page with problems or preview -> import; roles."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from study.models import ImportBatch, IndicatorValue
from study.roles import Role
from tests.factories import make_family, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def fam(study, researcher):
    return make_family(study, user=researcher)


def post_file(client, study, text, name="extract.csv", capture=None):
    upload = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    with capture(execute=True):
        return client.post(
            reverse("study:import_list", args=[study.pk]), {"file": upload, "layout": "auto"}
        )


def test_researcher_uploads_sees_problems_then_imports_a_good_file(
    client, researcher, fam, django_capture_on_commit_callbacks
):
    client.force_login(researcher)
    page = client.get(reverse("study:import_list", args=[fam.study.pk]))
    assert page.status_code == 200 and b"dry run" in page.content

    bad = f"pseudonym,year,bijstand\n{fam.pseudonym},2020,1\n{fam.pseudonym},2021,eleven\n"
    response = post_file(client, fam.study, bad, capture=django_capture_on_commit_callbacks)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "study:import_detail", args=[batch.pk]
    )
    page = client.get(response.url)
    text = page.content.decode()
    assert "1 problem" in text and "Nothing was saved" in text
    assert "&#x27;eleven&#x27; is not a number" in text and "<td>3</td><td>bijstand</td>" in text
    assert 'id="apply-import"' not in text
    assert not IndicatorValue.objects.exists()
    problems = client.get(reverse("study:import_errors", args=[batch.pk]))
    assert b"'eleven' is not a number" in problems.content

    good = f"pseudonym,year,bijstand\n{fam.pseudonym},2020,1\n{fam.pseudonym},2021,2\n"
    response = post_file(client, fam.study, good, capture=django_capture_on_commit_callbacks)
    page = client.get(response.url)
    assert 'id="apply-import"' in page.content.decode() and b"would add 2" in page.content
    batch = ImportBatch.objects.filter(status="validated").get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("study:import_apply", args=[batch.pk]))
    assert response.status_code == 302
    assert IndicatorValue.objects.filter(wave__family=fam).count() == 2
    status = client.get(reverse("study:import_status", args=[batch.pk])).json()
    assert status["status"] == "applied" and status["finished"] is True


def test_applying_a_failed_batch_shows_an_error_and_saves_nothing(
    client, researcher, fam, django_capture_on_commit_callbacks
):
    client.force_login(researcher)
    post_file(
        client,
        fam.study,
        "pseudonym,year,bijstand\nnobody,2020,1\n",
        capture=django_capture_on_commit_callbacks,
    )
    batch = ImportBatch.objects.get()
    response = client.post(reverse("study:import_apply", args=[batch.pk]), follow=True)
    assert b"Only a file whose dry run found no problems" in response.content
    assert not IndicatorValue.objects.exists()


@pytest.mark.parametrize("role", [Role.WIJKCOACH, Role.GEMEENTE, "other researcher", None])
def test_other_roles_cannot_see_or_use_imports(client, study, fam, researcher, role):
    batch = ImportBatch.objects.create(
        study=study, filename="x.csv", sha256="0", created_by=researcher
    )
    if role == "other researcher":
        user = make_user(Role.RESEARCHER)
    elif role is None:
        user = None
    else:
        user = make_user(role)
        if role == Role.GEMEENTE:
            from study.services.studies import membership_grant

            membership_grant(study=study, user=user, role=Role.GEMEENTE)
    if user:
        client.force_login(user)
    for url in (
        reverse("study:import_list", args=[study.pk]),
        reverse("study:import_detail", args=[batch.pk]),
        reverse("study:import_status", args=[batch.pk]),
        reverse("study:import_errors", args=[batch.pk]),
    ):
        response = client.get(url)
        assert response.status_code in (302, 403, 404), url
        if response.status_code == 302:
            assert "/accounts/login/" in response.url
    response = client.post(reverse("study:import_apply", args=[batch.pk]))
    assert response.status_code in (302, 403, 404)


def test_template_has_a_row_per_family_and_wave_year_and_imports_cleanly(
    client, researcher, fam, django_capture_on_commit_callbacks
):
    client.force_login(researcher)
    response = client.get(reverse("study:import_template", args=[fam.study.pk]))
    lines = response.content.decode().splitlines()
    header = lines[0].split(",")
    assert header[:3] == ["pseudonym", "year", "bijstand"] and "linkage_key" not in header
    assert len(lines) == 1 + fam.waves.count()
    filled = [lines[0]] + [line.replace(",,", ",1,", 1) for line in lines[1:]]
    response = post_file(
        client, fam.study, "\n".join(filled) + "\n", capture=django_capture_on_commit_callbacks
    )
    batch = ImportBatch.objects.get()
    assert batch.status == "validated", batch.errors
    assert batch.summary["new"] == fam.waves.count()
