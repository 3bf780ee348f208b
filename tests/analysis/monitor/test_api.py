"""GET /api/monitor/reports/ per role (same rule as the pages), saving from the run endpoint,
and publishing through the API."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from analysis.monitor.models import MonitorReport
from analysis.monitor.services import monitor_report_publish

from .helpers_monitor import random_extract, stored_reports

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def reports(tmp_path, researcher):
    stored = stored_reports(tmp_path)
    monitor_report_publish(report=stored["Almelo"], user=researcher)
    monitor_report_publish(report=stored["Borne"], user=researcher)
    return stored


def ids(response):
    assert response.status_code == 200, response.content
    data = response.json()
    rows = data["results"] if isinstance(data, dict) and "results" in data else data
    return {row["id"] for row in rows}


@pytest.mark.parametrize("role", ["researcher", "data_manager"])
def test_researchers_and_data_managers_list_every_report(api, request, reports, role):
    api.force_authenticate(request.getfixturevalue(role))
    assert ids(api.get("/api/monitor/reports/")) == {r.pk for r in reports.values()}


def test_gemeente_lists_only_published_reports_of_its_municipality(
    api, study, gemeente_user, reports
):
    api.force_authenticate(gemeente_user)
    assert ids(api.get("/api/monitor/reports/")) == {reports["Almelo"].pk}
    assert ids(api.get("/api/monitor/reports/?municipality=Borne")) == set()
    assert api.get(f"/api/monitor/reports/{reports['Borne'].pk}/").status_code == 404
    assert api.get(f"/api/monitor/reports/{reports['Hengelo'].pk}/").status_code == 404
    detail = api.get(f"/api/monitor/reports/{reports['Almelo'].pk}/").json()
    assert detail["municipality"] == "Almelo" and detail["published"] is True


def test_api_never_returns_a_count_from_one_to_nine(api, study, gemeente_user, reports):
    api.force_authenticate(gemeente_user)
    detail = api.get(f"/api/monitor/reports/{reports['Almelo'].pk}/").json()
    counts = [
        v
        for row in detail["tables"]["wijken"] + detail["tables"]["municipalities"]
        for k, v in row.items()
        if k not in ("municipality", "wijk") and not k.startswith("pct_")
    ]
    assert "*" in counts
    assert not any(isinstance(v, int) and 1 <= v <= 9 for v in counts)


def test_wijkcoach_lists_nothing_and_anonymous_is_refused(api, coach, reports):
    api.force_authenticate(coach)
    assert ids(api.get("/api/monitor/reports/")) == set()
    api.force_authenticate(None)
    assert api.get("/api/monitor/reports/").status_code in (401, 403)


def test_run_with_save_stores_unpublished_reports(
    api, researcher, tmp_path, django_capture_on_commit_callbacks
):
    path = tmp_path / "extract.csv"
    random_extract(9, households=300).to_csv(path, index=False)
    api.force_authenticate(researcher)
    upload = SimpleUploadedFile("extract.csv", path.read_bytes(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/monitor/run/", {"file": upload, "year": 2014, "save": "true"}, format="multipart"
        )
    assert response.status_code == 202, response.content
    job = api.get(response.json()["url"]).json()
    assert job["status"] == "succeeded" and job["save"] is True
    saved = MonitorReport.objects.filter(pk__in=job["result"]["saved_reports"])
    assert saved.count() == 5
    assert all(r.published_at is None and r.created_by == researcher for r in saved)
    assert {r.source_name for r in saved} == {"extract.csv"}


def test_a_broken_extract_with_save_stores_nothing(
    api, researcher, tmp_path, django_capture_on_commit_callbacks
):
    frame = random_extract(13, households=200)
    frame.loc[frame.index[frame["year"] == 2014][0], "ww"] = -3
    api.force_authenticate(researcher)
    upload = SimpleUploadedFile("broken.csv", frame.to_csv(index=False).encode(), "text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/monitor/run/", {"file": upload, "year": 2014, "save": "true"}, format="multipart"
        )
    job = api.get(response.json()["url"]).json()
    assert job["status"] == "failed"
    assert any("column 'ww'" in error for error in job["errors"])
    assert not MonitorReport.objects.exists()


def test_publish_through_the_api(api, researcher, study, gemeente_user, reports):
    hengelo = reports["Hengelo"]
    api.force_authenticate(gemeente_user)
    assert api.post(f"/api/monitor/reports/{hengelo.pk}/publish/").status_code == 403
    api.force_authenticate(researcher)
    response = api.post(f"/api/monitor/reports/{hengelo.pk}/publish/")
    assert response.status_code == 200
    assert response.json()["published"] is True


def test_a_researcher_of_another_municipality_cannot_publish_or_see_its_reports(api, reports):
    from tests.factories import make_member, make_study

    stranger = make_member(make_study(municipality="Zwolle"), "researcher")
    api.force_authenticate(stranger)
    assert ids(api.get("/api/monitor/reports/")) == set()
    response = api.post(f"/api/monitor/reports/{reports['Hengelo'].pk}/publish/")
    assert response.status_code == 404
    reports["Hengelo"].refresh_from_db()
    assert reports["Hengelo"].published_at is None
