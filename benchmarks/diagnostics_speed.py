"""Seconds per part of :func:`analysis.did.diagnostics.outcome_diagnostics` on a simulated study.

One crisis-entry study (40 + 40 families, T-2 ... T4, 20 % attrition; analysis/did/design_sim.py),
the registry outcome, every part timed on its own (the others switched off):

    python benchmarks/diagnostics_speed.py            # 9,999 RI/bootstrap draws, 2,000 MDE panels
    python benchmarks/diagnostics_speed.py --quick    # 999 draws, 500 panels
    python benchmarks/diagnostics_speed.py --flci     # Delta^SD with R's FLCI instead of C-LF

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
    ap.add_argument("--flci", action="store_true")
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
                sd_method="FLCI" if args.flci else "C-LF",
            )
        seconds[part] = round(time.perf_counter() - start, 3)
        print(f"  ... {part}: {seconds[part]:.2f} s", file=sys.stderr, flush=True)
    total = round(sum(seconds.values()), 3)
    print(f"{'part':<14}{'seconds':>10}")
    for part, s in seconds.items():
        print(f"{part:<14}{s:>10.2f}")
    print(f"{'total':<14}{total:>10.2f}")
    print(
        json.dumps(
            {
                "benchmark": "diagnostics_speed",
                "families": int(df.family.nunique()),
                "draws": draws,
                "mde_reps": reps,
                "sd_method": "FLCI" if args.flci else "C-LF",
                "seconds": seconds,
                "total_seconds": total,
            }
        )
    )


if __name__ == "__main__":
    main()
