"""Monte Carlo of the intake-aligned design under crisis entry, next to the calendar-time TWFE.

Studies of 40 + 40 families selected at a crisis by the MPG eligibility rule (AR(1) problems,
three domains in the intake year, support in the two years before; intake spread over three
calendar years; the effect starts at a random date in the intake year), simulated by
:mod:`analysis.did.design_sim` (its docstring documents the process). Cells: effect scenario
(null, constant -0.4, growing to -0.64) x outcome (registry T-2..T4, survey T0..T4, binary LPM,
count PPML) x rho (0.5, 0.7) x attrition (0 %, 15 % completely at random). Per cell, for the
default aligned estimator and the calendar-time TWFE (cohort = intake + 1 for intervention, 0
for comparison, the report's old model): bias and RMSE against the mean true effect over the
intervention family-years after intake, coverage of the 95 % interval and the rejection rate of
"no effect" (the size under the null). Bias and RMSE are in outcome-SD units (SD of the
untreated outcome over the study's family-years) except for counts, which are on the log scale
of the Poisson coefficient (log points). Defaults:

* registry, binary: aligned DiD, T0 its own coefficient, CR2 + Satterthwaite df;
* survey: aligned DiD with T0 as the reference (t0 = baseline), CR2 + Satterthwaite df;
* count: aligned Poisson PML, T0 own, CR1 with G-1 df (GLM CR2 + Satterthwaite df beside it).

For the registry outcome the stacked-by-intake-year and imputation estimates are shown as well.
A reported-only "deeper crisis" scenario (intervention families 0.5 SD deeper at intake) shows
the bias it causes and how often the T0 balance check and the ANCOVA bracket flag it (next to
their false-flag rate without it). Ends with one line of JSON.

    python benchmarks/did_montecarlo.py               # 2,000 studies per cell
    python benchmarks/did_montecarlo.py --quick       # 200 studies per cell (make bench)
    python benchmarks/did_montecarlo.py --jobs 2      # worker processes (same numbers)
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

# one BLAS thread per process: the matrices are small and the machine is shared (--jobs scales)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.did.design_fits import study_estimates  # noqa: E402
from analysis.did.design_sim import CrisisDesign, simulate_study  # noqa: E402

EFFECTS = ("null", "constant", "growing")
RHOS = (0.5, 0.7)
ATTRITION = (0.0, 0.15)
OUTCOMES = ("registry", "survey", "binary", "count")
CHUNK = 25
ALPHA = 0.05
SIZE, COVERAGE, MAX_BIAS = (0.03, 0.07), (0.93, 0.97), 0.05  # the done-when window


def configs() -> list[dict[str, Any]]:
    """The simulated designs: the 12 main ones and the reported-only deeper-crisis ones."""
    out = [
        {"effect": e, "rho": r, "attrition": a, "deeper": 0.0}
        for e, r, a in itertools.product(EFFECTS, RHOS, ATTRITION)
    ]
    out += [{"effect": "null", "rho": r, "attrition": 0.0, "deeper": 0.5} for r in RHOS]
    return out


def run_chunk(task: tuple[int, int, int, int]) -> dict[str, Any]:
    """``n`` studies of configuration ``k`` (chunk ``c``), seeded by (seed, k, c)."""
    seed, k, c, n = task
    cfg = configs()[k]
    design = CrisisDesign(**cfg)
    rng = np.random.default_rng(np.random.SeedSequence([seed, k, c]))
    est: dict[str, list[tuple[float, ...]]] = defaultdict(list)
    truth: dict[str, list[float]] = defaultdict(list)
    flags: dict[str, list[bool]] = defaultdict(list)
    var: dict[str, list[float]] = defaultdict(list)
    for _ in range(n):
        s = simulate_study(design, rng)
        rows, fl = study_estimates(s)
        for key, r in rows.items():
            est[key].append((r.estimate, r.se, r.ci_low, r.ci_high, r.p_value))
        for o in OUTCOMES:
            truth[o].append(s.truth[o])
            var[o].append(float(np.nanvar(s.untreated[o])))
        for key, f in fl.items():
            flags[key].append(f)
    return {"k": k, "est": dict(est), "truth": dict(truth), "flags": dict(flags), "var": dict(var)}


def summarise(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bias, RMSE, coverage and rejection per configuration, outcome and estimator."""
    by_k: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for part in parts:
        by_k[part["k"]].append(part)
    cells = []
    for k, chunks in sorted(by_k.items()):
        cfg = configs()[k]
        truth = {o: np.concatenate([c["truth"][o] for c in chunks]) for o in OUTCOMES}
        sd = {
            o: math.sqrt(np.mean(np.concatenate([c["var"][o] for c in chunks]))) for o in OUTCOMES
        }
        flags = {
            f: float(np.mean(np.concatenate([c["flags"][f] for c in chunks])))
            for f in chunks[0]["flags"]
        }
        for key in chunks[0]["est"]:
            outcome, estimator = key.split("/")
            a = np.concatenate([np.asarray(c["est"][key]) for c in chunks])
            t = truth[outcome]
            unit = 1.0 if outcome == "count" else sd[outcome]
            err = (a[:, 0] - t) / unit
            cells.append(
                {
                    **cfg,
                    "outcome": outcome,
                    "estimator": estimator,
                    "reps": int(a.shape[0]),
                    "truth": float(t.mean() / unit),
                    "bias": float(err.mean()),
                    "rmse": float(np.sqrt(np.mean(err**2))),
                    "coverage": float(np.mean((a[:, 2] <= t) & (t <= a[:, 3]))),
                    "reject": float(np.mean(a[:, 4] < ALPHA)),
                    "sd": float(unit),
                    "flags": flags if estimator == "aligned" and outcome == "survey" else {},
                }
            )
    return cells


def default_ok(cell: dict[str, Any]) -> bool:
    """The issue's window for the default estimator: size, coverage and bias."""
    ok = COVERAGE[0] <= cell["coverage"] <= COVERAGE[1] and abs(cell["bias"]) < MAX_BIAS
    if cell["effect"] == "null":
        ok = ok and SIZE[0] <= cell["reject"] <= SIZE[1]
    return ok


def _print_table(cells: list[dict[str, Any]]) -> None:
    head = f"{'effect':9}{'outcome':9}{'rho':>4}{'attr':>5}  {'estimator':12}{'truth':>7}{'bias':>8}{'rmse':>7}{'cover':>7}{'reject':>7}"
    print(head)
    for c in cells:
        if c["deeper"]:
            continue
        mark = ""
        if c["estimator"] == "aligned":
            mark = "  ok" if default_ok(c) else "  MISS"
        print(
            f"{c['effect']:9}{c['outcome']:9}{c['rho']:4.1f}{c['attrition']:5.2f}  {c['estimator']:12}"
            f"{c['truth']:7.3f}{c['bias']:8.3f}{c['rmse']:7.3f}{c['coverage']:7.3f}{c['reject']:7.3f}{mark}"
        )


def _print_deeper(cells: list[dict[str, Any]]) -> None:
    print("\nDeeper crisis (intervention arm 0.5 SD deeper at intake, no effect), reported only:")
    for c in cells:
        if c["deeper"] and c["estimator"] in ("aligned", "calendar", "ancova_t0"):
            print(
                f"  {c['outcome']:9}rho {c['rho']:.1f}  {c['estimator']:10} bias {c['bias']:7.3f}"
                f"  reject {c['reject']:6.3f}"
            )
    print("Flag rates of the design checks (survey outcome's study; share of studies):")
    for c in cells:
        if c["flags"] and (c["deeper"] or (c["effect"] == "null" and c["attrition"] == 0)):
            kind = "deeper crisis" if c["deeper"] else "no violation "
            f = c["flags"]
            print(
                f"  {kind} rho {c['rho']:.1f}: T0 balance (survey) {f['survey_balance']:.3f},"
                f" T0 balance (registry T0) {f['registry_balance']:.3f},"
                f" ANCOVA bracket {f['survey_bracket']:.3f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 studies per cell (make bench)")
    parser.add_argument("--reps", type=int, default=None, help="studies per cell (default 2000)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--seed", type=int, default=20260113)
    args = parser.parse_args()
    reps = args.reps or (200 if args.quick else 2000)
    tasks = [
        (args.seed, k, c, min(CHUNK, reps - c * CHUNK))
        for k in range(len(configs()))
        for c in range(math.ceil(reps / CHUNK))
    ]
    start = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            parts = list(pool.map(run_chunk, tasks))
    else:
        parts = [run_chunk(t) for t in tasks]
    seconds = time.perf_counter() - start
    cells = summarise(parts)
    studies = reps * len(configs())
    print(
        f"40 + 40 families at a crisis, intake over 3 years, {reps} studies per cell,"
        f" {seconds:.0f} s ({1000 * seconds / studies:.0f} ms per study, all estimators)"
    )
    print(
        f"Monte Carlo SE of a 5 % rate: {math.sqrt(0.05 * 0.95 / reps):.3f}; bias in SD units (count: log points)\n"
    )
    _print_table(cells)
    _print_deeper(cells)
    defaults = [c for c in cells if c["estimator"] == "aligned" and not c["deeper"]]
    ok = all(default_ok(c) for c in defaults)
    if reps < 2000:
        print(
            f"\n(at {reps} studies per cell a correct estimator misses the window by chance; judge at >= 2,000)"
        )
    print(
        f"\ndefault estimator within size 3-7 %, coverage 93-97 %, |bias| < 0.05 SD in every cell: {'yes' if ok else 'NO'}"
    )
    print(
        json.dumps(
            {"reps": reps, "seconds": round(seconds, 1), "default_ok": ok, "cells": cells},
            separators=(",", ":"),
        )
    )


if __name__ == "__main__":
    main()
