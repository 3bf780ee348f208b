"""The pre-registered MDE of the plan (analysis/effects/planned_mde.py), pure: checked against
an independent simulation of the same design, and its sources of rho and SD."""

import numpy as np
import pandas as pd
import pytest

from analysis.did.aligned import aligned_did
from analysis.effects import planned_mde as pm

PRE, WAVES = 2, 4


def _families(n=20):
    return pd.DataFrame(
        {
            "family_id": np.arange(2 * n),
            "arm01": np.r_[np.ones(n), np.zeros(n)],
            "intake_year": np.tile([2019, 2020], n),
        }
    )


def _observed(families, rho, sd, seed=0, level_sd=0.0):
    """Pre-intake years (T-2 ... T0) of every family: AR(1) with the given rho and SD (plus a
    family level of SD ``level_sd``: pre_intake_rho does not separate it from the AR(1))."""
    rng = np.random.default_rng(seed)
    rows = []
    for f in families.itertuples():
        level = rng.normal(0, level_sd) if level_sd else 0.0
        u = rng.normal(0, sd)
        for e in range(-PRE, 1):
            if e > -PRE:
                u = rho * u + np.sqrt(1 - rho * rho) * rng.normal(0, sd)
            rows.append(
                {
                    "family_id": f.family_id,
                    "arm01": f.arm01,
                    "intake_year": f.intake_year,
                    "year": f.intake_year + e,
                    "score": level + u,
                }
            )
    return pd.DataFrame(rows)


OUTCOME = {"code": "score", "model": "linear", "design": "pre_period"}


def test_planned_mde_gives_eighty_percent_power_in_an_independent_simulation():
    """Independent check: multivariate-normal AR(1) errors (Toeplitz), each panel fitted by the
    public aligned_did with CR2 one at a time, at the plan's alpha / m. 800 replications: Monte
    Carlo SE of a power of 0.8 is 0.014; the MDE (2000 replications) moves power by about 0.01;
    the issue's tolerance is 3 pp."""
    families = _families()
    alpha = 0.05 / 2
    m = pm.outcome_mde(
        families,
        pd.DataFrame(),
        OUTCOME,
        pre_years=PRE,
        waves=WAVES,
        alpha=alpha,
        power=0.8,
        rho=0.5,
        reps=2000,
        seed=5,
    )
    assert (
        m["computed"]
        and m["unit"] == "standaarddeviaties"
        and m["rho_source"].startswith("aangenomen")
    )
    panel = pm.design_panel(families, pre_years=PRE, waves=WAVES, outcome="score")
    event = (panel["year"] - panel["intake_year"]).to_numpy()
    span = np.arange(-PRE, WAVES + 1)
    cov = 0.5 ** np.abs(span[:, None] - span[None, :])
    rng = np.random.default_rng(2024)
    fam_index = panel["family_id"].to_numpy()
    treated = ((panel["arm01"] == 1) & (event >= 1)).to_numpy()
    reps, rejected = 800, 0
    for _ in range(reps):
        u = rng.multivariate_normal(np.zeros(span.size), cov, size=len(families))
        y = u[fam_index, event + PRE] + rng.normal(0, 2, len(families))[fam_index]
        df = panel.assign(score=y + m["mde"] * treated)
        res = aligned_did(
            df,
            unit="family_id",
            time="year",
            arm="arm01",
            intake="intake_year",
            outcome="score",
            t0="own",
            robustness=("cr2",),
            level=1 - alpha,
        )
        rejected += res.p_value < alpha
    assert rejected / reps == pytest.approx(0.8, abs=0.03)


def test_rho_and_sd_come_from_the_pre_intake_years_when_the_plan_assumes_none():
    families = _families(40)
    observed = _observed(families, rho=0.6, sd=2.0, seed=1)
    m = pm.outcome_mde(
        families,
        observed,
        OUTCOME,
        pre_years=PRE,
        waves=WAVES,
        alpha=0.05,
        power=0.8,
        rho=None,
        reps=400,
        seed=1,
    )
    assert m["rho_source"].startswith("jaren vóór de intake") and m["unit"].startswith("eenheden")
    assert 0.3 < m["rho"] < 0.85 and 1.5 < m["sd"] < 2.5
    doubled = pm.outcome_mde(
        families,
        observed.assign(score=2 * observed["score"]),
        OUTCOME,
        pre_years=PRE,
        waves=WAVES,
        alpha=0.05,
        power=0.8,
        rho=None,
        reps=400,
        seed=1,
    )
    assert doubled["mde"] == pytest.approx(2 * m["mde"], rel=1e-6)  # in the outcome's units


def test_binary_outcomes_in_percentage_points_counts_not_simulated():
    families = _families(30)
    observed = _observed(families, rho=0.5, sd=1.0, seed=2)
    observed["flag"] = (observed["score"] > observed["score"].median()).astype(float)
    lpm = pm.outcome_mde(
        families,
        observed,
        {"code": "flag", "model": "lpm", "design": "pre_period"},
        pre_years=PRE,
        waves=WAVES,
        alpha=0.05,
        power=0.8,
        rho=0.5,
        reps=300,
        seed=1,
    )
    assert lpm["unit"] == "procentpunten" and 10 < lpm["mde"] < 100 and lpm["sd"] > 10
    ppml = pm.outcome_mde(
        families,
        observed,
        {"code": "n", "model": "ppml", "design": "pre_period"},
        pre_years=PRE,
        waves=WAVES,
        alpha=0.05,
        power=0.8,
        rho=0.5,
        reps=300,
        seed=1,
    )
    assert ppml["computed"] is False and "Poisson" in ppml["reason"]


def test_plan_level_alpha_is_alpha_over_the_primary_outcomes_and_planned_numbers_without_families():
    families, source = pm.planned_families(
        pd.DataFrame(columns=["family_id", "arm01", "intake_year"]),
        n_intervention=25,
        n_comparison=30,
        start_year=2027,
    )
    assert (int(families.arm01.sum()), int((families.arm01 == 0).sum())) == (25, 30)
    assert "geplande" in source and "2027" in source
    content = {
        "alpha": 0.05,
        "seed": 3,
        "power": {"power": 0.8, "rho": 0.5, "reps": 300},
        "primary_outcomes": ["score", "other"],
        "questions": [{"unit": "family", "outcomes": [{**OUTCOME, "primary": True}]}],
    }
    out = pm.planned_mde(
        content,
        families=families,
        observed=pd.DataFrame(),
        pre_years=PRE,
        waves=WAVES,
        design_source=source,
    )
    assert out["alpha"] == pytest.approx(0.025) and set(out["outcomes"]) == {"score"}
    assert out["outcomes"]["score"]["alpha"] == pytest.approx(0.025)
