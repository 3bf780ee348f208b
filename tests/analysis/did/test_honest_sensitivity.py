"""HonestDiD (Rambachan & Roth 2023) against the README's Medicaid example and hand results.

Data: ``tests/data/validation/ehec_data.csv`` (Mixtape-Sessions/Advanced-DID
``Exercises/Data/ehec_data.dta``, the example of the HonestDiD README). Event study
``dins ~ sum_{year != 2013} D x 1{year} | state + year`` on the years before 2016 without the
2015 expansion states, CR1 by state (fixest). Published (R HonestDiD README): point estimates
-0.00529, -0.0113, -0.00268, -0.00142, 0.00034, 0.04645, 0.06921; Delta^RM, first post period,
C-LF: Mbar 0.5 [0.0240, 0.0672], 1 [0.0170, 0.0720], 1.5 [0.00824, 0.0797], 2 [-0.000916, 0.0881];
Delta^SD, FLCI: M 0 [0.0259, 0.0607], 0.01 [0.0132, 0.0787], 0.02 [0.00286, 0.0907],
0.03 [-0.00714, 0.101], 0.04 [-0.0171, 0.111], 0.05 [-0.0271, 0.121].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.did.honest_sensitivity import (
    breakdown_value,
    honest_sensitivity,
    lf_critical_value,
    rm_interval,
    target_vector,
)
from analysis.did.inference import Robust, codes, fit_linear

DATA = Path(__file__).resolve().parents[2] / "data" / "validation"

RM_FIRST = {
    0.5: (0.0240, 0.0672),
    1.0: (0.0170, 0.0720),
    1.5: (0.00824, 0.0797),
    2.0: (-0.000916, 0.0881),
}
SD_FIRST = {
    0.0: (0.0259, 0.0607),
    0.01: (0.0132, 0.0787),
    0.02: (0.00286, 0.0907),
    0.03: (-0.00714, 0.101),
    0.04: (-0.0171, 0.111),
    0.05: (-0.0271, 0.121),
}


@pytest.fixture(scope="module")
def medicaid():
    df = pd.read_csv(DATA / "ehec_data.csv")
    df = df[(df.year < 2016) & ~(df.yexp2 == 2015)]
    D = (df.yexp2 == 2014).to_numpy(dtype=float)
    years = [y for y in range(2008, 2016) if y != 2013]
    X = np.column_stack([D * (df.year.to_numpy() == y) for y in years])
    u, t = codes(df.stfips), codes(df.year)
    fit = fit_linear(df.dins.to_numpy(dtype=float), X, unit=u, time=t, cluster=u)
    return fit.beta, Robust(fit).vcov("cr1")


def test_event_study_matches_the_readme(medicaid):
    beta, _ = medicaid
    published = [-0.00529, -0.0113, -0.00268, -0.00142, 0.00034, 0.04645, 0.06921]
    assert beta == pytest.approx(published, abs=6e-5)


def test_smoothness_flci_reproduces_the_readme(medicaid):
    beta, sigma = medicaid
    r = honest_sensitivity(
        beta, sigma, n_pre=5, l_vec=np.array([1.0, 0.0]), restriction="sd", grid=list(SD_FIRST)
    )
    for row in r["intervals"]:
        lo, hi = SD_FIRST[row["value"]]
        assert row["ci_low"] == pytest.approx(lo, abs=0.002)
        assert row["ci_high"] == pytest.approx(hi, abs=0.002)
    assert r["method"].startswith("FLCI")
    assert 0.02 < r["breakdown"] <= 0.03  # the README: breakdown M about 0.03


def test_relative_magnitudes_clf_reproduces_the_readme(medicaid):
    beta, sigma = medicaid
    for mbar, (lo, hi) in RM_FIRST.items():
        got = rm_interval(beta, sigma, n_pre=5, l_vec=np.array([1.0, 0.0]), mbar=mbar)
        assert got[0] == pytest.approx(lo, abs=0.002), mbar
        assert got[1] == pytest.approx(hi, abs=0.002), mbar


def test_least_favourable_critical_value_equals_moderndids_linear_programmes():
    from moderndid.didhonest.arp_nuisance import compute_least_favorable_cv

    rng = np.random.default_rng(3)
    m = 8
    L = rng.normal(size=(m, m))
    sigma = L @ L.T / m + np.eye(m) * 0.1
    x_t = rng.normal(size=(m, 2))
    ours = lf_critical_value(x_t, sigma, 0.005, sims=300)
    theirs = compute_least_favorable_cv(x_t, sigma, 0.005, sims=300, seed=0)
    assert ours == pytest.approx(theirs, rel=1e-7)


def test_rm_interval_approaches_the_identified_set_with_the_hybrid():
    # leads (-3, -2) = (0.1, 0), reference 0: set for the average of two post periods is
    # [1 - 0.15 Mbar, 1 + 0.15 Mbar] (see test_did_honest.py)
    beta = np.array([0.1, 0.0, 1.0, 1.0])
    lo, hi = rm_interval(beta, np.eye(4) * 1e-6, n_pre=2, l_vec=np.array([0.5, 0.5]), mbar=1.0)
    assert lo == pytest.approx(0.85, abs=4e-3)
    assert hi == pytest.approx(1.15, abs=4e-3)


def test_target_vectors_give_t0_no_weight():
    assert target_vector([0, 1, 2, 3, 4]).tolist() == [0, 0.25, 0.25, 0.25, 0.25]
    assert target_vector([0, 1, 2, 3, 4], "first").tolist() == [0, 1, 0, 0, 0]
    assert target_vector([0, 1, 2], {2: 1.0}).tolist() == [0, 0, 1]
    with pytest.raises(ValueError):
        target_vector([0], "average")


def test_breakdown_bisects_to_where_zero_enters():
    # interval [1 - v, 1 + v]: zero enters at v = 1
    value, _ = breakdown_value(lambda v: (1 - v, 1 + v), [0.5, 2.0])
    assert value == pytest.approx(1.0, abs=0.021)
    assert breakdown_value(lambda v: (-1.0, 1.0), [1.0])[0] == 0.0


def test_smoothness_clf_equals_moderndids_hybrid(medicaid):
    from moderndid.didhonest import create_sensitivity_results_sm

    from analysis.did.honest_sensitivity import sd_clf_interval

    beta, sigma = medicaid
    ours = sd_clf_interval(beta, sigma, n_pre=5, l_vec=np.array([1.0, 0.0]), m=0.01)
    theirs = create_sensitivity_results_sm(
        betahat=beta,
        sigma=sigma,
        num_pre_periods=5,
        num_post_periods=2,
        method="C-LF",
        m_vec=[0.01],
    )
    assert ours[0] == pytest.approx(float(theirs["lb"][0]), abs=0.002)
    assert ours[1] == pytest.approx(float(theirs["ub"][0]), abs=0.002)


@pytest.mark.parametrize("change,positive", [(0, True), (3, False), (4, True)])
def test_the_closed_form_hybrid_test_decides_as_moderndids_linear_programmes(
    medicaid, change, positive
):
    from moderndid.didhonest.arp_nuisance import lp_conditional_test

    from analysis.did.honest import rm_constraints
    from analysis.did.honest_sensitivity import _PolyhedronTest

    beta, sigma = medicaid
    l_vec = np.array([1.0, 0.0])
    A = rm_constraints(5, 2, 1.0, change, positive)
    piece = _PolyhedronTest(beta, sigma, A, l_vec, 5, 0.05)
    assert piece.vertices is not None
    agree = 0
    thetas = np.linspace(-0.02, 0.12, 57)
    for theta in thetas:
        lp = lp_conditional_test(
            y_t=piece.y - piece.a_one * theta,
            x_t=piece.x_t,
            sigma=piece.sigma_y,
            alpha=0.05,
            hybrid_flag="LF",
            hybrid_list=dict(piece.hybrid),
            rows_for_arp=piece.rows,
        )
        agree += piece.accepts(float(theta)) == (not lp["reject"])
    assert agree == len(thetas)
