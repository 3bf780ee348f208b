"""Callaway & Sant'Anna beyond the R reference: bootstrap, unbalanced panels, flags and errors.

Data: R `did`'s `mpdta` (tests/data/validation/, see SOURCES.md there) and small hand-made
panels. Expected values are computed by hand in the tests (differences of mean changes, OLS on
the comparison units, cohort-share weights), independently of the code under test.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.did.cs import CsError, CsResult, callaway_santanna
from analysis.did.panel import PanelError

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "data" / "validation"
MPDTA = {"unit": "countyreal", "time": "year", "cohort": "first.treat", "outcome": "lemp"}


@functools.cache
def mpdta() -> pd.DataFrame:
    return pd.read_csv(DATA / "mpdta.csv")


@functools.cache
def analytic() -> CsResult:
    return callaway_santanna(mpdta(), **MPDTA)


@functools.cache
def boot(seed: int) -> CsResult:
    return callaway_santanna(mpdta(), bootstrap=999, seed=seed, **MPDTA)


@functools.cache
def unbalanced() -> pd.DataFrame:
    """mpdta with 10 % of the county-years dropped at random (attrition and missed waves)."""
    rng = np.random.default_rng(20260101)
    return mpdta().drop(index=rng.choice(len(mpdta()), 250, replace=False))


def _estimates(result: CsResult) -> list[float]:
    out = [c.att for c in result.group_time] + [result.simple.att]
    for agg in (result.dynamic, result.group, result.calendar):
        out += [agg.overall.att] + [lev.att for lev in agg.levels]
    return out


def _ses(result: CsResult) -> list[float]:
    out = [c.se for c in result.group_time] + [result.simple.se]
    for agg in (result.dynamic, result.group, result.calendar):
        out += [agg.overall.se] + [lev.se for lev in agg.levels]
    return out


# --------------------------------------------------------------------------- bootstrap


def test_bootstrap_leaves_every_point_estimate_unchanged() -> None:
    assert _estimates(boot(1)) == _estimates(analytic())


def test_bootstrap_standard_errors_lie_within_15_percent_of_analytic() -> None:
    ratios = np.array(_ses(boot(1))) / np.array(_ses(analytic()))
    assert np.all(np.abs(ratios - 1) < 0.15), ratios


def test_bootstrap_is_reproducible_with_a_seed() -> None:
    again = callaway_santanna(mpdta(), bootstrap=999, seed=1, **MPDTA)
    assert _ses(again) == _ses(boot(1))
    assert again.dynamic.critical_value == boot(1).dynamic.critical_value


def test_bootstrap_draws_differ_between_seeds() -> None:
    assert _ses(boot(2)) != _ses(boot(1))


def test_bootstrap_gives_uniform_bands_wider_than_pointwise() -> None:
    result = boot(1)
    for agg in (result.dynamic, result.group, result.calendar):
        assert agg.critical_value > 1.96
        for lev in agg.levels:
            assert lev.ci_high - lev.att == pytest.approx(agg.critical_value * lev.se)
    # The overall estimates keep pointwise intervals.
    s = result.simple
    assert s.ci_high - s.att == pytest.approx(1.959964 * s.se, rel=1e-6)
    assert result.to_dict()["settings"]["inference"] == "bootstrap"


def test_analytic_intervals_are_pointwise_normal() -> None:
    result = analytic()
    assert result.dynamic.critical_value == pytest.approx(1.959964, rel=1e-6)
    cell = result.group_time[0]
    assert cell.ci_low == pytest.approx(cell.att - 1.959964 * cell.se, rel=1e-6)


# --------------------------------------------------------------------------- unbalanced


@functools.cache
def unbalanced_result(method: str = "dr", covariates: tuple[str, ...] = ()) -> CsResult:
    return callaway_santanna(unbalanced(), method=method, covariates=covariates, **MPDTA)


def _wide(df: pd.DataFrame, col: str) -> pd.DataFrame:
    return df.pivot(index="countyreal", columns="year", values=col)


def test_unbalanced_cells_use_units_seen_in_both_periods() -> None:
    """Without covariates each cell is a difference of mean changes over the units observed in
    both periods; its SE is sqrt(var_T/n_T + var_C/n_C) with population variances."""
    df = unbalanced()
    y = _wide(df, "lemp")
    cohort = df.groupby("countyreal")["first.treat"].first()
    result = unbalanced_result()
    assert len(result.group_time) == 12
    for cell in result.group_time:
        change = (y[cell.time] - y[cell.base_period]).dropna()
        g = cohort.loc[change.index]
        treated, control = change[g == cell.group], change[g == 0]
        assert cell.n_treated == len(treated)
        assert cell.n_control == len(control)
        assert cell.att == pytest.approx(treated.mean() - control.mean(), abs=1e-12)
        se = np.sqrt(treated.var(ddof=0) / len(treated) + control.var(ddof=0) / len(control))
        assert cell.se == pytest.approx(se, rel=1e-9)


def test_unbalanced_outcome_regression_matches_ols_on_comparison_units() -> None:
    df = unbalanced()
    y, x = _wide(df, "lemp"), _wide(df, "lpop")
    cohort = df.groupby("countyreal")["first.treat"].first()
    result = unbalanced_result("reg", ("lpop",))
    for cell in result.group_time:
        early = min(cell.time, cell.base_period)
        frame = pd.DataFrame(
            {"dy": y[cell.time] - y[cell.base_period], "x": x[early], "g": cohort}
        ).dropna()
        frame = frame[frame.g.isin([0, cell.group])]
        ctrl, trt = frame[frame.g == 0], frame[frame.g == cell.group]
        design = np.column_stack([np.ones(len(ctrl)), ctrl.x])
        beta = np.linalg.lstsq(design, ctrl.dy.to_numpy(), rcond=None)[0]
        expected = (trt.dy - (beta[0] + beta[1] * trt.x)).mean()
        assert cell.att == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_unbalanced_simple_aggregation_weights_cells_by_cohort_share() -> None:
    df = unbalanced()
    result = unbalanced_result()
    share = df.groupby("countyreal")["first.treat"].first().value_counts(normalize=True)
    post = [c for c in result.group_time if c.time >= c.group]
    weights = np.array([share[c.group] for c in post])
    expected = np.sum(weights * [c.att for c in post]) / weights.sum()
    assert result.simple.att == pytest.approx(expected, rel=1e-12)
    assert result.n_units == df["countyreal"].nunique()
    assert np.isfinite(result.simple.se) and result.pretest is not None


def test_balanced_result_unchanged_by_row_order() -> None:
    shuffled = mpdta().sample(frac=1.0, random_state=4)
    assert _estimates(callaway_santanna(shuffled, **MPDTA)) == pytest.approx(
        _estimates(analytic()), rel=1e-12
    )


# --------------------------------------------------------------------------- base period


def test_universal_base_period_sums_the_varying_pre_period_steps() -> None:
    """Balanced, unconditional: the long difference to g-1 is minus the sum of the one-period
    pre-treatment steps, and post-treatment cells are the same under both base periods."""
    varying = {(c.group, c.time): c.att for c in analytic().group_time}
    universal = callaway_santanna(mpdta(), base_period="universal", **MPDTA)
    for cell in universal.group_time:
        g, t = cell.group, cell.time
        assert cell.base_period == g - 1
        if t >= g:
            assert cell.att == pytest.approx(varying[(g, t)], rel=1e-10)
        elif t == g - 1:
            assert cell.att == 0.0 and np.isnan(cell.se)
        else:
            steps = sum(varying[(g, s)] for s in range(t + 1, g))
            assert cell.att == pytest.approx(-steps, rel=1e-10, abs=1e-14)
    ref = next(lev for lev in universal.dynamic.levels if lev.level == -1)
    assert ref.att == 0.0
    rows = universal.to_dict()["group_time"]
    reference_rows = [row for row in rows if row["time"] == row["base_period"]]
    assert len(reference_rows) == 3 and all(row["se"] is None for row in reference_rows)


# --------------------------------------------------------------------------- flags


def _toy_panel(cohort_sizes: dict[int, int], periods: range = range(2018, 2023)) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows, unit = [], 0
    for cohort, size in cohort_sizes.items():
        for _ in range(size):
            level = rng.normal()
            for t in periods:
                effect = 1.0 if cohort and t >= cohort else 0.0
                rows.append((unit, t, cohort, level + 0.2 * t + effect + rng.normal(0, 0.3)))
            unit += 1
    return pd.DataFrame(rows, columns=["family", "wave", "intake", "score"])


TOY = {"unit": "family", "time": "wave", "cohort": "intake", "outcome": "score"}


def test_cells_with_fewer_than_five_treated_families_are_flagged() -> None:
    result = callaway_santanna(_toy_panel({0: 20, 2020: 3, 2021: 12}), **TOY)
    for cell in result.group_time:
        assert cell.small_cell == (cell.group == 2020)
        assert cell.n_treated == (3 if cell.group == 2020 else 12)
    assert any("ATT(2020,2020) rests on 3 treated units" in w for w in result.warnings)
    assert result.to_dict()["group_time"][0]["small_cell"] is True


def test_five_treated_families_are_not_a_small_cell() -> None:
    result = callaway_santanna(_toy_panel({0: 10, 2020: 5}), **TOY)
    assert not any(c.small_cell for c in result.group_time)
    assert result.warnings == ()


def test_attrition_can_make_a_cell_small() -> None:
    df = _toy_panel({0: 10, 2020: 6})
    gone = df[(df.intake == 2020) & (df.family < df.family[df.intake == 2020].min() + 2)]
    df = df.drop(index=gone[gone.wave == 2022].index)
    cells = {(c.group, c.time): c for c in callaway_santanna(df, **TOY).group_time}
    assert cells[(2020, 2022)].n_treated == 4 and cells[(2020, 2022)].small_cell
    assert cells[(2020, 2021)].n_treated == 6 and not cells[(2020, 2021)].small_cell


def test_a_cell_nobody_is_observed_in_is_left_out_of_the_aggregations() -> None:
    df = _toy_panel({0: 10, 2020: 6, 2021: 6})
    df = df[~((df.intake == 2020) & (df.wave == 2022))]
    result = callaway_santanna(df, **TOY)
    cells = {(c.group, c.time): c for c in result.group_time}
    empty = cells[(2020, 2022)]
    assert np.isnan(empty.att) and empty.n_treated == 0 and empty.small_cell
    post = [c for c in result.group_time if c.time >= c.group and np.isfinite(c.att)]
    weights = np.array([6.0 for _ in post])  # both cohorts have 6 families
    expected = np.sum(weights * [c.att for c in post]) / weights.sum()
    assert result.simple.att == pytest.approx(expected, rel=1e-12)
    assert [lev.level for lev in result.dynamic.levels] == [-2, -1, 0, 1]
    assert any("ATT(2020,2022): no treated or no comparison units" in w for w in result.warnings)
    json.dumps(result.to_dict(), allow_nan=False)


def test_toy_panel_recovers_the_known_effect() -> None:
    result = callaway_santanna(_toy_panel({0: 40, 2020: 20, 2021: 20}), **TOY)
    assert result.simple.ci_low < 1.0 < result.simple.ci_high
    assert abs(result.simple.att - 1.0) < 0.2


def test_not_yet_treated_without_never_treated_units_drops_the_last_cohort_periods() -> None:
    df = _toy_panel({2020: 10, 2021: 10, 2022: 10})
    result = callaway_santanna(df, control="notyet", **TOY)
    assert {c.group for c in result.group_time} == {2020, 2021}
    assert max(c.time for c in result.group_time) == 2021
    assert any("cohort 2022 serves as comparison only" in w for w in result.warnings)


# --------------------------------------------------------------------------- clustering


def test_clustering_on_the_unit_itself_changes_nothing() -> None:
    df = mpdta().assign(same=lambda d: d.countyreal)
    result = callaway_santanna(df, cluster="same", **MPDTA)
    assert _ses(result) == pytest.approx(_ses(analytic()), rel=1e-12)


def test_clustering_by_state_sums_influence_within_states() -> None:
    df = mpdta().assign(state=lambda d: d.countyreal // 1000)
    result = callaway_santanna(df, cluster="state", **MPDTA)
    assert result.n_clusters == df.state.nunique() < result.n_units
    assert _estimates(result) == _estimates(analytic())
    assert _ses(result) != pytest.approx(_ses(analytic()), rel=1e-3)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.drop(columns="lemp"), "column(s) not found in the panel: lemp"),
        (lambda d: pd.concat([d, d.iloc[[3]]]), "unit 8001 has more than one row for period 2006"),
        (
            lambda d: d.assign(**{"first.treat": np.where(d.index == 1, 2006, d["first.treat"])}),
            "unit 8001 changes cohort over time",
        ),
        (
            lambda d: d.assign(lemp=d.lemp.astype(object).where(d.index != 5, "n/a")),
            "data row 6 has 'n/a'",
        ),
        (lambda d: d.assign(**{"first.treat": 0}), "at least 2 treated units are needed"),
        (lambda d: d[d["first.treat"] != 0], "at least 2 never-treated (comparison) units"),
        (lambda d: d[d.year >= 2004], "cohort 2004 has no period before treatment"),
    ],
    ids=[
        "missing-column",
        "duplicate",
        "cohort-changes",
        "non-numeric",
        "no-treated",
        "no-never",
        "no-pre-period",
    ],
)
def test_bad_panels_are_refused_with_a_clear_message(change, message: str) -> None:
    with pytest.raises(PanelError) as info:
        callaway_santanna(change(mpdta()), **MPDTA)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "option",
    [
        {"control": "all"},
        {"base_period": "fixed"},
        {"method": "ols"},
        {"bootstrap": 1},
        {"alpha": 2},
    ],
)
def test_bad_options_are_refused(option: dict) -> None:
    with pytest.raises(CsError):
        callaway_santanna(mpdta(), **MPDTA, **option)


# --------------------------------------------------------------------------- output


def test_to_dict_is_json_ready_and_complete() -> None:
    out = json.loads(json.dumps(boot(1).to_dict(), allow_nan=False))
    assert set(out) >= {"group_time", "simple", "dynamic", "group", "calendar", "pretest"}
    assert set(out["group_time"][0]) >= {"group", "time", "att", "se", "n_treated", "small_cell"}
    assert set(out["simple"]) == {"att", "se", "ci_low", "ci_high"}
    assert [e["e"] for e in out["dynamic"]["event"]] == [-3, -2, -1, 0, 1, 2, 3]
    assert [g["group"] for g in out["group"]["groups"]] == [2004, 2006, 2007]
    assert [t["time"] for t in out["calendar"]["periods"]] == [2004, 2005, 2006, 2007]
    assert set(out["pretest"]) == {"W", "p", "df"}


def test_module_does_not_load_django() -> None:
    code = "import sys, analysis.did.cs; assert 'django' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
