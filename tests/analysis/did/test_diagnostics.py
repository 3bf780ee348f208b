"""The statistician's checks of an aligned outcome, each against an independent computation."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.did.aligned import aligned_design, aligned_did, fit_design
from analysis.did.aligned_alt import imputation_did, stacked_did
from analysis.did.aligned_panel import prepare_aligned
from analysis.did.diagnostics import outcome_diagnostics
from analysis.did.diagnostics_parts import (
    balance_part,
    event_study_coefficients,
    honest_part,
    ipw_part,
    lee_bounds,
)
from analysis.did.diagnostics_robust import (
    aligned_ri,
    assignments_within,
    calendar_twfe,
    enumerate_within,
    mde_part,
    permutation_cells,
    permute_within,
    robustness_part,
)
from analysis.did.inference import Robust
from tests.analysis.did.aligned_panels import COLS, crisis_panel, explicit_design


@pytest.fixture(scope="module")
def study():
    return crisis_panel(n=16, seed=4, attrition=0.3)


def test_balance_smd_equals_a_hand_computation(study):
    rows = balance_part(study, cols=COLS, variables=["registry"])
    e = study.year - study.intake
    for period, k in (("T-2", -2), ("T-1", -1), ("T0", 0)):
        at = study[e == k]
        t, c = at.loc[at.arm == 1, "registry"], at.loc[at.arm == 0, "registry"]
        hand = (t.mean() - c.mean()) / math.sqrt((t.var() + c.var()) / 2)
        row = next(r for r in rows if r["period"] == period)
        assert row["smd"] == pytest.approx(hand, rel=1e-12)
        assert row["n_intervention"] == t.size
    w = study.assign(e=e).pivot_table(index="family", columns="e", values="registry")
    slope = (w[0] - w[-2]) / 2
    arm = study.groupby("family").arm.first()
    t, c = slope[arm == 1], slope[arm == 0]
    hand = (t.mean() - c.mean()) / math.sqrt((t.var() + c.var()) / 2)
    row = next(r for r in rows if r["period"] == "slope T-2 to T0")
    assert row["smd"] == pytest.approx(hand, rel=1e-12)
    assert row["mark"] == ("large" if abs(hand) >= 0.25 else "notable" if abs(hand) >= 0.1 else "")


def test_ipw_equals_a_weighted_least_squares_with_statsmodels_weights(study):
    got = ipw_part(study, cols=COLS, outcome="registry")
    # independent: logit per post event time with statsmodels Logit, weights 1/p normalised,
    # then WLS on the all-dummies design
    e = study.year - study.intake
    base = study[e == -1].set_index("family")[["arm", "registry"]]
    X = sm.add_constant(base.to_numpy(float))
    w = pd.Series(1.0, index=study.index)
    for k in range(1, 5):
        seen = set(study.loc[(e == k) & study.registry.notna(), "family"])
        stayed = base.index.isin(seen).astype(float)
        p = pd.Series(sm.Logit(stayed, X).fit(disp=0).predict(X), index=base.index)
        rows = e == k
        raw = 1 / study.loc[rows, "family"].map(p)
        w[rows] = raw / raw.mean()
    y, D, _ = explicit_design(study, "registry")
    wls = sm.WLS(y, D, weights=w.loc[y.index]).fit()
    assert got["effect"] == pytest.approx(wls.params["arm_post"], rel=1e-6)
    assert got["unweighted"]["effect"] == pytest.approx(
        aligned_did(study, **COLS, outcome="registry").att, rel=1e-10
    )


def test_lee_bounds_on_a_hand_example():
    # intervention retention 1.0, comparison 0.8: trim 20 % of the intervention stayers
    change = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 0.0, 1.0, 2.0, 3.0])
    arm = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0])
    r = lee_bounds(change, arm, {"intervention": 1.0, "comparison": 0.8})
    # one of five trimmed; comparison mean 1.5
    assert r["n_trimmed"] == 1
    assert r["lower"] == pytest.approx((1 + 2 + 3 + 4) / 4 - 1.5)
    assert r["upper"] == pytest.approx((2 + 3 + 4 + 10) / 4 - 1.5)


def test_robustness_entries_equal_their_estimators_called_directly(study):
    rows = {r["method"]: r for r in robustness_part(study, cols=COLS, outcome="registry", draws=99)}
    direct = aligned_did(study, **COLS, outcome="registry", draws=99, seed=0)
    for m in ("cr2", "cr1", "cv3", "wild"):
        assert rows[m]["p_value"] == pytest.approx(direct.robustness[m]["p_value"], rel=1e-9)
        assert rows[m]["ci_low"] == pytest.approx(direct.robustness[m]["ci_low"], rel=1e-9)
    st = stacked_did(study, **COLS, outcome="registry")
    assert rows["stacked"]["estimate"] == pytest.approx(st.att, rel=1e-10)
    assert rows["stacked"]["ci_high"] == pytest.approx(st.ci_high, rel=1e-10)
    imp = imputation_did(study, **COLS, outcome="registry")
    assert rows["imputation"]["estimate"] == pytest.approx(imp.att, rel=1e-10)
    d = study[study.registry.notna()]
    treated = ((d.arm == 1) & (d.year - d.intake >= 1)).astype(float)
    X = pd.concat(
        [
            treated.rename("d"),
            pd.get_dummies(d.family, dtype=float),
            pd.get_dummies(d.year, dtype=float).iloc[:, 1:],
        ],
        axis=1,
    )
    ols = sm.OLS(d.registry, X).fit()
    assert rows["calendar_twfe"]["estimate"] == pytest.approx(ols.params["d"], rel=1e-8)
    assert rows["ri"]["estimate"] == pytest.approx(direct.att, rel=1e-9)
    assert json.dumps(list(rows.values()))  # JSON-able


def test_dcdh_weights_reproduce_the_twfe_coefficient_from_cell_effects():
    df = crisis_panel(n=10, seed=2)
    panel = prepare_aligned(df, **COLS, outcome="registry")
    rng = np.random.default_rng(0)
    tau = rng.normal(size=panel.y.size)
    d = (panel.arm == 1) & (panel.event >= 1)
    fam, yr = rng.normal(size=panel.n_units), rng.normal(size=int(panel.year.max()) + 1)
    panel.y = fam[panel.unit] + yr[panel.year] + tau * d
    cal = calendar_twfe(panel)
    assert cal["estimate"] == pytest.approx(float(cal["dcdh_weights"] @ tau[d]), rel=1e-9)
    assert cal["dcdh_weights"].sum() == pytest.approx(1.0)


def test_randomisation_inference_equals_refits_of_permuted_frames():
    df = crisis_panel(n=8, seed=5)
    panel = prepare_aligned(df, **COLS, outcome="registry")
    ri = aligned_ri(panel, draws=15, seed=7)
    # the same permutations, each refitted from a DataFrame with the aligned estimator
    rng = np.random.default_rng(7)
    arm_u = panel.unit_arm()
    cells = permutation_cells(panel, None)
    families = panel.data.groupby(panel.unit)["family"].first().to_numpy()
    observed = aligned_did(df, **COLS, outcome="registry", robustness=("cr2",)).att
    hits = 0
    for _ in range(15):
        perm = permute_within(arm_u, cells, rng)
        relabel = dict(zip(families, perm, strict=True))
        b = aligned_did(
            df.assign(arm=df.family.map(relabel)), **COLS, outcome="registry", robustness=("cr2",)
        ).att
        hits += abs(b) >= abs(observed) - 1e-10
    assert ri["statistic"] == pytest.approx(observed, rel=1e-9)
    assert ri["p_value"] == pytest.approx((1 + hits) / 16)


def test_permutations_keep_arms_within_intake_years_and_blocks():
    df = crisis_panel(n=8, seed=5)
    panel = prepare_aligned(df, **COLS, outcome="registry")
    groups = np.arange(panel.n_units) % 3
    cells = permutation_cells(panel, groups.astype(str))
    arm_u = panel.unit_arm()
    perm = permute_within(arm_u, cells, np.random.default_rng(1))
    for c in np.unique(cells):
        assert perm[cells == c].sum() == arm_u[cells == c].sum()


def test_mde_gives_eighty_percent_power_in_an_independent_simulation():
    """Independent check: Toeplitz AR(1) errors drawn as multivariate normals, each panel fitted
    with the aligned design and CR2 one by one. 800 replications: the Monte Carlo SE of a power
    of 0.8 is 0.014; the MDE itself (2000 replications) moves power by about 0.01; 3 pp is the
    issue's tolerance, about two combined SEs."""
    df = crisis_panel(n=20, seed=11)
    m = mde_part(df, cols=COLS, outcome="registry", alpha=0.05, rho=0.5, sd=1.0, reps=2000, seed=3)
    panel = prepare_aligned(df, **COLS, outcome="registry")
    design = aligned_design(panel, t0="own")
    p = design.panel
    rng = np.random.default_rng(99)
    span = np.arange(p.event.min(), p.event.max() + 1)
    cov = 0.5 ** np.abs(span[:, None] - span[None, :])
    reps, rejected = 800, 0
    for _ in range(reps):
        u = rng.multivariate_normal(np.zeros(span.size), cov, size=p.n_units)
        y = u[p.unit, p.event - span[0]] + m["mde"] * design.X[:, 0]
        fit = fit_design(type(design)(**{**design.__dict__, "panel": _with_y(p, y)}))
        rejected += Robust(fit).coef(0, "cr2", 0.95).p_value < 0.05
    assert rejected / reps == pytest.approx(0.8, abs=0.03)


def _with_y(panel, y):
    import dataclasses

    return dataclasses.replace(panel, y=y)


def test_entry_point_switches_parts_and_explains_what_is_not_computed():
    df = crisis_panel(n=10, seed=3)
    out = outcome_diagnostics(
        df,
        outcome="registry",
        parts={"robustness": False, "mde_planned": False, "ipw": False},
        mbar=(1.0,),
        honest_restrictions=("rm",),
    )
    assert set(out) == {"outcome", "model", "honest", "balance", "ci_width"}
    assert out["honest"]["computed"] and out["honest"]["rm"]["intervals"][0]["value"] == 1.0
    direct = aligned_did(df, **COLS, outcome="registry", robustness=("cr2",))
    assert out["ci_width"]["width"] == pytest.approx(direct.ci_high - direct.ci_low)
    no_lead = df[df.year - df.intake >= -1]
    h = honest_part(no_lead, cols=COLS, outcome="registry")
    assert h == {"computed": False, "reason": h["reason"]} and "reference" in h["reason"]
    json.dumps(out)
    with pytest.raises(ValueError):
        outcome_diagnostics(df, outcome="registry", parts={"nonsense": True})


def test_ppml_honest_is_on_the_log_scale():
    df = crisis_panel(n=16, seed=4)
    h = honest_part(df, cols=COLS, outcome="count", model="ppml", mbar=(0.5,), restrictions=("rm",))
    assert h["computed"] and h["scale"].startswith("log")
    assert h["covariance"] == "CR1"
    beta, _, times, _ = event_study_coefficients(df, cols=COLS, outcome="count", model="ppml")
    post = [beta[times.index(e)] for e in (1, 2, 3, 4)]
    assert h["rm"]["estimate"] == pytest.approx(np.mean(post), rel=1e-10)


def test_bacon_decomposition_sums_to_the_calendar_twfe_on_a_balanced_panel():
    from analysis.did.diagnostics_robust import bacon_decomposition

    df = crisis_panel(n=12, seed=6)
    common = df.groupby("family").year.agg(["min", "max"])
    lo, hi = common["min"].max(), common["max"].min()
    balanced = df[(df.year >= lo) & (df.year <= hi)]
    panel = prepare_aligned(balanced, **COLS, outcome="registry")
    b = bacon_decomposition(panel)
    assert sum(r["weight"] for r in b["comparisons"]) == pytest.approx(1.0)
    assert b["estimate"] == pytest.approx(calendar_twfe(panel)["estimate"], rel=1e-9)
    assert len({r["type"] for r in b["comparisons"]}) >= 2
    rows = robustness_part(balanced, cols=COLS, outcome="registry", draws=19)
    cal = next(r for r in rows if r["method"] == "calendar_twfe")
    assert cal["decomposition"] == "Goodman-Bacon"


def test_survey_outcomes_say_why_parts_are_missing_and_take_an_assumed_rho():
    df = crisis_panel(n=10, seed=3)
    off = {"robustness": False, "balance": False, "ipw": False, "ci_width": False}
    out = outcome_diagnostics(df, outcome="survey", t0="baseline", parts=off, mde_reps=200)
    assert out["honest"]["computed"] is False and "T0" in out["honest"]["reason"]
    assert out["mde_planned"] == {"computed": False, "reason": out["mde_planned"]["reason"]}
    out = outcome_diagnostics(
        df, outcome="survey", t0="baseline", parts={**off, "honest": False}, rho=0.4, mde_reps=200
    )
    assert out["mde_planned"]["rho_source"] == "assumed" and out["mde_planned"]["mde"] > 0


def test_lpm_mde_and_its_power_curve_are_in_percentage_points():
    df = crisis_panel(n=10, seed=3)
    only = {p: p == "mde_planned" for p in ("honest", "balance", "ipw", "robustness", "ci_width")}
    out = outcome_diagnostics(df, outcome="binary", model="lpm", parts=only, mde_reps=300, seed=1)
    raw = mde_part(df, cols=COLS, outcome="binary", reps=300, seed=1)
    assert out["mde_planned"]["mde"] == pytest.approx(100 * raw["mde"])
    assert out["mde_planned"]["power_curve"][0]["effect"] == pytest.approx(
        100 * raw["power_curve"][0]["effect"]
    )


def test_enumeration_within_blocks_keeps_every_cells_count_and_equals_a_hand_count():
    # cells: a pair (1 of 2 treated), a block of four (2 of 4), a pair without variation
    arm_u = np.array([1, 0, 1, 1, 0, 0, 1, 1])
    cells = np.array([0, 0, 1, 1, 1, 1, 2, 2])
    every = enumerate_within(arm_u, cells)
    # by hand: 2 ways in the first pair x 6 in the block of four x 1 in the last pair
    assert every.shape == (8, 12)
    assert assignments_within(arm_u, cells) == 12
    assert len({tuple(col) for col in every.T}) == 12
    assert any((col == arm_u).all() for col in every.T)
    for col in every.T:
        for c in np.unique(cells):
            assert col[cells == c].sum() == arm_u[cells == c].sum()
        assert (col[6:] == 1).all()  # a cell without variation contributes nothing


def _tiny():
    df = crisis_panel(n=3, seed=5)
    families = sorted(df.family.unique())
    block = dict(zip(families, ["a", "a", "b", "b", "b", "a"], strict=True))
    return df.assign(block=df.family.map(block))


def test_exact_ri_within_intake_year_and_block_equals_refits_of_every_allowed_assignment():
    df = _tiny()
    panel = prepare_aligned(df, **COLS, outcome="registry")
    per = panel.data.groupby(panel.unit)["family"].first().to_numpy()
    groups = df.groupby("family").block.first().reindex(per).to_numpy()
    ri = aligned_ri(panel, groups=groups, draws=999, seed=1)
    assert ri["exact"] is True
    # Independently: every 0/1 vector over the families, kept when each (intake year, block)
    # holds as many intervention families as observed; each refitted from its DataFrame.
    fam = df.groupby("family")[["intake", "block", "arm"]].first()
    key = fam.intake.astype(str) + "|" + fam.block
    observed_counts = fam.groupby(key).arm.sum().astype(int).to_numpy()
    observed = aligned_did(df, **COLS, outcome="registry", robustness=("cr2",)).att
    allowed, hits = 0, 0
    for bits in itertools.product((0, 1), repeat=len(fam)):
        arms = pd.Series(bits, index=fam.index)
        if not np.array_equal(arms.groupby(key).sum().to_numpy(), observed_counts):
            continue
        allowed += 1
        b = aligned_did(
            df.assign(arm=df.family.map(arms)), **COLS, outcome="registry", robustness=("cr2",)
        ).att
        hits += abs(b) >= abs(observed) - 1e-10
    assert ri["draws"] == allowed
    assert ri["statistic"] == pytest.approx(observed, rel=1e-9)
    assert ri["p_value"] == pytest.approx(hits / allowed)
    # Within intake years only there are more assignments: the blocks restrict the permutations.
    loose = aligned_ri(panel, groups=None, draws=10**5, seed=1)
    assert loose["exact"] and loose["draws"] > ri["draws"]


def test_random_draws_within_blocks_keep_the_cells_counts():
    df = crisis_panel(n=10, seed=3)
    panel = prepare_aligned(df, **COLS, outcome="registry")
    groups = (np.arange(panel.n_units) // 4).astype(str)
    cells = permutation_cells(panel, groups)
    arm_u = panel.unit_arm()
    rng = np.random.default_rng(2)
    for _ in range(50):
        perm = permute_within(arm_u, cells, rng)
        for c in np.unique(cells):
            assert perm[cells == c].sum() == arm_u[cells == c].sum()
    ri = aligned_ri(panel, groups=groups, draws=49, seed=2, exact=False)
    assert ri["exact"] is False and ri["draws"] == 49


def test_robustness_panel_names_the_ri_restriction_and_its_note():
    df = _tiny()
    rows = robustness_part(
        df, cols=COLS, outcome="registry", blocks="block", randomised=True, ri_note="n", draws=9
    )
    ri = next(r for r in rows if r["method"] == "ri")
    assert ri["within"] == "block" and ri["note"] == "n"
    rows = robustness_part(df, cols=COLS, outcome="registry", draws=9)
    ri = next(r for r in rows if r["method"] == "ri")
    assert ri["within"] == "intake_year" and "note" not in ri


def test_the_report_names_the_ri_restriction_in_dutch():
    from analysis.reporting.diagnostics import _line

    line = _line({"method": "ri", "line": "randomisation inference", "within": "allocation_block"})
    assert "binnen de blokken van de toewijzing en het intakejaar" in line
    note = "minimisatie kent geen blokken: binnen het stratum van de toewijzing"
    line = _line({"method": "ri", "line": "x", "within": "allocation_stratum", "note": note})
    assert "binnen de strata van de toewijzing en het intakejaar" in line and note in line
    line = _line({"method": "ri", "line": "x; a permutation check", "within": "match_set"})
    assert "gematchte paren" in line and "permutatiecontrole" in line
