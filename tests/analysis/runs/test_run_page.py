"""Starting a run from the page: one run per study at a time (the service refuses a second, the
button is disabled meanwhile), a stalled run is picked up again instead of blocking the study,
and every run row links to its report."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from analysis.models import AnalysisRun, Report
from analysis.runs import services
from tracker import jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """Tasks are recorded, not run: a requested run stays queued."""
    calls: list[tuple] = []
    monkeypatch.setattr(jobs, "send_now", lambda name, *args, **options: calls.append(args))
    return calls


def _page(client, user, study) -> str:
    client.force_login(user)
    return client.get(f"/analysis/studies/{study.pk}/").content.decode()


def test_a_second_run_is_refused_while_the_first_is_queued_or_running(study, researcher, sent):
    first = services.analysis_run_request(study=study, user=researcher)
    with pytest.raises(services.RunAlreadyActive) as refused:
        services.analysis_run_request(study=study, user=researcher)
    assert refused.value.run == first
    AnalysisRun.objects.filter(pk=first.pk).update(
        status=AnalysisRun.Status.RUNNING, claimed_by="", heartbeat_at=timezone.now()
    )
    with pytest.raises(services.RunAlreadyActive):
        services.analysis_run_request(study=study, user=researcher)
    assert AnalysisRun.objects.filter(study=study).count() == 1
    AnalysisRun.objects.filter(pk=first.pk).update(status=AnalysisRun.Status.SUCCEEDED)
    assert services.analysis_run_request(study=study, user=researcher).pk != first.pk


def test_the_button_is_disabled_while_a_run_is_queued(client, study, researcher, sent):
    page = _page(client, researcher, study)
    assert 'id="start-run"' in page and "disabled" not in page.split('id="start-run"')[1][:80]
    run = services.analysis_run_request(study=study, user=researcher)
    page = _page(client, researcher, study)
    assert 'id="start-run" disabled' in page
    assert f"Analysis {run.pk} is queued" in page
    assert "data-status-url" in page  # its progress bar polls the run's status
    response = client.post(f"/analysis/studies/{study.pk}/run/", follow=True)
    assert "still queued" in response.content.decode()
    assert AnalysisRun.objects.filter(study=study).count() == 1


def test_a_stalled_run_does_not_block_the_study_and_is_picked_up_again(
    client, study, researcher, sent, django_capture_on_commit_callbacks
):
    run = services.analysis_run_request(study=study, user=researcher)
    sent.clear()
    long_ago = timezone.now() - timedelta(hours=2)
    AnalysisRun.objects.filter(pk=run.pk).update(created_at=long_ago, heartbeat_at=long_ago)
    page = _page(client, researcher, study)
    assert 'id="start-run" disabled' not in page  # its message was lost: the button works
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(services.RunAlreadyActive):
            services.analysis_run_request(study=study, user=researcher)
    assert sent == [(run.pk,)]  # the reconciler sent the stalled run again
    assert 'id="start-run" disabled' in _page(client, researcher, study)


def test_every_run_row_links_to_its_report(client, study, researcher):
    done = AnalysisRun.objects.create(study=study, status="succeeded", results={})
    report = Report.objects.create(run=done, study=study, version=1, html="<p>r</p>")
    failed = AnalysisRun.objects.create(study=study, status="failed", error="boom")
    page = _page(client, researcher, study)
    row = page.split(f'data-run="{done.pk}"')[1].split("</tr>")[0]
    assert f'href="/analysis/reports/{report.pk}/"' in row
    failed_row = page.split(f'data-run="{failed.pk}"')[1].split("</tr>")[0]
    assert "/analysis/reports/" not in failed_row


def test_the_api_answers_409_for_a_second_run_and_names_each_runs_report(study, researcher, sent):
    api = APIClient()
    api.force_authenticate(researcher)
    first = api.post("/api/analysis-runs/", {"study": study.pk}, format="json")
    assert first.status_code == 201 and first.json()["report"] is None
    second = api.post("/api/analysis-runs/", {"study": study.pk}, format="json")
    assert second.status_code == 409 and second.json()["active_run"] == first.json()["id"]
    run = AnalysisRun.objects.get(pk=first.json()["id"])
    AnalysisRun.objects.filter(pk=run.pk).update(status="succeeded")
    report = Report.objects.create(run=run, study=study, version=1, html="<p>r</p>")
    (listed,) = api.get("/api/analysis-runs/").json()["results"]
    assert listed["report"] == report.pk
