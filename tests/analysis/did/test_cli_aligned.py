"""`manage.py did --estimator aligned`: JSON fields, options reaching the estimator, errors.

None of these tests is marked django_db, so pytest-django fails any that touches the database.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from analysis.did.aligned import aligned_did
from analysis.did.aligned_alt import stacked_did
from analysis.did.aligned_event import aligned_event_study
from analysis.did.aligned_ppml import aligned_ppml
from analysis.did.design_sim import CrisisDesign, simulate_study

COLS = {"unit": "family", "time": "year", "arm": "arm", "intake": "intake"}
ARGS = ["--unit", "family", "--time", "year", "--estimator", "aligned"]
DESIGN = ["--arm", "arm", "--intake", "intake"]


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> tuple[str, object]:
    df = simulate_study(CrisisDesign(effect="constant"), np.random.default_rng(4)).frame()
    path = tmp_path_factory.mktemp("aligned") / "study.csv"
    df.to_csv(path, index=False)
    return str(path), df


def did(path: str, *args: str) -> str:
    out = io.StringIO()
    call_command("did", "--input", path, *ARGS, *args, stdout=out)
    return out.getvalue()


def did_json(path: str, *args: str) -> dict:
    return json.loads(did(path, *args, "--json"))


def test_aligned_json_has_the_documented_fields(study):
    path, _ = study
    out = did_json(path, *DESIGN, "--outcome", "registry", "--bootstrap", "499", "--seed", "1")
    assert set(out) >= {"att", "se", "ci_low", "ci_high", "df", "p", "inference"}
    assert out["dropped_event_times"] == [-1, -2]
    assert {"e", "att", "se", "ci_low", "ci_high", "band_low", "band_high"} <= set(
        out["event_study"]["event"][0]
    )
    assert out["event_study"]["pretest"]["event_times"] == [-2]
    assert set(out["alternatives"]) == {"stacked", "imputation"}
    assert out["inference"] == "cr2" and out["t0"] == "own"


def test_aligned_json_equals_the_estimator_functions(study):
    path, df = study
    out = did_json(path, *DESIGN, "--outcome", "registry", "--bootstrap", "499", "--seed", "1")
    r = aligned_did(df, outcome="registry", **COLS, draws=499, seed=1)
    assert (out["att"], out["se"], out["df"], out["p"]) == pytest.approx(
        (r.att, r.se, r.df, r.p_value), abs=1e-12
    )
    es = aligned_event_study(df, outcome="registry", **COLS)
    assert [e["att"] for e in out["event_study"]["event"]] == pytest.approx(
        [e["att"] for e in es.event], abs=1e-12
    )


def test_aligned_ignores_a_cohort_column_when_given(study):
    path, _ = study
    args = [*DESIGN, "--outcome", "registry", "--bootstrap", "199", "--seed", "5"]
    plain = did_json(path, *args)
    with_cohort = did_json(path, *args, "--cohort", "arm")
    assert with_cohort == plain


def test_aligned_t0_option_reaches_the_estimator(study):
    path, df = study
    out = did_json(path, *DESIGN, "--outcome", "registry", "--t0", "drop", "--inference", "cr1")
    r = aligned_did(df, outcome="registry", t0="drop", inference="cr1", **COLS, robustness=())
    assert out["t0"] == "drop" and out["t0_effect"] is None
    assert out["att"] == pytest.approx(r.att, abs=1e-12)
    survey = did_json(
        path, *DESIGN, "--outcome", "survey", "--t0", "baseline", "--inference", "cr1"
    )
    assert survey["pre_period"] == [0] and survey["event_study"]["ref"] == 0


def test_aligned_lpm_model_reports_percentage_points(study):
    path, df = study
    out = did_json(path, *DESIGN, "--outcome", "binary", "--model", "lpm", "--inference", "cr1")
    r = aligned_did(df, outcome="binary", inference="cr1", **COLS, robustness=())
    assert (
        out["scale"] == "percentage points" and out["event_study"]["scale"] == "percentage points"
    )
    assert out["att"] == pytest.approx(100 * r.att, abs=1e-10)
    stacked = stacked_did(df, outcome="binary", **COLS)
    assert out["alternatives"]["stacked"]["att"] == pytest.approx(100 * stacked.att, abs=1e-10)
    assert out["alternatives"]["stacked"]["se"] == pytest.approx(100 * stacked.se, abs=1e-10)


def test_aligned_ppml_model_reports_the_proportional_change(study):
    path, df = study
    out = did_json(path, *DESIGN, "--outcome", "count", "--model", "ppml")
    r = aligned_ppml(df, outcome="count", **COLS)
    assert out["inference"] == "cr1" and out["df"] == 79
    assert out["att"] == pytest.approx(r.effect, abs=1e-12) and out["coef"] == pytest.approx(r.coef)
    assert set(out["alternatives"]) == {"stacked", "imputation"}  # linear, for the sign check
    assert out["event_study"]["scale"].startswith("outcome units (linear")


def test_aligned_readable_table(study):
    path, _ = study
    text = did(path, *DESIGN, "--outcome", "registry", "--inference", "cr1")
    assert "Intake-aligned DiD (linear, T0 own, cr1" in text
    assert "dropped e dummies -1, -2" in text
    assert "Aligned event study (reference T-1)" in text and "band_low" in text
    assert "Joint pre-test (-2)" in text and "stacked" in text


def test_help_lists_the_aligned_options():
    from analysis.management.commands.did import Command

    text = Command().create_parser("manage.py", "did").format_help()
    for option in ("--arm", "--intake", "--t0", "--model"):
        assert option in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--outcome", "registry"], "--estimator aligned needs --arm and --intake"),
        (["--arm", "arm", "--outcome", "registry"], "--estimator aligned needs --intake"),
        ([*DESIGN, "--outcome", "registry", "--t0", "keep"], "unknown --t0 keep"),
        ([*DESIGN, "--outcome", "registry", "--model", "logit"], "unknown --model logit"),
        ([*DESIGN, "--outcome", "registry", "--inference", "ri"], "--inference ri does not apply"),
        ([*DESIGN, "--outcome", "count", "--model", "ppml", "--inference", "wild"], "use cr1, cr2"),
        ([*DESIGN, "--outcome", "survey"], "no intervention family is observed before intake"),
        ([*DESIGN, "--outcome", "registry", "--control", "notyet"], "--control only applies"),
        ([*DESIGN, "--outcome", "registry", "--covariates", "arm"], "--covariates does not apply"),
    ],
)
def test_bad_aligned_options_raise_a_one_line_command_error(study, args, message):
    path, _ = study
    with pytest.raises(CommandError) as info:
        did(path, *args)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_other_estimators_still_need_a_cohort_and_refuse_the_arm(study):
    path, _ = study
    out = io.StringIO()
    with pytest.raises(CommandError, match="--cohort is required for --estimator twfe"):
        call_command("did", "--input", path, "--unit", "family", "--time", "year",
                     "--outcome", "registry", stdout=out)  # fmt: skip
    with pytest.raises(CommandError, match="--arm only applies to --estimator aligned"):
        call_command("did", "--input", path, "--unit", "family", "--time", "year", "--cohort",
                     "intake", "--outcome", "registry", "--arm", "arm", stdout=out)  # fmt: skip


def test_aligned_runs_from_the_command_line_as_a_new_user_would(study, tmp_path):
    import subprocess
    import sys

    path, _ = study
    root = Path(__file__).resolve().parents[3]
    env = {"DJANGO_SETTINGS_MODULE": "tracker.test_settings", "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "manage.py", "did", "--input", path, *ARGS, *DESIGN]
    proc = subprocess.run(
        [*cmd, "--outcome", "registry", "--json", "--inference", "cr1"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["estimator"] == "aligned"
