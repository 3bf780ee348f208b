"""Verdicts of the report's analysis on many demo seeds: is each documented effect found, is a
documented null ever called?

For every seed the pure demo generator (study/demo_data.py, crisis entry: both arms selected by
the eligibility rule) makes a study, the run's own pipeline (analysis/effects: derive the
panels, answer the registry's questions on the aligned design, Holm over all primary outcomes of
the plan, BH across the secondary ones, the verdict rule) gives its verdicts. Per documented
effect: the share of seeds in which it is *found* (the verdict names the documented direction,
is favourable and is not "onzeker"; goal >= 80 %); per documented null: the share of seeds in
which an effect is *claimed* (afgenomen or toegenomen; goal <= 5 %). Costs are left out (they
need the price catalogue in the database); they still count in the multiplicity family. The
shipped seed (DEMO_SEED) is reported on its own line. Ends with one line of JSON.

    python benchmarks/demo_verdicts.py              # 100 seeds
    python benchmarks/demo_verdicts.py --quick      # 20 seeds (smoke run)
    python benchmarks/demo_verdicts.py --jobs 2     # worker processes (same numbers)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.effects import derive, estimate
from analysis.effects.adjustment import DECREASED, INCREASED
from analysis.effects.questions import QUESTIONS
from study.demo_data import (
    DEMO_SEED,
    NULL_OUTCOMES,
    TRUE_EFFECTS,
    demo_frames,
    generate_demo,
)

GOAL_FOUND, GOAL_CLAIMED = 0.80, 0.05


def demo_verdicts(seed: int) -> dict[str, dict]:
    """Outcome code -> its verdict fields on the demo study of ``seed``."""
    frames = demo_frames(generate_demo(seed))
    family = derive.family_year_panel(
        frames["families"],
        frames["wide"],
        frames["surveys"],
        frames["involvements"],
        frames["contacts"],
        None,
    )
    professional = derive.professional_panel(frames["professionals"], start_year=2020)
    results = estimate.answer_questions(family, professional, QUESTIONS)
    return {
        o["code"]: {k: o.get(k) for k in ("verdict", "direction", "improved", "effect", "p")}
        for q in results["questions"]
        for o in q["outcomes"]
    }


def found(row: dict, code: str) -> bool:
    """The documented effect is found: its direction, favourable, not uncertain."""
    want = DECREASED if TRUE_EFFECTS[code]["direction"] == "decrease" else INCREASED
    return row["verdict"] == want and row["improved"] is True


def claimed(row: dict) -> bool:
    return row["verdict"] in (DECREASED, INCREASED)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="20 seeds")
    parser.add_argument("--first", type=int, default=1, help="first seed (default 1)")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)
    n = 20 if args.quick else args.seeds
    seeds = list(range(args.first, args.first + n))
    started = time.monotonic()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        runs = list(pool.map(demo_verdicts, seeds)) if args.jobs > 1 else None
    if runs is None:
        runs = [demo_verdicts(s) for s in seeds]
    effects = {c: sum(found(r[c], c) for r in runs) / n for c in TRUE_EFFECTS}
    nulls = {c: sum(claimed(r[c]) for r in runs) / n for c in NULL_OUTCOMES}
    print(f"demo verdicts over {n} seeds ({args.first}..{args.first + n - 1})")
    print(f"{'documented effect':<28} {'found':>7}  goal >= {GOAL_FOUND:.0%}")
    for code, share in effects.items():
        mark = "ok" if share >= GOAL_FOUND else "BELOW GOAL"
        print(f"{code:<28} {share:>7.0%}  {mark}")
    print(f"{'documented null':<28} {'claimed':>7}  goal <= {GOAL_CLAIMED:.0%}")
    for code, share in nulls.items():
        mark = "ok" if share <= GOAL_CLAIMED else "ABOVE GOAL"
        print(f"{code:<28} {share:>7.0%}  {mark}")
    shipped = demo_verdicts(DEMO_SEED)
    ok_effects = all(found(shipped[c], c) for c in TRUE_EFFECTS)
    ok_nulls = not any(claimed(shipped[c]) for c in NULL_OUTCOMES)
    print(f"shipped seed {DEMO_SEED}: every effect found {ok_effects}, no null called {ok_nulls}")
    seconds = round(time.monotonic() - started, 1)
    print(
        json.dumps(
            {
                "benchmark": "demo_verdicts",
                "seeds": n,
                "found": effects,
                "claimed": nulls,
                "goals_met": all(v >= GOAL_FOUND for v in effects.values())
                and all(v <= GOAL_CLAIMED for v in nulls.values()),
                "shipped_seed": DEMO_SEED,
                "shipped_seed_ok": ok_effects and ok_nulls,
                "seconds": seconds,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
