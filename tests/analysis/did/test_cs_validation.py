"""Callaway & Sant'Anna against R `did` on mpdta: every ATT(g,t), aggregation and pre-test.

Source of the numbers: R package `did` 2.5 (Callaway & Sant'Anna), run on its own `mpdta` data
with `bstrap = FALSE`; the reference files are those of the Python port `csdid`
(d2cml-ai/csdid, `test_csdid/r_ref/`), copied to tests/data/validation/ (see SOURCES.md there).
The `did` README prints the same never-treated DR numbers (e.g. simple -0.0399513 (0.0120340)).
Point estimates must agree to 6 significant digits, analytic standard errors to 3.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd
import pytest

from analysis.did.cs import CsResult, callaway_santanna

DATA = Path(__file__).resolve().parents[2] / "data" / "validation"

SCENARIOS = {
    "mpdta_nev_dr": {"method": "dr"},
    "mpdta_nev_ipw": {"method": "ipw"},
    "mpdta_nev_reg_cov": {"method": "reg", "covariates": ("lpop",)},
    "mpdta_nyt_dr": {"method": "dr", "control": "notyet"},
}

POINT = 1e-6  # relative: 6 significant digits
SE = 5e-4  # relative: 3 significant digits


@functools.cache
def mpdta() -> pd.DataFrame:
    return pd.read_csv(DATA / "mpdta.csv")


@functools.cache
def run(scenario: str) -> CsResult:
    return callaway_santanna(
        mpdta(),
        unit="countyreal",
        time="year",
        cohort="first.treat",
        outcome="lemp",
        **SCENARIOS[scenario],
    )


def _rows(name: str) -> list[dict]:
    return pd.read_csv(DATA / name).to_dict("records")


ATTGT = _rows("r_did_ref_attgt.csv")
AGGTE = _rows("r_did_ref_aggte.csv")
PRETEST = _rows("r_did_ref_pretest.csv")


def test_every_reference_scenario_is_configured() -> None:
    assert {r["scenario"] for r in ATTGT + AGGTE + PRETEST} == set(SCENARIOS)


@pytest.mark.parametrize("ref", ATTGT, ids=lambda r: f"{r['scenario']}-{r['group']}-{r['t']}")
def test_group_time_effect_matches_r_did(ref: dict) -> None:
    result = run(ref["scenario"])
    cell = next(c for c in result.group_time if (c.group, c.time) == (ref["group"], ref["t"]))
    assert cell.att == pytest.approx(ref["att"], rel=POINT)
    assert cell.se == pytest.approx(ref["se"], rel=SE)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_no_group_time_effect_beyond_the_reference(scenario: str) -> None:
    ours = {(c.group, c.time) for c in run(scenario).group_time}
    theirs = {(r["group"], r["t"]) for r in ATTGT if r["scenario"] == scenario}
    assert ours == theirs


@pytest.mark.parametrize(
    "ref",
    [
        r
        for r in AGGTE
        if r["type"] == "simple"
        or r["egt"]
        == min(x["egt"] for x in AGGTE if x["scenario"] == r["scenario"] and x["type"] == r["type"])
    ],
    ids=lambda r: f"{r['scenario']}-{r['type']}",
)
def test_overall_aggregation_matches_r_did(ref: dict) -> None:
    result = run(ref["scenario"])
    agg = getattr(result, ref["type"])
    overall = agg if ref["type"] == "simple" else agg.overall
    assert overall.att == pytest.approx(ref["overall_att"], rel=POINT)
    assert overall.se == pytest.approx(ref["overall_se"], rel=SE)


@pytest.mark.parametrize(
    "ref",
    [r for r in AGGTE if r["type"] != "simple"],
    ids=lambda r: f"{r['scenario']}-{r['type']}-{int(r['egt'])}",
)
def test_aggregation_level_matches_r_did(ref: dict) -> None:
    agg = getattr(run(ref["scenario"]), ref["type"])
    level = next(lev for lev in agg.levels if lev.level == ref["egt"])
    assert level.att == pytest.approx(ref["att_egt"], rel=POINT)
    assert level.se == pytest.approx(ref["se_egt"], rel=SE)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_aggregation_levels_are_exactly_the_reference_levels(scenario: str) -> None:
    result = run(scenario)
    for kind in ("group", "dynamic", "calendar"):
        theirs = sorted(
            int(r["egt"]) for r in AGGTE if (r["scenario"], r["type"]) == (scenario, kind)
        )
        assert [lev.level for lev in getattr(result, kind).levels] == theirs


@pytest.mark.parametrize("ref", PRETEST, ids=lambda r: r["scenario"])
def test_pretest_matches_r_did(ref: dict) -> None:
    pretest = run(ref["scenario"]).pretest
    assert pretest is not None
    assert pretest.W == pytest.approx(ref["W"], rel=POINT)
    # R rounds the p-value to 5 decimals.
    assert pretest.p == pytest.approx(ref["Wpval"], abs=5e-6)
    assert pretest.df == 5


def test_published_readme_numbers() -> None:
    """The figures quoted in SOURCES.md, typed in by hand rather than read from the CSVs."""
    result = run("mpdta_nev_dr")
    first = {(c.group, c.time): c for c in result.group_time}
    assert first[(2004, 2004)].att == pytest.approx(-0.010503, abs=5e-7)
    assert first[(2004, 2004)].se == pytest.approx(0.023251, abs=5e-6)
    assert result.simple.att == pytest.approx(-0.0399513, abs=5e-8)
    assert result.simple.se == pytest.approx(0.0120340, abs=5e-7)
    assert result.dynamic.overall.att == pytest.approx(-0.0772398, abs=5e-8)
    assert result.calendar.overall.att == pytest.approx(-0.0417004, abs=5e-8)
    assert result.pretest.W == pytest.approx(7.79124, abs=5e-6)
