"""analysis/effects/run_diagnostics.py on a simulated panel (pure; few draws)."""

import numpy as np
import pytest

from analysis.did.design_sim import CrisisDesign, simulate_study
from analysis.did.diagnostics import PARTS, outcome_diagnostics
from analysis.effects import run_diagnostics as rd


@pytest.fixture(scope="module")
def panel():
    df = simulate_study(CrisisDesign(effect="constant", attrition=0.2), np.random.default_rng(1))
    df = df.frame().rename(
        columns={"family": "family_id", "intake": "intake_year", "registry": "child_protection"}
    )
    df["arm"] = np.where(df["arm"] == 1, "intervention", "comparison")
    df[rd.STRATUM] = np.where(df["family_id"] % 2 == 0, "a", "b")
    return df


def _results():
    row = {
        "code": "child_protection",
        "primary": True,
        "design": "aligned",
        "outcome_design": "pre_period",
        "model": "linear",
        "effect": 1.0,
        "robustness": {"cr1": {}},
    }
    secondary = {**row, "code": "x", "primary": 0}
    return {
        "questions": [{"outcomes": [row, secondary]}],
        "multiplicity": {"primary": {"method": "Holm", "m": 4}, "alpha": 0.05},
    }


def test_parts_switches_strata_and_the_chronicity_rule(panel):
    results = rd.add_diagnostics(
        panel,
        _results(),
        params={"draws": 19, "seed": 3, "mde_reps": 20},
        parts={"honest": False, "mde_planned": False, "ipw": False},
        randomised=True,
        chronicity_rule=False,
    )
    row, secondary = results["questions"][0]["outcomes"]
    assert secondary["primary"] is False and "inference_checks" not in secondary
    assert row["inference_checks"] == {"cr1": {}}  # the fit's own methods kept apart
    assert "honest" not in row and "ipw" not in row and row["eligibility_tied"] is False
    data = panel.assign(arm01=(panel["arm"] == "intervention").astype(float))
    direct = outcome_diagnostics(
        data[["family_id", "year", "intake_year", "arm01", "child_protection", rd.STRATUM]],
        outcome="child_protection",
        unit="family_id",
        arm="arm01",
        intake="intake_year",
        parts={p: p == "robustness" for p in PARTS},
        strata=rd.STRATUM,
        randomised=True,
        draws=19,
        seed=3,
    )
    assert row["robustness"] == rd.json_safe(direct["robustness"])
    assert results["multiplicity"]["mde_alpha"] == pytest.approx(0.05 / 4)
    assert results["diagnostics"]["draws"] == 19
    assert {r["variable"] for r in results["balance"]} == {"child_protection"}


def test_draws_follow_the_run():
    assert rd.diagnostic_draws({"draws": 0}) == (rd.DEFAULT_DRAWS, rd.DEFAULT_DRAWS)
    assert rd.diagnostic_draws({"draws": 99, "mde_reps": 50}) == (99, 50)
    assert rd.diagnostics_wanted({}, True) and not rd.diagnostics_wanted({"diagnostics": False})
    assert not rd.diagnostics_wanted({}, False)
