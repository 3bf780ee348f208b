"""Speed of the DiD engine next to baselines, on the demo panel (80 families x 7 waves) and 10x.

Times, side by side: one TWFE fit with CR2 (goal < 50 ms on the demo panel); our restricted
wild cluster bootstrap with 9,999 draws (p-value; and p-value plus test-inversion CI) against
a naive loop that refits statsmodels OLS with dummies for every draw (a few hundred draws timed
and extrapolated, demo panel only; goal >= 300x faster) and against pyfixest's ``wildboottest`` on the same
model (goal: not slower); and, if present, a full Callaway & Sant'Anna run with all
aggregations (goal < 0.5 s). Ends with one line of JSON.

    python benchmarks/did_speed.py           # best of 5 repeats, 300 naive draws
    python benchmarks/did_speed.py --quick   # best of 2, 50 naive draws (CI)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.did.inference import Robust, codes, fit_linear, wild_cluster_bootstrap
from analysis.did.twfe import twfe

DRAWS = 9999


def panel(n_families: int, periods: int = 7, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_families), periods)
    t = np.tile(np.arange(1, periods + 1), n_families)
    cohort = np.where(np.arange(n_families) < n_families // 2, 3 + np.arange(n_families) % 3, 0)
    g = cohort[unit]
    d = ((g > 0) & (t >= g)).astype(float)
    y = rng.normal(size=n_families)[unit] + 0.2 * t + 0.4 * d + rng.normal(size=unit.size)
    return pd.DataFrame({"family": unit, "wave": t, "intake": g, "y": y, "d": d})


def progress(message: str) -> None:
    print(f"  ... {message}", file=sys.stderr, flush=True)


def best_of(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def naive_wild_seconds(df: pd.DataFrame, n_draws: int) -> float:
    """Seconds per draw of a refit-per-draw WCR loop with statsmodels and dummies."""
    import statsmodels.api as sm

    X = pd.concat(
        [
            df[["d"]],
            pd.get_dummies(df["family"], prefix="u", dtype=float),
            pd.get_dummies(df["wave"], prefix="t", dtype=float).iloc[:, 1:],
        ],
        axis=1,
    ).to_numpy()
    y = df["y"].to_numpy()
    cl = codes(df["family"])
    restricted = sm.OLS(y, X[:, 1:]).fit()
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(n_draws):
        v = rng.choice([-1.0, 1.0], size=cl.max() + 1)[cl]
        ystar = restricted.fittedvalues + restricted.resid * v
        sm.OLS(ystar, X).fit(cov_type="cluster", cov_kwds={"groups": cl}).tvalues[0]
    return (time.perf_counter() - start) / n_draws


def fit_of(df: pd.DataFrame):
    return fit_linear(
        df["y"].to_numpy(),
        df[["d"]].to_numpy(),
        unit=codes(df["family"]),
        time=codes(df["wave"]),
        cluster=codes(df["family"]),
    )


def pyfixest_wild(df: pd.DataFrame, reps: int = DRAWS) -> Callable[[], object]:
    import pyfixest as pf

    model = pf.feols("y ~ d | family + wave", data=df, vcov={"CRV1": "family"})
    return lambda: model.wildboottest(param="d", reps=reps, seed=1)


def cs_runner(df: pd.DataFrame) -> Callable[[], object] | None:
    try:
        from analysis.did.cs import callaway_santanna
    except ImportError:
        return None
    return lambda: callaway_santanna(df, unit="family", time="wave", cohort="intake", outcome="y")


def measure(
    n_families: int, repeats: int, naive_draws: int, pyfixest_large: bool = False
) -> dict[str, float | None]:
    df = panel(n_families)
    cols = {"unit": "family", "time": "wave", "cohort": "intake", "outcome": "y"}
    out: dict[str, float | None] = {}
    progress(f"{n_families} families: TWFE")
    out["twfe_cr2_s"] = best_of(lambda: twfe(df, **cols, robustness=()), repeats)
    out["twfe_cr2_core_s"] = best_of(lambda: Robust(fit_of(df)).coef(0, "cr2"), repeats)
    fit = fit_of(df)
    progress(f"{n_families} families: our WCR")
    out["wild_p_s"] = best_of(
        lambda: wild_cluster_bootstrap(fit, 0, draws=DRAWS, seed=1, weights="rademacher"), repeats
    )
    from analysis.did.inference import WildBootstrap, bootstrap_weights

    def p_only() -> float:
        v, _, _ = bootstrap_weights(fit.n_clusters, DRAWS, kind="rademacher", seed=1)
        return WildBootstrap(fit, 0, v).p_value(0.0)

    out["wild_p_only_s"] = best_of(p_only, repeats)
    if naive_draws:
        progress(f"{n_families} families: naive loop, {naive_draws} draws")
        per_draw = naive_wild_seconds(df, naive_draws)
        out["naive_wild_extrapolated_s"] = per_draw * DRAWS
        out["speedup_vs_naive"] = out["naive_wild_extrapolated_s"] / out["wild_p_only_s"]
    else:
        out["naive_wild_extrapolated_s"] = out["speedup_vs_naive"] = None
    progress(f"{n_families} families: pyfixest wildboottest")
    # pyfixest's wildboottest needs several minutes even for 999 draws with 800 clusters, so on
    # the large panel it only runs with --pyfixest-large (999 draws, time scaled to 9,999).
    reps = DRAWS if n_families <= 80 else 999
    try:
        if n_families > 80 and not pyfixest_large:
            raise RuntimeError("skipped on the large panel (use --pyfixest-large; takes minutes)")
        run = pyfixest_wild(df, reps)
        run()  # first call compiles numba code
        out["pyfixest_wild_s"] = best_of(run, max(1, repeats // 2)) * DRAWS / reps
        out["ratio_pyfixest_over_ours"] = out["pyfixest_wild_s"] / out["wild_p_only_s"]
    except Exception as exc:  # report, do not hide, a missing or failing baseline
        print(f"  pyfixest wildboottest unavailable: {exc}")
        out["pyfixest_wild_s"] = out["ratio_pyfixest_over_ours"] = None
    progress(f"{n_families} families: Callaway & Sant'Anna")
    cs = cs_runner(df)
    if cs:
        cs()  # first call imports moderndid
    out["cs_full_s"] = best_of(cs, repeats) if cs else None
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and naive draws (CI)")
    parser.add_argument(
        "--pyfixest-large", action="store_true", help="also time pyfixest on 800 families (slow)"
    )
    args = parser.parse_args()
    repeats, naive_draws = (2, 50) if args.quick else (5, 300)
    warnings.filterwarnings("ignore")
    sizes = {"demo_80x7": 80, "large_800x7": 800}
    # The naive loop refits a 5,600 x 807 dummy regression per draw on the large panel: about
    # 1-2 minutes per draw with statsmodels' cluster covariance here, so it runs on the demo only.
    figures = {
        name: measure(n, repeats, naive_draws if n <= 80 else 0) for name, n in sizes.items()
    }
    rows = [
        ("TWFE + CR2, twfe() incl. checks", "twfe_cr2_s"),
        ("TWFE + CR2, core fit only", "twfe_cr2_core_s"),
        (f"our WCR {DRAWS} draws, p-value", "wild_p_only_s"),
        (f"our WCR {DRAWS} draws, p + CI", "wild_p_s"),
        (f"pyfixest wildboottest {DRAWS} (800: 999 x10)", "pyfixest_wild_s"),
        (f"naive statsmodels loop {DRAWS} (extrap.)", "naive_wild_extrapolated_s"),
        ("Callaway & Sant'Anna, all aggregations", "cs_full_s"),
    ]
    print(f"{'seconds':44} {'80 x 7':>10} {'800 x 7':>10}")
    for label, key in rows:
        cells = [figures[s][key] for s in sizes]
        print(
            f"{label:44} "
            + " ".join(f"{c:10.4f}" if c is not None else f"{'n/a':>10}" for c in cells)
        )
    for s in sizes:
        f = figures[s]
        ratio, speedup = f["ratio_pyfixest_over_ours"], f["speedup_vs_naive"]
        print(
            f"{s}: "
            + (
                f"WCR {speedup:.0f}x faster than the naive loop"
                if speedup
                else "naive loop not run"
            )
            + (f", pyfixest/ours = {ratio:.2f}" if ratio else "")
        )
    demo = figures["demo_80x7"]
    goals = {
        "twfe_cr2_under_50ms": demo["twfe_cr2_s"] < 0.05,
        "wild_300x_naive": demo["speedup_vs_naive"] >= 300,
        "wild_not_slower_than_pyfixest": demo["ratio_pyfixest_over_ours"] is None
        or demo["ratio_pyfixest_over_ours"] >= 1,
        "cs_under_half_second": demo["cs_full_s"] is None or demo["cs_full_s"] < 0.5,
    }
    print(
        "goals on the demo panel: "
        + ", ".join(f"{k}={'yes' if v else 'NO'}" for k, v in goals.items())
    )
    print(json.dumps({"draws": DRAWS, "figures": figures, "goals": goals}))


if __name__ == "__main__":
    main()
