"""Monte Carlo: coverage and size of the TWFE DiD inference methods with 40 + 40 families.

Simulates families with a family effect, AR(1) noise within family, family-specific noise
levels, a common trend and staggered intake (intervention families enter in wave 3, 4 or 5 of
7; comparison families never do). Each scenario is analysed with TWFE and CR2 (the default),
CR1 (fixest convention) and the restricted wild cluster bootstrap (test-inversion interval).
Reports, per method, the coverage of the 95 % interval under a known effect and the rejection
rate of "no effect" when there is none. Ends with one line of JSON.

    python benchmarks/did_inference_montecarlo.py            # 1,000 panels per scenario, B = 999
    python benchmarks/did_inference_montecarlo.py --quick    # 200 panels, B = 199 (CI)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.did.inference import Robust, fit_linear, wild_cluster_bootstrap

N_TREATED, N_CONTROL, PERIODS, COHORTS = 40, 40, 7, (3, 4, 5)
METHODS = ("cr2", "cr1", "wild")


def simulate(rng: np.random.Generator, effect: float):
    n = N_TREATED + N_CONTROL
    unit = np.repeat(np.arange(n), PERIODS)
    t = np.tile(np.arange(1, PERIODS + 1), n)
    cohort = np.array([COHORTS[i % len(COHORTS)] if i < N_TREATED else 0 for i in range(n)])
    g = cohort[unit]
    d = ((g > 0) & (t >= g)).astype(float)
    sigma = rng.uniform(0.5, 1.5, size=n)  # families differ in how noisy they are
    e = np.zeros((n, PERIODS))
    e[:, 0] = rng.normal(size=n)
    for k in range(1, PERIODS):
        e[:, k] = 0.5 * e[:, k - 1] + math.sqrt(1 - 0.25) * rng.normal(size=n)
    y = rng.normal(size=n)[unit] + 0.2 * t + effect * d + (sigma[:, None] * e).ravel()
    return y, d, unit, t - 1


def one_panel(rng: np.random.Generator, effect: float, draws: int) -> dict[str, tuple[bool, bool]]:
    """(covered, rejected) per method for one simulated panel."""
    y, d, unit, t = simulate(rng, effect)
    fit = fit_linear(y, d[:, None], unit=unit, time=t, cluster=unit)
    robust = Robust(fit)
    out = {}
    for m in ("cr2", "cr1"):
        r = robust.coef(0, m)
        out[m] = (r.ci_low <= effect <= r.ci_high, r.p_value < 0.05)
    w = wild_cluster_bootstrap(fit, 0, draws=draws, seed=int(rng.integers(2**31)))
    out["wild"] = (w.ci_low <= effect <= w.ci_high, w.p_value < 0.05)
    return out


def run(reps: int, draws: int, seed: int) -> dict[str, dict[str, float]]:
    rng = np.random.default_rng(seed)
    results: dict[str, dict[str, float]] = {m: {} for m in METHODS}
    for label, effect in (("effect", 0.5), ("null", 0.0)):
        tally = {m: [0, 0] for m in METHODS}
        for _ in range(reps):
            for m, (cov, rej) in one_panel(rng, effect, draws).items():
                tally[m][0] += cov
                tally[m][1] += rej
        for m in METHODS:
            if label == "effect":
                results[m]["coverage"] = tally[m][0] / reps
                results[m]["power"] = tally[m][1] / reps
            else:
                results[m]["null_coverage"] = tally[m][0] / reps
                results[m]["rejection_null"] = tally[m][1] / reps
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 panels and B = 199 (CI mode)")
    parser.add_argument("--reps", type=int, default=None)
    parser.add_argument("--seed", type=int, default=20260101)
    args = parser.parse_args()
    reps = args.reps or (200 if args.quick else 1000)
    draws = 199 if args.quick else 999
    start = time.perf_counter()
    results = run(reps, draws, args.seed)
    seconds = time.perf_counter() - start
    mc_se = math.sqrt(0.05 * 0.95 / reps)
    print(
        f"{N_TREATED}+{N_CONTROL} families, {PERIODS} waves, cohorts {COHORTS}, {reps} panels per scenario"
    )
    print(f"Monte Carlo SE of a 5 % rate: {mc_se:.3f}")
    print(f"{'method':8} {'coverage':>9} {'reject H0 (null)':>17} {'power (0.5)':>12}")
    for m in METHODS:
        r = results[m]
        print(f"{m:8} {r['coverage']:9.3f} {r['rejection_null']:17.3f} {r['power']:12.3f}")
    ok = (
        0.93 <= results["cr2"]["coverage"] <= 0.97
        and 0.03 <= results["cr2"]["rejection_null"] <= 0.07
    )
    print(f"default (CR2) within 93-97 % coverage and 3-7 % rejection: {'yes' if ok else 'NO'}")
    print(
        json.dumps(
            {
                "reps": reps,
                "draws": draws,
                "seconds": round(seconds, 1),
                "default_ok": ok,
                "methods": results,
            }
        )
    )


if __name__ == "__main__":
    main()
