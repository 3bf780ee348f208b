"""The plan freeze page takes the run settings (issue 18) and records the pre-registered MDE of
each primary outcome (issue 14); runs follow the plan's HonestDiD settings and MDEs."""

import pytest

from analysis.models import AnalysisPlan
from analysis.plans.plan_services import analysis_plan_freeze, analysis_plan_revise

pytestmark = pytest.mark.django_db

SETTINGS = {
    "design": "aligned",
    "inference": "wild",
    "draws": "199",
    "seed": "7",
    "multiplicity": "bonferroni",
    "honest_restrictions": "rm",
    "honest_target": "first",
    "honest_sd_method": "FLCI",
    "power": "0.9",
    "rho": "0.3",
}


def _freeze_url(study):
    return f"/analysis/studies/{study.pk}/plan/freeze/"


@pytest.mark.parametrize("role", ["researcher", "data_manager"])
def test_the_first_freeze_takes_the_run_settings(
    client, study, role, request, django_capture_on_commit_callbacks
):
    user = request.getfixturevalue(role)
    client.force_login(user)
    page = client.get(f"/analysis/studies/{study.pk}/plan/").content.decode()
    assert 'name="honest_target"' in page and 'name="draws"' in page
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(_freeze_url(study), {**SETTINGS, "power": "0,9"})
    assert not AnalysisPlan.objects.filter(study=study).exists()  # recorded, not frozen yet
    page = client.get(f"/analysis/studies/{study.pk}/plan/").content.decode()
    assert 'id="freeze-plan" disabled' in page and "data-status-url" in page
    for send in queued:  # the job's task, as the worker runs it
        send()
    plan = AnalysisPlan.objects.get(study=study)
    c = plan.content
    assert (c["design"], c["inference"], c["draws"], c["seed"], c["multiplicity"]) == (
        "aligned",
        "wild",
        199,
        7,
        "bonferroni",
    )
    assert c["honest"] == {"restrictions": ["rm"], "target": "first", "sd_method": "FLCI"}
    assert c["power"] == {"power": 0.9, "rho": 0.3, "reps": 1000}
    assert plan.frozen_by == user
    mde = c["planned_mde"]
    m = len(c["primary_outcomes"])
    assert mde["alpha"] == pytest.approx(0.05 / m)
    computed = [o for o in mde["outcomes"].values() if o["computed"]]
    assert computed, mde
    assert all(o["rho"] == 0.3 and o["power"] == 0.9 for o in computed)
    page = client.get(f"/analysis/studies/{study.pk}/plan/").content.decode()
    assert "data-planned-mde" in page


@pytest.mark.parametrize("role", ["gemeente_user", "coach"])
def test_others_cannot_freeze_with_settings(client, study, role, request):
    client.force_login(request.getfixturevalue(role))
    assert client.post(_freeze_url(study), SETTINGS).status_code == 404
    assert not AnalysisPlan.objects.filter(study=study).exists()


def test_anonymous_is_sent_to_login(client, study):
    response = client.post(_freeze_url(study), SETTINGS)
    assert response.status_code == 302 and "login" in response["Location"]
    assert not AnalysisPlan.objects.filter(study=study).exists()


@pytest.mark.parametrize(
    "bad",
    [
        {"draws": "-1"},
        {"draws": "many"},
        {"inference": "bogus"},
        {"honest_target": "T9"},
        {"honest_sd_method": "exact"},
        {"power": "0.3"},
        {"rho": "1.5"},
    ],
)
def test_the_freeze_page_refuses_settings_a_run_cannot_follow(client, study, researcher, bad):
    client.force_login(researcher)
    response = client.post(_freeze_url(study), {**SETTINGS, **bad}, follow=True)
    assert not AnalysisPlan.objects.filter(study=study).exists()
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_defaults_when_the_form_is_left_as_it_is(study, researcher):
    plan = analysis_plan_freeze(study=study, user=researcher)
    c = plan.content
    assert (c["inference"], c["draws"], c["seed"]) == ("cr2", 0, 2016)
    assert c["honest"]["restrictions"] == ["rm", "sd"] and c["honest"]["target"] == "average"
    assert c["honest"]["sd_method"] == "FLCI"  # R's default for Delta^SD
    assert c["power"]["rho"] is None


def test_the_freeze_form_offers_flci_as_the_default_for_smoothness(client, study, researcher):
    client.force_login(researcher)
    page = client.get(f"/analysis/studies/{study.pk}/plan/").content.decode()
    select = page[page.index('name="honest_sd_method"') :]
    select = select[: select.index("</select>")]
    assert '<option value="FLCI" selected>' in select
    assert '<option value="C-LF">' in select and "(FLCI" in select


def test_a_plan_frozen_with_c_lf_keeps_it_through_revisions(study, researcher):
    v1 = analysis_plan_freeze(
        study=study, user=researcher, params={"honest": {"sd_method": "C-LF"}}
    )
    assert v1.content["honest"]["sd_method"] == "C-LF"
    v2 = analysis_plan_revise(study=study, user=researcher, changes={"draws": 99}, reason="x")
    assert v2.content["honest"]["sd_method"] == "C-LF"
    v3 = analysis_plan_revise(
        study=study, user=researcher, changes={"honest": {"target": "first"}}, reason="T1"
    )
    assert v3.content["honest"] == {
        "restrictions": ["rm", "sd"],
        "target": "first",
        "sd_method": "C-LF",
    }


def test_a_revision_keeps_the_pre_registered_mde(study, researcher):
    v1 = analysis_plan_freeze(study=study, user=researcher, params={"power": {"rho": 0.4}})
    v2 = analysis_plan_revise(study=study, user=researcher, changes={"draws": 99}, reason="x")
    assert v2.content["planned_mde"] == v1.content["planned_mde"]
    v3 = analysis_plan_revise(
        study=study, user=researcher, changes={"honest": {"target": "first"}}, reason="T1"
    )
    assert v3.content["honest"]["target"] == "first"
    assert v3.content["planned_mde"] == v1.content["planned_mde"]
