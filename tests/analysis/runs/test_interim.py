"""An interim analysis (waves up to T<N>) uses fewer family-years and says so in the report."""

import pytest

from analysis.models import AnalysisRun
from analysis.plans.plan_services import analysis_plan_freeze
from analysis.runs import services
from tracker.setup import demo_set_up

pytestmark = pytest.mark.django_db


def test_last_wave_limits_the_panel_and_is_named_in_the_report():
    study, _ = demo_set_up(seed=1)
    researcher = study.memberships.get(role="researcher").user
    analysis_plan_freeze(study=study, user=researcher)
    full, _ = services.analysis_compute(study=study, params={"inference": "cr1", "draws": 0})
    interim, _ = services.analysis_compute(
        study=study, params={"inference": "cr1", "draws": 0, "last_wave": 1}
    )

    def effects(results):
        return {o["code"]: o.get("effect") for q in results["questions"] for o in q["outcomes"]}

    differs = [c for c, e in effects(full).items() if e is not None and effects(interim)[c] != e]
    assert len(differs) >= 5, "leaving out T2 and later must change the estimates"
    run = AnalysisRun.objects.create(
        study=study, params={"inference": "cr1", "draws": 0, "last_wave": 1, "seed": 3}
    )
    run = services.analysis_run_execute(run_id=run.pk)
    html = run.report.html
    assert (
        "tot en met T1" in html
        and "CR1" in html
        and "Bell-McCaffrey" not in html.split('id="inference"')[1].split("</p>")[0]
    )
