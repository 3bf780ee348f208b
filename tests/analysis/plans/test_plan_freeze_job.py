"""Freezing an analysis plan is a job (tracker/jobs.py): the request records what is to be frozen
and freezes nothing; the job computes the pre-registered MDEs with progress per outcome and only
then freezes the version with them, atomically; a failure leaves the plan unfrozen with a
readable error on the page; one freeze per study at a time (409 in the API, the button disabled
with its reason); a stalled freeze is picked up by the reconciler. Pages and API per role."""

import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from analysis.effects import planned_mde
from analysis.models import AnalysisPlan, PlanFreezeJob
from analysis.plans import plan_power, plan_services
from analysis.plans.job import PLAN_FREEZE_JOB
from study.roles import Role
from study.services.studies import membership_grant
from tests.factories import make_study, make_user
from tracker import jobs
from tracker.job_kinds import jobs_reconcile_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """Tasks are recorded, not run: a requested freeze stays queued."""
    calls: list[tuple] = []
    monkeypatch.setattr(jobs, "send_now", lambda name, *args, **options: calls.append(args))
    return calls


@pytest.fixture
def dead_claimant():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}:1"


def _heartbeats(monkeypatch) -> list[dict]:
    seen: list[dict] = []
    original = jobs.Claim.heartbeat

    def recording(self, **fields):
        seen.append(fields)
        return original(self, **fields)

    monkeypatch.setattr(jobs.Claim, "heartbeat", recording)
    return seen


def test_the_request_freezes_nothing_and_the_job_freezes_with_the_mdes_and_progress(
    study, researcher, sent, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = plan_services.analysis_plan_freeze_request(study=study, user=researcher)
    assert job.status == PlanFreezeJob.Status.QUEUED and sent == [(job.pk,)]
    assert not AnalysisPlan.objects.filter(study=study).exists()  # no half-frozen plan
    assert "planned_mde" not in job.content

    beats = _heartbeats(monkeypatch)
    done = plan_services.analysis_plan_freeze_execute(job_id=job.pk)
    job.refresh_from_db()
    plan = AnalysisPlan.objects.get(study=study)
    assert done.status == job.status == PlanFreezeJob.Status.SUCCEEDED and job.plan == plan
    assert (job.progress, job.attempts, plan.version, plan.frozen_by) == (100, 1, 1, researcher)

    # The MDEs are the ones the simulation gives for the recorded content, computed directly.
    expected = plan_power.with_planned_mde(study=study, content=job.content)["planned_mde"]
    assert plan.content["planned_mde"] == expected
    computed = [code for code, m in expected["outcomes"].items() if m["computed"]]
    assert computed, expected  # the planned numbers of families (no family enrolled yet)
    # One progress step per simulated outcome (and the last), rising.
    notes = [b["progress_note"] for b in beats if "progress_note" in b]
    simulated = list(expected["outcomes"])
    assert notes[: len(simulated)] == [
        f"minimum detectable effect {i + 1} of {len(simulated)}: {code}"
        for i, code in enumerate(simulated)
    ]
    percents = [b["progress"] for b in beats if "progress" in b]
    assert percents == sorted(percents) and percents[-1] == 95


def test_a_failing_simulation_leaves_the_plan_unfrozen_with_a_readable_error(
    client, study, researcher, sent, monkeypatch
):
    def broken(*args, **kwargs):
        raise ValueError("the pre-intake rows have no variance")

    monkeypatch.setattr(planned_mde, "outcome_mde", broken)
    job = plan_services.analysis_plan_freeze_request(study=study, user=researcher)
    plan_services.analysis_plan_freeze_execute(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == PlanFreezeJob.Status.FAILED and job.plan is None
    assert job.error.startswith("The analysis plan was not frozen")
    assert "the pre-intake rows have no variance" in job.error
    assert not AnalysisPlan.objects.filter(study=study).exists()

    client.force_login(researcher)
    page = client.get(f"/analysis/studies/{study.pk}/plan/").content.decode()
    assert 'id="freeze-error"' in page and "the pre-intake rows have no variance" in page
    assert 'id="freeze-plan" disabled' not in page and "No analysis plan is frozen yet" in page
    # A failed freeze does not block the next one.
    monkeypatch.undo()
    again = plan_services.analysis_plan_freeze(study=study, user=researcher)
    assert again.version == 1


def test_a_second_freeze_is_refused_while_the_first_is_queued_or_running(
    client, study, researcher, sent
):
    first = plan_services.analysis_plan_freeze_request(study=study, user=researcher)
    with pytest.raises(plan_services.PlanFreezeActive) as refused:
        plan_services.analysis_plan_freeze_request(study=study, user=researcher)
    assert refused.value.job == first
    PlanFreezeJob.objects.filter(pk=first.pk).update(
        status=PlanFreezeJob.Status.RUNNING, heartbeat_at=timezone.now(), progress=40
    )
    with pytest.raises(plan_services.PlanFreezeActive):
        plan_services.analysis_plan_freeze_request(study=study, user=researcher)
    assert PlanFreezeJob.objects.filter(study=study).count() == 1

    client.force_login(researcher)
    page = client.get(f"/analysis/studies/{study.pk}/plan/").content.decode()
    assert 'id="freeze-plan" disabled aria-describedby="freeze-in-progress"' in page
    assert f"request {first.pk}, running" in page
    assert f'data-status-url="/analysis/plan-freezes/{first.pk}/status/"' in page
    status = client.get(f"/analysis/plan-freezes/{first.pk}/status/").json()
    assert (status["status"], status["progress"], status["finished"]) == ("running", 40, False)
    answer = client.post(f"/analysis/studies/{study.pk}/plan/freeze/", follow=True)
    assert "is being frozen" in answer.content.decode()
    assert PlanFreezeJob.objects.filter(study=study).count() == 1


def test_a_revision_is_refused_while_a_freeze_runs_and_revises_once_it_is_done(
    study, researcher, sent
):
    v1 = plan_services.analysis_plan_freeze(study=study, user=researcher)
    first = plan_services.analysis_plan_revise_request(
        study=study, user=researcher, changes={"draws": 99}, reason="bootstrap"
    )
    with pytest.raises(plan_services.PlanFreezeActive):
        plan_services.analysis_plan_revise_request(
            study=study, user=researcher, changes={"draws": 199}, reason="more draws"
        )
    assert AnalysisPlan.objects.filter(study=study).count() == 1  # v2 not frozen yet
    plan_services.analysis_plan_freeze_execute(job_id=first.pk)
    v2 = AnalysisPlan.objects.get(study=study, version=2)
    assert v2.content["draws"] == 99 and v2.reason == "bootstrap"
    assert v2.content["planned_mde"] == v1.content["planned_mde"]  # kept: power unchanged


def test_a_version_frozen_meanwhile_fails_the_queued_revision_without_a_duplicate(
    study, researcher, sent
):
    plan_services.analysis_plan_freeze(study=study, user=researcher)
    queued = plan_services.analysis_plan_revise_request(
        study=study, user=researcher, changes={"draws": 99}, reason="bootstrap"
    )
    PlanFreezeJob.objects.filter(pk=queued.pk).update(status=PlanFreezeJob.Status.FAILED)
    plan_services.analysis_plan_revise(
        study=study, user=researcher, changes={"seed": 5}, reason="other seed"
    )
    PlanFreezeJob.objects.filter(pk=queued.pk).update(status=PlanFreezeJob.Status.QUEUED)
    plan_services.analysis_plan_freeze_execute(job_id=queued.pk)
    queued.refresh_from_db()
    assert queued.status == PlanFreezeJob.Status.FAILED and "frozen meanwhile" in queued.error
    assert sorted(AnalysisPlan.objects.filter(study=study).values_list("version", flat=True)) == [
        1,
        2,
    ]


def test_an_attempt_that_lost_its_claim_freezes_nothing(study, researcher, monkeypatch):
    job = plan_services.analysis_plan_freeze_request(study=study, user=researcher, send=False)
    original = plan_power.with_planned_mde

    def taken_over(**kwargs):
        out = original(**kwargs)
        # Meanwhile the reconciler gave the job to another worker (a new attempt).
        PlanFreezeJob.objects.filter(pk=job.pk).update(attempts=2)
        return out

    monkeypatch.setattr(plan_power, "with_planned_mde", taken_over)
    assert plan_services.analysis_plan_freeze_execute(job_id=job.pk) is None
    assert not AnalysisPlan.objects.filter(study=study).exists()  # rolled back with the claim
    job.refresh_from_db()
    assert job.status == PlanFreezeJob.Status.RUNNING and job.plan is None


def test_the_reconciler_picks_up_a_freeze_whose_worker_died(
    study, researcher, dead_claimant, django_capture_on_commit_callbacks
):
    job = plan_services.analysis_plan_freeze_request(study=study, user=researcher, send=False)
    PlanFreezeJob.objects.filter(pk=job.pk).update(
        status=PlanFreezeJob.Status.RUNNING, attempts=1, claimed_by=dead_claimant
    )
    with django_capture_on_commit_callbacks(execute=True):
        done = jobs_reconcile_all(kinds=["plan-freeze"])
    assert done["plan-freeze"].resumed == [job.pk]
    job.refresh_from_db()
    assert job.status == PlanFreezeJob.Status.SUCCEEDED and job.attempts == 2
    assert job.plan == AnalysisPlan.objects.get(study=study)


def test_a_stalled_freeze_does_not_block_the_page_and_is_sent_again(
    client, study, researcher, sent, django_capture_on_commit_callbacks
):
    job = plan_services.analysis_plan_freeze_request(study=study, user=researcher)
    sent.clear()
    long_ago = timezone.now() - timedelta(seconds=settings.ANALYSIS_QUEUED_SECONDS + 60)
    PlanFreezeJob.objects.filter(pk=job.pk).update(created_at=long_ago, heartbeat_at=long_ago)
    client.force_login(researcher)
    page = client.get(f"/analysis/studies/{study.pk}/plan/").content.decode()
    assert 'id="freeze-plan" disabled' not in page  # its message was lost: the button works
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(plan_services.PlanFreezeActive):
            plan_services.analysis_plan_freeze_request(study=study, user=researcher)
    assert sent == [(job.pk,)]  # the reconciler sent the stalled freeze again


def test_a_freeze_out_of_attempts_is_failed_in_plain_words(study, researcher):
    job = plan_services.analysis_plan_freeze_request(study=study, user=researcher, send=False)
    PlanFreezeJob.objects.filter(pk=job.pk).update(attempts=settings.ANALYSIS_MAX_ATTEMPTS)
    plan_services.analysis_plan_freeze_execute(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == PlanFreezeJob.Status.FAILED
    assert job.error.startswith("The analysis plan was not frozen: the worker")
    assert not AnalysisPlan.objects.filter(study=study).exists()
    assert PLAN_FREEZE_JOB.max_attempts() == settings.ANALYSIS_MAX_ATTEMPTS


# --- API, per role ---------------------------------------------------------------------------


def _api(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_api_freeze_per_role_then_409_while_it_runs(
    study, researcher, data_manager, gemeente_user, coach, sent
):
    membership_grant(study=study, user=coach, role=Role.WIJKCOACH)
    outsider = make_user(Role.RESEARCHER)
    membership_grant(study=make_study(), user=outsider, role=Role.RESEARCHER)
    body = {"study": study.pk, "draws": 99, "seed": 3}
    assert _api().post("/api/plan-freezes/", body, format="json").status_code in (401, 403)
    for user in (gemeente_user, coach, outsider):
        assert _api(user).post("/api/plan-freezes/", body, format="json").status_code == 404
    assert not PlanFreezeJob.objects.exists() and sent == []

    bad = _api(researcher).post("/api/plan-freezes/", {**body, "draws": -1}, format="json")
    assert bad.status_code == 400
    ok = _api(data_manager).post("/api/plan-freezes/", body, format="json")
    assert ok.status_code == 202, ok.content
    job = ok.json()
    assert (job["status"], job["kind"], job["plan"]) == ("queued", "freeze", None)
    assert not AnalysisPlan.objects.filter(study=study).exists()
    busy = _api(researcher).post("/api/plan-freezes/", body, format="json")
    assert busy.status_code == 409 and busy.json()["active_freeze"] == job["id"]

    # Its progress: for the study's researchers and data managers only.
    assert _api(researcher).get(f"/api/plan-freezes/{job['id']}/").json()["status"] == "queued"
    for user in (gemeente_user, coach, outsider):
        assert _api(user).get(f"/api/plan-freezes/{job['id']}/").status_code == 404
        assert _api(user).get("/api/plan-freezes/").json()["results"] == []

    plan_services.analysis_plan_freeze_execute(job_id=job["id"])
    done = _api(researcher).get(f"/api/plan-freezes/{job['id']}/").json()
    assert (done["status"], done["plan_version"], done["progress"]) == ("succeeded", 1, 100)
    frozen = _api(researcher).post("/api/plan-freezes/", body, format="json")
    assert frozen.status_code == 409 and "already frozen" in frozen.json()["detail"]


def test_api_revision_needs_a_reason(study, researcher, sent):
    plan_services.analysis_plan_freeze(study=study, user=researcher)
    body = {"study": study.pk, "kind": "revise", "draws": 99}
    assert _api(researcher).post("/api/plan-freezes/", body, format="json").status_code == 400
    same = _api(researcher).post(
        "/api/plan-freezes/", {"study": study.pk, "kind": "revise", "reason": "r"}, format="json"
    )
    assert same.status_code == 409 and "nothing differs" in same.json()["detail"]
    ok = _api(researcher).post(
        "/api/plan-freezes/", {**body, "reason": "more draws"}, format="json"
    )
    assert ok.status_code == 202 and ok.json()["kind"] == "revise"


@pytest.mark.parametrize("role", ["gemeente_user", "coach"])
def test_others_see_no_freeze_status_page(client, study, researcher, role, request, sent):
    job = plan_services.analysis_plan_freeze_request(study=study, user=researcher)
    user = request.getfixturevalue(role)
    if role == "coach":
        membership_grant(study=study, user=user, role=Role.WIJKCOACH)
    client.force_login(user)
    assert client.get(f"/analysis/plan-freezes/{job.pk}/status/").status_code == 404
