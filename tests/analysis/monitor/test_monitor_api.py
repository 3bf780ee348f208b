"""The monitor API: researchers and data managers only, a job outside the request, suppressed
aggregates, clear errors."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from analysis.monitor import services
from analysis.monitor.models import MonitorJob, MonitorReport
from study.services.studies import membership_grant
from tests.factories import make_study

from .helpers_monitor import household_rows, three_years

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.MONITOR_UPLOAD_DIR = tmp_path / "uploads"
    return settings.MONITOR_UPLOAD_DIR


def user_with(role):
    """A user holding `role` in a study of Almelo, the municipality of the extracts here."""
    user = User.objects.create_user(username=f"u-{role}", password="x")
    if role:
        membership_grant(study=make_study(municipality="Almelo"), user=user, role=role)
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


def client_of(user):
    client = APIClient()
    if user:
        client.force_authenticate(user)
    return client


def post(user, data):
    return client_of(user).post(reverse("monitor_api:run"), data, format="multipart")


@pytest.fixture
def run_job(django_capture_on_commit_callbacks):
    """POST an extract (202), let the job run (eager in tests, after the commit), poll it."""

    def run(user, data):
        with django_capture_on_commit_callbacks(execute=True):
            accepted = post(user, data)
        assert accepted.status_code == 202, accepted.content
        poll = client_of(user).get(accepted.json()["url"])
        assert poll.status_code == 200, poll.content
        return poll.json()

    return run


def uploads_left(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file()]


@pytest.mark.parametrize("role", ["researcher", "datamanager"])
def test_researcher_and_data_manager_get_the_counts(role, tmp_path, run_job):
    job = run_job(user_with(role), {"file": extract_upload(tmp_path), "year": 2014})
    assert job["status"] == "succeeded" and job["progress"] == 100
    almelo = job["result"]["municipalities"][0]
    assert almelo["households_with_child"] == 12
    assert almelo["mpg"] == 12
    assert "saved_reports" not in job["result"]


def test_the_run_answers_202_with_a_job_to_poll_and_computes_nothing_in_the_request(
    tmp_path, upload_dir
):
    response = post(user_with("researcher"), {"file": extract_upload(tmp_path), "year": 2014})
    assert response.status_code == 202
    assert len(uploads_left(upload_dir)) == 1  # the extract waits for the job
    body = response.json()
    assert body["status"] == "queued" and body["result"] == {}
    assert response["Location"] == body["url"]
    assert body["url"].endswith(reverse("monitor_api:job", kwargs={"pk": body["id"]}))
    job = MonitorJob.objects.get(pk=body["id"])
    assert job.status == MonitorJob.Status.QUEUED and job.params["year"] == 2014


@pytest.mark.parametrize("role", ["gemeente", "wijkcoach", None])
def test_other_roles_and_anonymous_are_refused(role, tmp_path):
    user = user_with(role) if role else None
    response = post(user, {"file": extract_upload(tmp_path), "year": 2014})
    assert response.status_code in (401, 403)
    assert not MonitorJob.objects.exists()


@pytest.mark.parametrize("role", ["gemeente", "wijkcoach", None])
def test_other_roles_and_anonymous_cannot_poll_a_job(role, tmp_path, run_job):
    job = run_job(user_with("researcher"), {"file": extract_upload(tmp_path), "year": 2014})
    response = client_of(user_with(role) if role else None).get(job["url"])
    assert response.status_code in (401, 403, 404)


def test_small_counts_are_suppressed(tmp_path, run_job):
    upload = extract_upload(
        tmp_path, {(0, "n_children"): 0, (3, "n_children"): 0, (6, "n_children"): 0}
    )
    job = run_job(user_with("researcher"), {"file": upload, "year": 2014})
    assert job["status"] == "succeeded"
    almelo = job["result"]["municipalities"][0]
    # Three of the twelve households have no child in 2014: 9 households, 9 MPG, both hidden.
    assert almelo["households_with_child"] == "*"
    assert almelo["mpg"] == "*"
    assert almelo["mpg_total_cost_eur"] == "*"
    assert MonitorJob.objects.get(pk=job["id"]).result["municipalities"][0]["mpg"] == "*"


def test_invalid_extract_fails_the_job_with_row_and_column(tmp_path, run_job):
    upload = extract_upload(tmp_path, {(1, "ww"): -4})
    job = run_job(user_with("researcher"), {"file": upload, "year": 2014})
    assert job["status"] == "failed"
    assert "line 3, column 'ww': -4 is negative" in job["errors"]
    assert job["result"] == {}


def test_an_extract_without_the_year_names_the_uploaded_file(tmp_path, run_job):
    job = run_job(user_with("researcher"), {"file": extract_upload(tmp_path), "year": 2030})
    assert job["status"] == "failed"
    assert job["errors"] == ["extract.csv: no rows for year 2030"]


def test_the_extract_is_deleted_when_the_job_ends(tmp_path, run_job, upload_dir):
    ok = run_job(user_with("researcher"), {"file": extract_upload(tmp_path), "year": 2014})
    broken = extract_upload(tmp_path, {(1, "ww"): -4})
    failed = run_job(User.objects.get(username="u-researcher"), {"file": broken, "year": 2014})
    assert (ok["status"], failed["status"]) == ("succeeded", "failed")
    assert uploads_left(upload_dir) == []


def test_a_job_is_claimed_once(tmp_path, django_capture_on_commit_callbacks):
    researcher = user_with("researcher")
    with django_capture_on_commit_callbacks(execute=False) as sent:
        response = post(researcher, {"file": extract_upload(tmp_path), "year": 2014})
    assert len(sent) == 1  # the job's task is sent once the request's transaction commits
    job_id = response.json()["id"]
    first = services.monitor_job_execute(job_id=job_id)
    assert first.status == MonitorJob.Status.SUCCEEDED and first.attempts == 1
    assert services.monitor_job_execute(job_id=job_id) is None  # a redelivered task: no claim
    again = MonitorJob.objects.get(pk=job_id)
    assert again.attempts == 1 and again.finished_at == first.finished_at


def test_a_finished_job_ignores_a_late_finish(tmp_path, run_job):
    job = run_job(user_with("researcher"), {"file": extract_upload(tmp_path), "year": 2014})
    assert services.monitor_job_finish(job_id=job["id"], attempt=1, results=[]) is None
    assert MonitorJob.objects.get(pk=job["id"]).status == MonitorJob.Status.SUCCEEDED


def test_a_job_whose_counting_breaks_fails_with_a_readable_error(
    tmp_path, run_job, monkeypatch, upload_dir, settings
):
    settings.CELERY_BROKER_URL = ""  # the process pool's way (CI sets a broker URL)

    def broken(**arguments):
        raise MemoryError("the worker ran out of memory")

    monkeypatch.setattr(services.pipeline, "monitor_pieces", broken)
    job = run_job(user_with("researcher"), {"file": extract_upload(tmp_path), "year": 2014})
    assert job["status"] == "failed"
    assert job["errors"] == ["MemoryError: the worker ran out of memory"]
    assert uploads_left(upload_dir) == []


def test_the_errback_of_the_fan_out_fails_the_job(
    tmp_path, django_capture_on_commit_callbacks, upload_dir
):
    from analysis.tasks import monitor_job_fail_task

    with django_capture_on_commit_callbacks(execute=False):
        response = post(user_with("researcher"), {"file": extract_upload(tmp_path), "year": 2014})
    job_id = response.json()["id"]
    MonitorJob.objects.filter(pk=job_id).update(status=MonitorJob.Status.RUNNING, attempts=1)
    monitor_job_fail_task(None, RuntimeError("worker lost"), None, job_id, 1)
    job = MonitorJob.objects.get(pk=job_id)
    assert job.status == MonitorJob.Status.FAILED
    assert job.error == "counting failed: RuntimeError: worker lost"
    assert uploads_left(upload_dir) == []


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_with_a_broker_the_job_fans_out_one_task_per_municipality(
    tmp_path, run_job, settings, kind
):
    """Eager in tests: the chord of chunk tasks and the job's finishing task run here. A Parquet
    extract is one task per municipality; a CSV, which no task can read in parts, is one task."""
    rows = []
    for municipality in ("Almelo", "Borne"):
        for i in range(12):
            rows += three_years(
                f"{municipality}-{i}",
                municipality=municipality,
                y0={"bijstand": 1, "adult_outreach_care": 1, "child_ots": 1},
                y1={"child_ots": 1},
                y2={"child_ots": 1},
            )
    frame = household_rows(rows)
    if kind == "csv":
        upload = SimpleUploadedFile("two.csv", frame.to_csv(index=False).encode(), "text/csv")
    else:
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        upload = SimpleUploadedFile("two.parquet", buffer.getvalue(), "application/octet-stream")
    settings.CELERY_BROKER_URL = "redis://broker.invalid:6379/0"
    researcher = user_with("researcher")
    membership_grant(study=make_study(municipality="Borne"), user=researcher, role="researcher")
    job = run_job(researcher, {"file": upload, "year": 2014, "save": True})
    assert job["status"] == "succeeded" and job["progress"] == 100
    assert [m["mpg"] for m in job["result"]["municipalities"]] == [12, 12]
    stored = MonitorJob.objects.get(pk=job["id"])
    chunks = 2 if kind == "parquet" else 1
    assert (stored.chunks, stored.chunks_done, stored.attempts) == (chunks, chunks, 1)


def test_an_extract_with_a_municipality_the_user_does_not_manage_fails_and_stores_nothing(
    tmp_path, run_job
):
    """The monitor is scoped by municipality: a researcher of Almelo's study only cannot run
    (nor save) Borne's figures, even within an extract that holds Almelo too."""
    rows = []
    for municipality in ("Almelo", "Borne"):
        for i in range(12):
            rows += three_years(
                f"{municipality}-{i}",
                municipality=municipality,
                y0={"bijstand": 1, "adult_outreach_care": 1, "child_ots": 1},
            )
    upload = SimpleUploadedFile(
        "two.csv", household_rows(rows).to_csv(index=False).encode(), "text/csv"
    )
    job = run_job(user_with("researcher"), {"file": upload, "year": 2014, "save": True})
    assert job["status"] == "failed" and not job["result"]
    assert job["errors"] == [
        "Borne: you are no researcher or data manager of a study in this municipality."
    ]
    assert not MonitorReport.objects.exists()


def test_a_user_who_manages_no_municipality_cannot_start_a_job(tmp_path):
    """A researcher's role counts in their studies only: without one, the run is refused."""
    response = post(user_with(None), {"file": extract_upload(tmp_path), "year": 2014})
    assert response.status_code == 403 and response.json()["detail"]
