"""Speed of a full analysis run on the demo study: our bootstrap next to a naive one.

Sets up its own SQLite database in a temporary directory (migrate, seed the demo study, freeze
its analysis plan), then times, side by side:

  ours   one full run (panels from the database, every research question, the wild cluster
         bootstrap with B draws per linear outcome, the HTML and PDF report), in-process
  naive  the same run without the bootstrap, plus a refit-per-draw bootstrap loop (statsmodels
         OLS with unit and year dummies and clustered SEs, one refit per draw) for every
         bootstrapped outcome, timed on a sample of draws and extrapolated to B

Goal (issue 6): the full run with B = 9,999 under 60 s on 2 cores.

Then (issue 14) the demo analysis on the aligned design with all diagnostics (HonestDiD, balance,
IPW, the robustness panel with randomisation inference, the simulated MDE) beside the same run
without them, and the seconds of each diagnostic part as a ratio to the run without them
(randomisation inference timed on its own inside the robustness panel; the rest of that panel is
mostly the wild bootstrap).

    python benchmarks/report_speed.py            # B = 9,999; 100 naive draws per outcome
    python benchmarks/report_speed.py --quick    # B = 999; 10 naive draws per outcome (CI)
    python benchmarks/report_speed.py --quick --flci 2   # also Delta^SD: C-LF beside FLCI

Progress goes to stderr; the last line of output is one line of JSON with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_SECONDS = 60.0


def progress(message: str) -> None:
    print(f"  ... {message}", file=sys.stderr, flush=True)


def setup_django(db_path: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tracker.test_settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    progress("migrating a fresh SQLite database")
    call_command("migrate", verbosity=0, interactive=False)


def seed():
    from analysis.plans.plan_services import analysis_plan_freeze
    from study.demo import DEMO_SEED
    from tracker.setup import demo_set_up

    progress("seeding the demo study")
    study, _ = demo_set_up(seed=DEMO_SEED)
    researcher = study.memberships.get(role="researcher").user
    return study, analysis_plan_freeze(study=study, user=researcher)


def full_run(study, plan, draws: int):
    from analysis.models import AnalysisRun
    from analysis.runs.services import analysis_run_execute

    run = AnalysisRun.objects.create(
        study=study,
        plan=plan,
        params={"estimator": "twfe", "inference": "cr2", "draws": draws, "seed": 2016},
    )
    start = time.perf_counter()
    run = analysis_run_execute(run_id=run.pk)
    seconds = time.perf_counter() - start
    if run.status != AnalysisRun.Status.SUCCEEDED:
        raise SystemExit(f"run failed: {run.error}")
    return run, seconds


def aligned_run(study, plan, draws: int, diagnostics: bool, mde_reps: int):
    from analysis.models import AnalysisRun
    from analysis.runs.services import analysis_run_execute

    params = {
        "design": "aligned",
        "inference": "cr2",
        "draws": draws,
        "seed": 2016,
        "diagnostics": diagnostics,
        "mde_reps": mde_reps,
    }
    run = AnalysisRun.objects.create(study=study, plan=plan, params=params)
    start = time.perf_counter()
    run = analysis_run_execute(run_id=run.pk)
    seconds = time.perf_counter() - start
    if run.status != AnalysisRun.Status.SUCCEEDED:
        raise SystemExit(f"run failed: {run.error}")
    return run, seconds


def diagnostic_parts(study, run, draws: int, mde_reps: int) -> dict[str, float]:
    """Seconds per diagnostic part on the run's answers (each part computed on its own)."""
    import copy

    from analysis.did import diagnostics_robust
    from analysis.effects.run_diagnostics import add_diagnostics

    spent = {"ri": 0.0}
    original = diagnostics_robust.aligned_ri

    def timed_ri(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent["ri"] += time.perf_counter() - start

    family = panels(study)["family"][0]
    timings: dict[str, float] = {}
    diagnostics_robust.aligned_ri = timed_ri
    try:
        add_diagnostics(
            family,
            copy.deepcopy(run.results),
            params={"draws": draws, "seed": 2016, "mde_reps": mde_reps},
            timings=timings,
        )
    finally:
        diagnostics_robust.aligned_ri = original
    timings["randomisation_inference"] = spent["ri"]
    timings["robustness_without_ri"] = timings.pop("robustness", 0.0) - spent["ri"]
    return timings


def honest_sd_methods(study, run, m_values: int) -> dict[str, float]:
    """Seconds of the Delta^SD sensitivity under C-LF and under FLCI (R's default) on the
    first primary aligned outcome with a pre-intake year, ``m_values`` values of M each."""
    from analysis.did.diagnostics_parts import honest_part
    from analysis.effects.run_diagnostics import T0_MODE, _frame

    family = panels(study)["family"][0]
    rows = [
        o
        for q in run.results["questions"]
        for o in q["outcomes"]
        if o.get("primary")
        and o.get("outcome_design") == "pre_period"
        and "honest" in o
        and o.get("model") != "ppml"
    ]
    if not rows:
        return {}
    o = rows[0]
    intervals = (o["honest"].get("sd") or {}).get("intervals") or [{"value": 0.0}]
    values = [r["value"] for r in intervals][:m_values]
    data = _frame(family, o["code"])
    cols = {"unit": "family_id", "time": "year", "arm": "arm01", "intake": "intake_year"}
    out: dict[str, float] = {"outcome": o["code"], "m_values": len(values)}  # type: ignore[dict-item]
    for method in ("C-LF", "FLCI"):
        start = time.perf_counter()
        honest_part(
            data,
            cols=cols,
            outcome=o["code"],
            t0=T0_MODE[o["outcome_design"]],
            restrictions=("sd",),
            sd_method=method,
            m_grid=values,
        )
        out[f"{method}_s"] = round(time.perf_counter() - start, 2)
    return out


def bootstrapped_outcomes(run) -> list[tuple[str, str]]:
    """(outcome code, unit) of every outcome whose result holds a wild-bootstrap row."""
    from analysis.effects.derive import PROFESSIONAL_OUTCOMES

    return [
        (o["code"], "professional" if o["code"] in PROFESSIONAL_OUTCOMES else "family")
        for q in run.results["questions"]
        for o in q["outcomes"]
        if (o.get("robustness") or {}).get("wild")
    ]


def naive_seconds_per_draw(data, unit: str, outcome: str, n_draws: int) -> float:
    """A refit-per-draw wild cluster bootstrap (restricted residuals, Rademacher weights)."""
    import numpy as np
    import pandas as pd
    import statsmodels.api as sm

    df = data[[unit, "year", "cohort", outcome]].dropna()
    d = ((df["cohort"] > 0) & (df["year"] >= df["cohort"])).astype(float)
    X = pd.concat(
        [
            d.rename("d"),
            pd.get_dummies(df[unit], prefix="u", dtype=float),
            pd.get_dummies(df["year"], prefix="t", dtype=float).iloc[:, 1:],
        ],
        axis=1,
    ).to_numpy()
    y = df[outcome].to_numpy(dtype=float)
    clusters = pd.factorize(df[unit])[0]
    restricted = sm.OLS(y, X[:, 1:]).fit()
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(n_draws):
        v = rng.choice([-1.0, 1.0], size=clusters.max() + 1)[clusters]
        ystar = restricted.fittedvalues + restricted.resid * v
        sm.OLS(ystar, X).fit(cov_type="cluster", cov_kwds={"groups": clusters}).tvalues[0]
    return (time.perf_counter() - start) / n_draws


def panels(study):
    from analysis.effects import derive
    from analysis.runs.frames import build_frames

    frames = build_frames(study)
    family = derive.family_year_panel(
        frames["families"],
        frames["wide"],
        frames["surveys"],
        frames["involvements"],
        frames["contacts"],
        frames["costs"],
    )
    professional = derive.professional_panel(
        frames["professionals"], start_year=study.start_date.year
    )
    return {"family": (family, "family_id"), "professional": (professional, "unit")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="B = 999, 10 naive draws (CI)")
    parser.add_argument("--draws", type=int, help="bootstrap draws per outcome (default 9999)")
    parser.add_argument("--naive-draws", type=int, help="naive draws timed per outcome")
    parser.add_argument(
        "--flci",
        type=int,
        default=0,
        metavar="M",
        help="also time the Delta^SD sensitivity with C-LF and FLCI on M values of M",
    )
    args = parser.parse_args()
    draws = args.draws or (999 if args.quick else 9999)
    naive_draws = args.naive_draws or (10 if args.quick else 100)
    warnings.filterwarnings("ignore")

    with tempfile.TemporaryDirectory() as tmp:
        setup_django(str(Path(tmp, "bench.sqlite3")))
        study, plan = seed()
        progress("warm-up run (imports, font and Typst caches; not timed)")
        full_run(study, plan, 0)
        progress("full run without bootstrap")
        _, base_s = full_run(study, plan, 0)
        progress(f"full run with {draws} bootstrap draws per outcome")
        run, ours_s = full_run(study, plan, draws)
        outcomes = bootstrapped_outcomes(run)
        progress(f"naive refit loop: {naive_draws} draws on each of {len(outcomes)} outcomes")
        data = panels(study)
        per_draw = {
            code: naive_seconds_per_draw(data[u][0], data[u][1], code, naive_draws)
            for code, u in outcomes
        }
        naive_s = base_s + sum(per_draw.values()) * draws
        mde_reps = 200 if args.quick else 2000
        progress("aligned run without diagnostics")
        _, plain_s = aligned_run(study, plan, draws, False, mde_reps)
        progress(f"aligned run with all diagnostics ({draws} draws, {mde_reps} MDE panels)")
        diag_run, diag_s = aligned_run(study, plan, draws, True, mde_reps)
        progress("diagnostic parts one by one")
        parts = diagnostic_parts(study, diag_run, draws, mde_reps)
        sd_methods = {}
        if args.flci:
            progress(f"Delta^SD with C-LF and FLCI on {args.flci} values of M")
            sd_methods = honest_sd_methods(study, diag_run, args.flci)
        figures = {
            "benchmark": "report_speed",
            "quick": bool(args.quick),
            "draws_per_outcome": draws,
            "bootstrapped_outcomes": len(outcomes),
            "families": run.results.get("n_families"),
            "run_without_bootstrap_s": round(base_s, 2),
            "ours_full_run_s": round(ours_s, 2),
            "naive_full_run_extrapolated_s": round(naive_s, 1),
            "naive_draws_timed_per_outcome": naive_draws,
            "naive_ms_per_draw_mean": round(
                1000 * sum(per_draw.values()) / max(len(per_draw), 1), 2
            ),
            "speedup_vs_naive": round(naive_s / ours_s, 1) if ours_s else None,
            "goal_s": GOAL_SECONDS,
            "meets_goal": ours_s < GOAL_SECONDS if draws >= 9999 else None,
            "cpu_count": os.cpu_count(),
            "aligned_run_without_diagnostics_s": round(plain_s, 2),
            "aligned_run_with_diagnostics_s": round(diag_s, 2),
            "diagnostics_ratio": round(diag_s / plain_s, 2) if plain_s else None,
            "diagnostic_mde_reps": mde_reps,
            "diagnostic_part_s": {k: round(v, 2) for k, v in parts.items()},
            "diagnostic_part_ratio": {
                k: round(v / plain_s, 2) if plain_s else None for k, v in parts.items()
            },
            "honest_sd_methods": sd_methods,
        }
    print(f"Full analysis run on the demo study ({figures['families']} families), B = {draws}:")
    print(
        f"  ours, full run incl. report        {ours_s:8.2f} s  (goal < {GOAL_SECONDS:.0f} s at B = 9,999)"
    )
    print(f"  same run without bootstrap         {base_s:8.2f} s")
    print(
        f"  naive refit loop, extrapolated     {naive_s:8.1f} s  ({figures['speedup_vs_naive']}x slower)"
    )
    print(f"Aligned demo run, B = {draws}, {mde_reps} simulated panels per MDE:")
    print(f"  without diagnostics                {plain_s:8.2f} s")
    print(
        f"  with all diagnostics               {diag_s:8.2f} s  "
        f"({figures['diagnostics_ratio']}x the run without)"
    )
    for part, sec in parts.items():
        ratio = figures["diagnostic_part_ratio"][part]
        print(f"    {part:<30} {sec:8.2f} s  ({ratio}x the run without diagnostics)")
    if sd_methods:
        print(
            f"Delta^SD on {sd_methods['outcome']} ({sd_methods['m_values']} values of M): "
            f"C-LF {sd_methods['C-LF_s']:.2f} s, FLCI {sd_methods['FLCI_s']:.2f} s"
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
