"""The Delta^SD FLCI (analysis/did/honest_flci.py) against a brute-force version of R's problem.

The reference here is R ``HonestDiD``'s ``findOptimalFLCI`` written out the slow, obvious way:
a dense grid over the estimator's sd ``h`` (refined by a bounded Brent search around its best point) between the minimum-variance and the minimum-bias
estimator, at each ``h`` the worst-case bias ``M (C + sum_s |w_1 + ... + w_s|)`` minimised over
R's first-difference weights ``w`` (``sum w = T``, variance at most ``h^2``) by SLSQP on the
epigraph form, and the half-length ``h cv_alpha(bias / h)`` with the folded-normal quantile
found by ``brentq`` on its cdf. The README Medicaid numbers are checked in
test_honest_sensitivity.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from analysis.did.honest_flci import flci, folded_normal_quantile, lasso_path
from analysis.did.inference import Robust, codes, fit_linear

DATA = Path(__file__).resolve().parents[2] / "data" / "validation"


def _cv(p: float, t: float) -> float:
    t = abs(t)

    def cdf(x: float) -> float:
        return stats.norm.cdf(x - t) - stats.norm.cdf(-x - t) - p

    return float(optimize.brentq(cdf, 0.0, t + 10.0, xtol=1e-14))


def brute_force_flci(beta, sigma, n_pre, l_vec, m, alpha=0.05, points=101):
    """R's FLCI by a dense h grid, one SLSQP per grid point (slow, obviously R's formulation)."""
    n_post = l_vec.size
    total = float(np.arange(1, n_post + 1) @ l_vec)
    const = (
        sum(abs(np.arange(1, s + 1) @ l_vec[n_post - s :]) for s in range(1, n_post + 1)) - total
    )
    scale = float(np.mean(np.diag(sigma)))
    sig = sigma / scale  # sds in units of sqrt(scale): SLSQP works on numbers near 1

    def l_pre(w):  # R's .weights_to_l: l_1 = w_1, l_t = w_t - w_{t-1}
        return np.concatenate([w[:1], np.diff(w)])

    def var(w):
        lp = l_pre(w)
        full = np.concatenate([lp, l_vec])
        return float(full @ sig @ full)

    # minimum variance subject to sum w = T: an equality-constrained quadratic, by KKT
    D = np.eye(n_pre) - np.eye(n_pre, k=-1)
    H = D.T @ sig[:n_pre, :n_pre] @ D
    q = D.T @ sig[:n_pre, n_pre:] @ l_vec
    kkt = np.block([[2 * H, np.ones((n_pre, 1))], [np.ones((1, n_pre)), np.zeros((1, 1))]])
    w_min_var = np.linalg.solve(kkt, np.concatenate([-2 * q, [total]]))[:n_pre]
    w_min_bias = np.zeros(n_pre)
    w_min_bias[-1] = total
    h_lo, h_hi = np.sqrt(var(w_min_var)), np.sqrt(var(w_min_bias))

    def min_bias(h):
        # x = (w, t): minimise sum t, -t <= cumsum(w) <= t, sum w = T, var(w) <= h^2
        L = np.tril(np.ones((n_pre, n_pre)))
        cons = [
            {"type": "ineq", "fun": lambda x: x[n_pre:] - L @ x[:n_pre]},
            {"type": "ineq", "fun": lambda x: x[n_pre:] + L @ x[:n_pre]},
            {"type": "eq", "fun": lambda x: np.sum(x[:n_pre]) - total},
            {"type": "ineq", "fun": lambda x: h**2 - var(x[:n_pre])},
        ]
        x0 = np.concatenate([w_min_var, np.abs(L @ w_min_var) + 1e-9])
        res = optimize.minimize(
            lambda x: np.sum(x[n_pre:]),
            x0,
            constraints=cons,
            method="SLSQP",
            options={"ftol": 1e-13, "maxiter": 500},
        )
        return const + float(res.fun), res.x[:n_pre]

    def half_at(h):
        h = max(h, h_lo * (1 + 1e-12))
        bias, w = min_bias(h)
        sd = h * np.sqrt(scale)  # back in the coefficients' units
        return sd * _cv(1 - alpha, m * bias / sd), w

    grid = np.linspace(h_lo, h_hi, points)
    halves = [half_at(h)[0] for h in grid]
    i = int(np.argmin(halves))
    # the optimum is flat in h, so the estimator (the centre) needs h far finer than any grid
    res = optimize.minimize_scalar(
        lambda h: half_at(h)[0],
        bounds=(grid[max(i - 1, 0)], grid[min(i + 1, points - 1)]),
        method="bounded",
        options={"xatol": 1e-9 * h_hi},
    )
    half, w = half_at(res.x) if res.fun < halves[i] else half_at(grid[i])
    centre = float(l_pre(w) @ beta[:n_pre] + l_vec @ beta[n_pre:])
    return centre, half


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


def _aligned_like(seed):
    """Three leads (T-4 ... T-2; T-1 reference), T0 ... T4: the aligned event study's shape."""
    rng = np.random.default_rng(seed)
    k = 8
    A = rng.normal(size=(k, k))
    sigma = 0.04 * (A @ A.T / k + 0.5 * np.eye(k))
    beta = rng.normal(scale=0.2, size=k)
    return beta, sigma


@pytest.mark.parametrize("m", [0.0, 0.01, 0.03])
def test_flci_equals_the_brute_force_on_the_medicaid_event_study(medicaid, m):
    beta, sigma = medicaid
    l_vec = np.array([0.5, 0.5])  # the average of both post periods, not the README's target
    ours = flci(beta, sigma, n_pre=5, l_vec=l_vec, m=m)
    centre, half = brute_force_flci(beta, sigma, 5, l_vec, m)
    # the brute force's grid optimum can only be longer, never shorter
    assert ours.half_length <= half * (1 + 1e-7)
    assert ours.ci_low == pytest.approx(centre - half, abs=1e-3)
    assert ours.ci_high == pytest.approx(centre + half, abs=1e-3)


@pytest.mark.parametrize("seed,m", [(0, 0.0), (0, 0.05), (1, 0.2), (2, 0.02)])
def test_flci_equals_the_brute_force_with_three_leads_and_five_post_periods(seed, m):
    beta, sigma = _aligned_like(seed)
    l_vec = np.array([0.0, 0.25, 0.25, 0.25, 0.25])  # average of T1 ... T4, T0 weight 0
    ours = flci(beta, sigma, n_pre=3, l_vec=l_vec, m=m)
    centre, half = brute_force_flci(beta, sigma, 3, l_vec, m)
    assert ours.half_length <= half * (1 + 1e-7)
    assert ours.ci_low == pytest.approx(centre - half, abs=1e-3)
    assert ours.ci_high == pytest.approx(centre + half, abs=1e-3)


def test_flci_with_one_lead_is_the_linear_extrapolation_by_hand():
    # one lead: w = T = sum_s s l_s = 0.25 (2 + 3 + 4 + 5) = 3.5 is the only estimator;
    # R's bias constant: |l5| + |l4 + 2 l5| + ... = 0.25 + 0.75 + 1.5 + 2.5 + 3.5 - 3.5 = 5
    beta, sigma = _aligned_like(3)
    beta, sigma = beta[2:], sigma[2:, 2:]  # T-2, then T0 ... T4 (six coefficients)
    l_vec = np.array([0.0, 0.25, 0.25, 0.25, 0.25])
    full = np.concatenate([[3.5], l_vec])
    sd = float(np.sqrt(full @ sigma @ full))
    m = 0.1
    bias = m * (5 + 3.5)
    half = sd * _cv(0.95, bias / sd)
    centre = float(full @ beta)
    r = flci(beta, sigma, n_pre=1, l_vec=l_vec, m=m)
    assert r.ci_low == pytest.approx(centre - half, abs=1e-10)
    assert r.ci_high == pytest.approx(centre + half, abs=1e-10)
    assert r.max_bias == pytest.approx(bias)


def test_flci_agrees_with_moderndids_cone_programmes(medicaid):
    from moderndid.didhonest.fixed_length_ci import compute_flci

    beta, sigma = medicaid
    l_vec = np.array([0.5, 0.5])
    theirs = compute_flci(beta, sigma, 0.02, 5, 2, post_period_weights=l_vec)
    ours = flci(beta, sigma, n_pre=5, l_vec=l_vec, m=0.02)
    assert ours.ci_low == pytest.approx(theirs.flci[0], abs=2e-5)
    assert ours.ci_high == pytest.approx(theirs.flci[1], abs=2e-5)


def test_the_lasso_path_satisfies_the_optimality_conditions_between_knots():
    rng = np.random.default_rng(5)
    A = rng.normal(size=(5, 5))
    Q = A @ A.T + 0.1 * np.eye(5)
    g = rng.normal(size=5)
    knots, sols = lasso_path(Q, g)
    assert knots[0] == pytest.approx(np.max(np.abs(g))) and knots[-1] == 0.0
    assert sols[-1] == pytest.approx(np.linalg.solve(Q, -g))
    for k in range(len(knots) - 1):
        for f in (0.25, 0.5, 0.75):
            mu = knots[k] * (1 - f) + knots[k + 1] * f
            u = sols[k] * (1 - f) + sols[k + 1] * f
            grad = Q @ u + g  # KKT: grad = -mu sign(u) where u != 0, |grad| <= mu elsewhere
            nz = np.abs(u) > 1e-12
            assert grad[nz] == pytest.approx(-mu * np.sign(u[nz]), abs=1e-9)
            assert np.all(np.abs(grad[~nz]) <= mu + 1e-9)


def test_folded_normal_quantile_matches_scipy():
    for t in (0.0, 0.3, 1.7, 6.0):
        q = float(folded_normal_quantile(0.95, t))
        assert stats.foldnorm.cdf(q, t) == pytest.approx(0.95, abs=1e-12)
