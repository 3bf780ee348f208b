"""Seconds per part of :func:`analysis.did.diagnostics.outcome_diagnostics` on a simulated study.

One crisis-entry study (40 + 40 families, T-2 ... T4, 20 % attrition; analysis/did/design_sim.py),
the registry outcome, every part timed on its own (the others switched off):

    python benchmarks/diagnostics_speed.py            # 9,999 RI/bootstrap draws, 2,000 MDE panels
    python benchmarks/diagnostics_speed.py --quick    # 999 draws, 500 panels
    python benchmarks/diagnostics_speed.py --clf      # Delta^SD with C-LF instead of R's FLCI
    python benchmarks/diagnostics_speed.py --before 60  # also moderndid's FLCI, 60 s per M at most

Then the Delta^SD interval per value of M on the same aligned event study (the six default M,
no breakdown search): our FLCI (analysis/did/honest_flci.py, the default) beside C-LF, and with
``--before`` moderndid 0.2.0's ``compute_flci`` (what runs used before), each M in a child
process stopped after the given seconds (with one lead it never ends).

Progress goes to stderr; the last line of output is one line of JSON with the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    import numpy as np

    from analysis.did.design_sim import CrisisDesign, simulate_study
    from analysis.did.diagnostics import PARTS, outcome_diagnostics

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--clf", action="store_true")
    ap.add_argument("--before", type=float, default=0.0, metavar="SECONDS")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    draws, reps = (999, 500) if args.quick else (9999, 2000)
    design = CrisisDesign(effect="constant", attrition=0.2)
    df = simulate_study(design, np.random.default_rng(args.seed)).frame()
    seconds: dict[str, float] = {}
    for part in PARTS:
        only = {p: p == part for p in PARTS}
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome_diagnostics(
                df,
                outcome="registry",
                parts=only,
                draws=draws,
                mde_reps=reps,
                sd_method="C-LF" if args.clf else "FLCI",
            )
        seconds[part] = round(time.perf_counter() - start, 3)
        print(f"  ... {part}: {seconds[part]:.2f} s", file=sys.stderr, flush=True)
    per_m = sd_per_m(df, args.before)
    total = round(sum(seconds.values()), 3)
    print(f"{'part':<14}{'seconds':>10}")
    for part, s in seconds.items():
        print(f"{part:<14}{s:>10.2f}")
    print(f"{'total':<14}{total:>10.2f}")
    print(f"\nDelta^SD per M (seconds; {per_m['leads']} lead(s), {per_m['post']} post periods)")
    print(f"{'M':>10}{'FLCI':>10}{'C-LF':>10}" + (f"{'moderndid':>12}" if args.before else ""))
    for row in per_m["rows"]:
        line = f"{row['m']:>10.4f}{row['FLCI_s']:>10.4f}{row['C-LF_s']:>10.3f}"
        if args.before:
            md = row["moderndid_s"]
            line += f"{md:>12.2f}" if md is not None else f"{'> ' + format(args.before, 'g'):>12}"
        print(line)
    print(
        json.dumps(
            {
                "benchmark": "diagnostics_speed",
                "families": int(df.family.nunique()),
                "draws": draws,
                "mde_reps": reps,
                "sd_method": "C-LF" if args.clf else "FLCI",
                "seconds": seconds,
                "sd_per_m": per_m,
                "total_seconds": total,
            }
        )
    )


def _moderndid_flci(beta, sigma, n_pre, l_vec, m, out) -> None:
    from moderndid.didhonest.fixed_length_ci import compute_flci

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compute_flci(beta, sigma, m, n_pre, l_vec.size, post_period_weights=l_vec)
    out.put(True)


def _moderndid_seconds(beta, sigma, n_pre, l_vec, m, limit: float) -> float | None:
    """Seconds of moderndid's compute_flci in a child process; None if stopped at ``limit``."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    done = ctx.Queue()
    proc = ctx.Process(target=_moderndid_flci, args=(beta, sigma, n_pre, l_vec, m, done))
    start = time.perf_counter()
    proc.start()
    proc.join(limit)
    elapsed = time.perf_counter() - start
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return None
    return round(elapsed, 3) if not done.empty() else None


def sd_per_m(df, before: float) -> dict:
    """Seconds per M of the Delta^SD interval on the study's aligned event study."""
    import numpy as np

    from analysis.did.diagnostics_parts import event_study_coefficients
    from analysis.did.honest_sensitivity import (
        sd_clf_interval,
        sd_default_grid,
        sd_interval,
        target_vector,
    )

    cols = {"unit": "family", "time": "year", "arm": "arm", "intake": "intake"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        beta, sigma, times, ref = event_study_coefficients(df, cols=cols, outcome="registry")
    leads, post = [e for e in times if e < ref], [e for e in times if e > ref]
    idx = [times.index(e) for e in leads + post]
    beta, sigma = beta[idx], sigma[np.ix_(idx, idx)]
    l_vec, n_pre = target_vector(post), len(leads)
    sd_interval(beta, sigma, n_pre=n_pre, l_vec=l_vec, m=0.0)  # imports out of the timing
    rows = []
    for m in sd_default_grid(beta, sigma, n_pre):
        row: dict = {"m": m}
        for name, fn in (("FLCI", sd_interval), ("C-LF", sd_clf_interval)):
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lo, hi = fn(beta, sigma, n_pre=n_pre, l_vec=l_vec, m=m)
            row[f"{name}_s"] = round(time.perf_counter() - start, 4)
            row[f"{name}_ci"] = [round(lo, 4), round(hi, 4)]
        if before:
            row["moderndid_s"] = _moderndid_seconds(beta, sigma, n_pre, l_vec, m, before)
        rows.append(row)
        print(f"  ... Delta^SD M = {m:.4f}: FLCI {row['FLCI_s']:.4f} s", file=sys.stderr)
    return {"leads": n_pre, "post": len(post), "rows": rows, "moderndid_limit_s": before or None}


if __name__ == "__main__":
    main()
