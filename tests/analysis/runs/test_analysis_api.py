"""Analysis API: researchers start runs; the gemeente lists published reports only."""

import pytest
from rest_framework.test import APIClient

from analysis.models import AnalysisRun, Report

pytestmark = pytest.mark.django_db


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _report(study, published):
    run = AnalysisRun.objects.create(study=study, status="succeeded", results={"questions": []})
    return Report.objects.create(
        run=run, study=study, version=run.pk, html="<p>r</p>", published=published
    )


def test_researcher_starts_a_run(
    researcher, study, django_capture_on_commit_callbacks, monkeypatch
):
    from analysis.runs import services

    monkeypatch.setattr(services, "analysis_compute", lambda **kw: ({"questions": []}, "0" * 64))
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(researcher).post(
            "/api/analysis-runs/", {"study": study.pk}, format="json"
        )
    assert response.status_code == 201
    assert AnalysisRun.objects.get(pk=response.json()["id"]).status == "succeeded"


def test_gemeente_cannot_start_runs_and_sees_published_reports_only(gemeente_user, study):
    client = _client(gemeente_user)
    assert client.post("/api/analysis-runs/", {"study": study.pk}, format="json").status_code == 404
    draft, published = _report(study, False), _report(study, True)
    ids = [r["id"] for r in client.get("/api/reports/").json()["results"]]
    assert ids == [published.pk]
    assert client.get(f"/api/reports/{draft.pk}/").status_code == 404
    assert client.get("/api/analysis-runs/").json()["results"] == []


def test_coach_sees_no_runs(coach, family):
    assert _client(coach).get("/api/analysis-runs/").json()["results"] == []
