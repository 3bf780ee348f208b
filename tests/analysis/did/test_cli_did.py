"""The `did` management command: JSON and table output, and one-line errors.

The Callaway & Sant'Anna run on mpdta is checked against R `did` 2.5 (reference files of
d2cml-ai/csdid `test_csdid/r_ref/`, copied to tests/data/validation/, see SOURCES.md there).
None of these tests is marked django_db, so pytest-django fails any that touches the database.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "data" / "validation"
MPDTA = str(DATA / "mpdta.csv")
COLUMNS = ["--unit", "countyreal", "--time", "year", "--cohort", "first.treat", "--outcome", "lemp"]

ATTGT = pd.read_csv(DATA / "r_did_ref_attgt.csv")
AGGTE = pd.read_csv(DATA / "r_did_ref_aggte.csv")
PRETEST = pd.read_csv(DATA / "r_did_ref_pretest.csv")


def did(*args: str, path: str = MPDTA) -> str:
    out = io.StringIO()
    call_command("did", "--input", path, *COLUMNS, *args, stdout=out)
    return out.getvalue()


def did_json(*args: str, path: str = MPDTA) -> dict:
    text = did(*args, "--json", path=path)
    return json.loads(text)  # fails unless stdout is exactly one JSON document


def _ref(scenario: str, kind: str) -> pd.DataFrame:
    return AGGTE[(AGGTE.scenario == scenario) & (AGGTE.type == kind)]


@pytest.fixture(scope="module")
def cs_never_dr() -> dict:
    return did_json("--estimator", "cs")


def test_cs_json_group_time_matches_r_did(cs_never_dr: dict) -> None:
    ref = ATTGT[ATTGT.scenario == "mpdta_nev_dr"]
    got = {(r["group"], r["time"]): r for r in cs_never_dr["group_time"]}
    assert len(got) == len(ref) == 12
    for row in ref.itertuples():
        cell = got[(row.group, row.t)]
        assert cell["att"] == pytest.approx(row.att, rel=1e-6)
        assert cell["se"] == pytest.approx(row.se, rel=5e-4)


def test_cs_json_aggregations_match_r_did(cs_never_dr: dict) -> None:
    simple = _ref("mpdta_nev_dr", "simple").iloc[0]
    assert cs_never_dr["simple"]["att"] == pytest.approx(simple.overall_att, rel=1e-6)
    assert cs_never_dr["simple"]["se"] == pytest.approx(simple.overall_se, rel=5e-4)
    assert set(cs_never_dr["simple"]) == {"att", "se", "ci_low", "ci_high"}
    for kind, key, level in (
        ("dynamic", "event", "e"),
        ("group", "groups", "group"),
        ("calendar", "periods", "time"),
    ):
        ref = _ref("mpdta_nev_dr", kind)
        agg = cs_never_dr[kind]
        assert agg["overall"]["att"] == pytest.approx(ref.overall_att.iloc[0], rel=1e-6)
        assert agg["overall"]["se"] == pytest.approx(ref.overall_se.iloc[0], rel=5e-4)
        assert [row[level] for row in agg[key]] == ref.egt.astype(int).tolist()
        assert [row["att"] for row in agg[key]] == pytest.approx(ref.att_egt.tolist(), rel=1e-6)
        assert [row["se"] for row in agg[key]] == pytest.approx(ref.se_egt.tolist(), rel=5e-4)


def test_cs_json_pretest_matches_r_did(cs_never_dr: dict) -> None:
    ref = PRETEST[PRETEST.scenario == "mpdta_nev_dr"].iloc[0]
    assert cs_never_dr["pretest"]["W"] == pytest.approx(ref.W, rel=1e-6)
    assert cs_never_dr["pretest"]["p"] == pytest.approx(ref.Wpval, abs=5e-6)


@pytest.mark.parametrize(
    ("scenario", "args"),
    [
        ("mpdta_nyt_dr", ["--control", "notyet"]),
        ("mpdta_nev_reg_cov", ["--method", "reg", "--covariates", "lpop"]),
        ("mpdta_nev_ipw", ["--method", "ipw"]),
    ],
)
def test_cs_options_reach_the_estimator(scenario: str, args: list[str]) -> None:
    out = did_json("--estimator", "cs", *args)
    ref = _ref(scenario, "dynamic")
    assert out["dynamic"]["overall"]["att"] == pytest.approx(ref.overall_att.iloc[0], rel=1e-6)
    assert out["dynamic"]["overall"]["se"] == pytest.approx(ref.overall_se.iloc[0], rel=5e-4)


def test_cs_bootstrap_is_seeded_and_keeps_the_estimates(cs_never_dr: dict) -> None:
    args = ("--estimator", "cs", "--inference", "bootstrap", "--bootstrap", "299", "--seed", "11")
    first, second = did_json(*args), did_json(*args)
    assert first == second
    assert first["settings"]["bootstrap"] == 299
    assert first["simple"]["att"] == cs_never_dr["simple"]["att"]
    assert first["simple"]["se"] == pytest.approx(cs_never_dr["simple"]["se"], rel=0.15)


def test_cs_runs_on_an_unbalanced_panel(tmp_path: Path) -> None:
    df = pd.read_csv(MPDTA)
    path = tmp_path / "unbalanced.csv"
    df.drop(index=df.index[::7]).to_csv(path, index=False)
    out = did_json("--estimator", "cs", path=str(path))
    assert out["n_obs"] == len(df) - len(df.index[::7])
    assert all(row["att"] is not None and row["se"] is not None for row in out["group_time"])


def test_cs_readable_table() -> None:
    text = did("--estimator", "cs")
    assert "Group-time effects ATT(g,t)" in text
    assert "-0.0400  (0.0120)" in text  # simple ATT and SE, as R prints them
    assert "W = 7.791, df = 5, p = 0.1681" in text
    assert "not proof" in text


def test_help_lists_every_option() -> None:
    from analysis.management.commands.did import Command

    text = Command().create_parser("manage.py", "did").format_help()
    for option in (
        "--estimator",
        "--control",
        "--base-period",
        "--method",
        "--inference",
        "--json",
    ):
        assert option in text


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--estimator", "cs", "--outcome", "lemx"], "column(s) not found in the panel: lemx"),
        (["--estimator", "xx"], "unknown --estimator xx"),
        (["--estimator", "cs", "--control", "all"], "control must be 'never' or 'notyet'"),
        (["--estimator", "cs", "--method", "ols"], "method must be 'dr', 'ipw' or 'reg'"),
        (["--estimator", "cs", "--base-period", "x"], "base_period must be"),
        (["--estimator", "cs", "--inference", "cr2"], "--inference cr2 does not apply to cs"),
        (["--estimator", "twfe", "--inference", "bootstrap"], "does not apply to twfe"),
        (
            ["--estimator", "twfe", "--control", "notyet"],
            "--control only applies to --estimator cs",
        ),
    ],
)
def test_bad_options_raise_a_command_error(args: list[str], message: str) -> None:
    with pytest.raises(CommandError) as info:
        did(*args)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file_is_a_command_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="input file not found"):
        did("--estimator", "cs", path=str(tmp_path / "nope.csv"))


def test_unreadable_csv_is_a_command_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(CommandError, match="cannot read"):
        did("--estimator", "cs", path=str(path))


def test_invalid_panel_is_a_command_error(tmp_path: Path) -> None:
    df = pd.read_csv(MPDTA)
    path = tmp_path / "dup.csv"
    pd.concat([df, df.iloc[[0]]]).to_csv(path, index=False)
    with pytest.raises(CommandError, match="unit 8001 has more than one row for period 2003"):
        did("--estimator", "cs", path=str(path))


def test_error_exits_non_zero_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tracker.test_settings"}
    cmd = [sys.executable, "manage.py", "did", "--input", str(tmp_path / "x.csv"), *COLUMNS]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode != 0
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "input file not found" in lines[0]
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- part A estimators


def test_twfe_json_has_the_documented_fields() -> None:
    pytest.importorskip("analysis.did.twfe")
    out = did_json("--estimator", "twfe")
    assert set(out) >= {"att", "se", "ci_low", "ci_high", "p_value", "df", "inference"}
    assert out["inference"] == "cr2" and out["n_units"] == 500 and out["n_obs"] == 2500


def test_twfe_readable_table_compares_inference_methods() -> None:
    pytest.importorskip("analysis.did.twfe")
    text = did("--estimator", "twfe", "--bootstrap", "999")
    assert "Two-way fixed effects DiD" in text and "Inference compared" in text
    assert "cr2" in text


def test_event_json_has_the_documented_fields() -> None:
    pytest.importorskip("analysis.did.event_study")
    out = did_json("--estimator", "event")
    assert set(out) >= {"event", "pretrend_p", "honest"}
    assert {"e", "att", "se", "ci_low", "ci_high"} <= set(out["event"][0])
