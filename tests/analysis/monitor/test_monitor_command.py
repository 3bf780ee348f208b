"""The monitor command: output, suppression, fan-out in-process, and validation of the extract."""

import io
import json

import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from .helpers_monitor import household_rows, three_years


@pytest.fixture(autouse=True)
def english():
    """Messages are checked in their English source form, whatever the default language."""
    with translation.override("en"):
        yield


def run_monitor(path, *extra):
    out = io.StringIO()
    call_command("monitor", "--input", str(path), "--year", "2014", *extra, stdout=out)
    return out.getvalue()


def all_counts(summary):
    for entry in summary["municipalities"]:
        yield from (
            entry[c]
            for c in ("households_with_child", "domain1", "domain2", "domain3", "mvp", "mpg")
        )
        for wijk in entry["wijken"]:
            yield from (v for k, v in wijk.items() if k != "wijk")


def test_json_output_suppresses_every_count_from_one_to_nine(almelo_csv, almelo_counts):
    summary = json.loads(run_monitor(almelo_csv, "--json"))
    almelo = summary["municipalities"][0]
    assert almelo["municipality"] == "Almelo"
    assert almelo["households_with_child"] == 8555
    assert almelo["mpg"] == almelo_counts["mpg"].sum()
    assert almelo["mpg_total_cost_eur"] == pytest.approx(almelo["mpg"] * 114_291)
    assert len(almelo["wijken"]) == 12
    values = list(all_counts(summary))
    assert "*" in values
    assert not any(isinstance(v, int) and 1 <= v <= 9 for v in values)


def test_no_suppress_prints_the_raw_counts(almelo_csv, almelo_counts):
    summary = json.loads(run_monitor(almelo_csv, "--json", "--no-suppress"))
    wijken = {w["wijk"]: w for w in summary["municipalities"][0]["wijken"]}
    expected = almelo_counts.set_index("wijk")
    for name, row in wijken.items():
        assert row["mvp"] == expected.loc[name, "mvp"]
        assert row["mpg"] == expected.loc[name, "mpg"]
    assert "*" not in list(all_counts(summary))


def test_fan_out_runs_in_process_and_gives_the_same_result(tmp_path, settings, monkeypatch):
    """With a broker every municipality is a Celery task (eager in tests: the chord runs here);
    the output is the process pool's."""
    from analysis.monitor import services

    path = tmp_path / "three.parquet"
    call_command(
        "monitor_synthetic",
        "--scale",
        "national",
        "--municipalities",
        "3",
        "--output",
        str(path),
        stdout=io.StringIO(),
    )
    without_broker = run_monitor(path, "--json")
    counted = []
    count = services.monitor_chunk_count

    def counting(**arguments):
        counted.append(arguments["municipality"])
        return count(**arguments)

    monkeypatch.setattr(services, "monitor_chunk_count", counting)
    settings.CELERY_BROKER_URL = "redis://broker.invalid:6379/0"
    assert run_monitor(path, "--json") == without_broker
    assert sorted(counted) == ["Almelo", "Borne", "Dalfsen"]


def test_table_output_names_municipality_and_wijken(almelo_csv):
    text = run_monitor(almelo_csv)
    assert "Almelo\t8555\t3719\t1289\t1139" in text
    assert "  Windmolenbroek\t1914" in text


def test_parquet_input_gives_the_same_counts(almelo_population, almelo_csv, tmp_path):
    path = tmp_path / "almelo.parquet"
    almelo_population.to_parquet(path, index=False)
    assert run_monitor(path, "--json") == run_monitor(almelo_csv, "--json")


# --- validation -------------------------------------------------------------------------------


def small_extract(tmp_path, mutate=None, name="extract.csv"):
    rows = []
    for i in range(3):
        rows += three_years(f"h{i}", y0={"bijstand": 1}, y1={"child_ots": 1}, y2={"child_ots": 1})
    frame = household_rows(rows)
    if mutate:
        frame = mutate(frame)
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def error_of(path):
    with pytest.raises(CommandError) as info:
        run_monitor(path, "--json")
    return str(info.value)


def test_valid_small_extract_runs(tmp_path):
    summary = json.loads(run_monitor(small_extract(tmp_path), "--json", "--no-suppress"))
    assert summary["municipalities"][0]["households_with_child"] == 3


def test_missing_column_is_named(tmp_path):
    path = small_extract(tmp_path, lambda f: f.drop(columns=["child_ots", "wijk"]))
    message = error_of(path)
    assert "missing column 'child_ots'" in message
    assert "missing column 'wijk'" in message


def test_non_numeric_value_names_line_and_column(tmp_path):
    def bad(frame):
        frame = frame.astype({"ww": object})
        frame.loc[4, "ww"] = "twee"
        return frame

    # Data row 4 (0-based) is line 6 of the file: line 1 is the header.
    assert "line 6, column 'ww': 'twee' is not a number" in error_of(small_extract(tmp_path, bad))


def test_negative_count_names_line_and_column(tmp_path):
    def bad(frame):
        frame.loc[0, "child_ots"] = -1
        return frame

    assert "line 2, column 'child_ots': -1 is negative" in error_of(small_extract(tmp_path, bad))


def test_value_above_catalogue_range_is_rejected(tmp_path):
    def bad(frame):
        frame.loc[1, "low_income"] = 2
        return frame

    assert "line 3, column 'low_income': 2 is above the maximum 1" in error_of(
        small_extract(tmp_path, bad)
    )


def test_empty_value_is_reported(tmp_path):
    def bad(frame):
        frame["n_children"] = frame["n_children"].astype(float)
        frame.loc[2, "n_children"] = None
        return frame

    assert "line 4, column 'n_children': is empty" in error_of(small_extract(tmp_path, bad))


def test_missing_preceding_year_is_reported(tmp_path):
    path = small_extract(tmp_path, lambda f: f[f["year"] != 2012])
    assert "municipality 'Almelo': no rows for year 2012 (needed for year 2014)" in error_of(path)


def test_reporting_year_absent_is_reported(tmp_path):
    path = small_extract(tmp_path, lambda f: f[f["year"] != 2014])
    assert "no rows for year 2014" in error_of(path)


def test_duplicate_household_year_is_reported(tmp_path):
    path = small_extract(tmp_path, lambda f: pd.concat([f, f.iloc[[0]]], ignore_index=True))
    assert "line 11, column 'household_id': household h0 appears twice in year 2014" in error_of(
        path
    )


def test_all_errors_are_listed_together(tmp_path):
    def bad(frame):
        frame.loc[0, "ww"] = -2
        frame.loc[5, "moves"] = -1
        return frame

    message = error_of(small_extract(tmp_path, bad))
    assert "line 2, column 'ww'" in message and "line 7, column 'moves'" in message


def test_wrong_file_type_is_refused(tmp_path):
    path = tmp_path / "extract.xlsx"
    path.write_text("x")
    assert "must be .csv or .parquet" in error_of(path)


def test_monitor_synthetic_writes_a_population_the_monitor_reads(tmp_path):
    path = tmp_path / "national.parquet"
    out = io.StringIO()
    call_command(
        "monitor_synthetic",
        "--scale",
        "national",
        "--municipalities",
        "3",
        "--output",
        str(path),
        "--seed",
        "5",
        stdout=out,
    )
    assert "3 municipalities" in out.getvalue()
    summary = json.loads(run_monitor(path, "--json"))
    assert [m["municipality"] for m in summary["municipalities"]] == ["Almelo", "Borne", "Dalfsen"]


def test_two_worker_processes_give_the_same_counts_as_one(tmp_path):
    from analysis.monitor import pipeline
    from analysis.monitor.extract import split_pieces

    path = tmp_path / "four.parquet"
    call_command(
        "monitor_synthetic",
        "--scale",
        "national",
        "--municipalities",
        "4",
        "--output",
        str(path),
        stdout=io.StringIO(),
    )
    pieces = split_pieces(path, 2)
    assert len(pieces) == 2 and pieces[0].stop == pieces[1].start
    one = pipeline.monitor_run(path=path, year=2014)
    two = pipeline.monitor_run(path=path, year=2014, workers=2, min_rows=1)
    assert one["errors"] == two["errors"] == []
    assert one["counts"] == two["counts"]
    assert run_monitor(path, "--json", "--workers", "2") == run_monitor(path, "--json")


def trend_extract(tmp_path):
    """MPG in 2014 and 2015: Almelo 40 and 20, Hengelo 12 and 12, Borne 5 and 5."""
    mpg = {"bijstand": 1, "adult_outreach_care": 1, "child_ots": 1}
    support = {"child_ots": 1}
    rows = []
    for municipality, n_2014, n_2015 in (("Almelo", 40, 20), ("Hengelo", 12, 12), ("Borne", 5, 5)):
        for i in range(max(n_2014, n_2015) + 10):
            for year in (2012, 2013, 2014, 2015):
                problem = (year == 2014 and i < n_2014) or (year == 2015 and i < n_2015)
                values = mpg if problem else support
                rows.append(
                    {
                        "household_id": f"{municipality}-{i}",
                        "year": year,
                        "municipality": municipality,
                        **values,
                    }
                )
    path = tmp_path / "trend.csv"
    household_rows(rows).to_csv(path, index=False)
    return path


def test_trend_answers_whether_mpg_and_costs_decrease(tmp_path):
    out = io.StringIO()
    call_command(
        "monitor",
        "--input",
        str(trend_extract(tmp_path)),
        "--year",
        "2015",
        "--trend-from",
        "2014",
        "--json",
        stdout=out,
    )
    trend = {m["municipality"]: m for m in json.loads(out.getvalue())["trend"]["municipalities"]}
    almelo = trend["Almelo"]
    assert [r["mpg"] for r in almelo["per_year"]] == [40, 20]
    assert almelo["mpg_trend"]["rate_ratio_per_year"] == pytest.approx(0.5)
    assert almelo["mpg_trend"]["decreasing"] is True
    assert almelo["cost_trend"]["decreasing"] is True
    assert almelo["per_year"][0]["total_cost"] == pytest.approx(40 * 114_291)
    assert trend["Borne"]["trend"] == "*"
    # Borne is hidden, so the total row would give it away: the next-smallest (Hengelo) goes too.
    assert trend["Hengelo"]["trend"] == "*"
    assert [r["mpg"] for r in trend["(all)"]["per_year"]] == [57, 37]


def test_full_tables_hold_every_indicator_with_shares(almelo_csv):
    out = json.loads(run_monitor(almelo_csv, "--json", "--full"))
    wijken = {row["wijk"]: row for row in out["tables"]["wijken"]}
    binnenstad = wijken["Binnenstad"]
    assert binnenstad["households_with_child"] == 378
    assert binnenstad["se_any_socio_economic"] == 198
    assert binnenstad["pct_se_any_socio_economic"] == pytest.approx(52.4)
    for column in (
        "se_bijstand",
        "adult_police_suspect",
        "child_supervision_order_ots",
        "adult_addiction_care",
        "domain12",
        "support_both",
        "mvp_support_y1",
    ):
        assert column in binnenstad
    printed = [
        v
        for row in out["tables"]["wijken"]
        for k, v in row.items()
        if not k.startswith("pct_") and isinstance(v, int)
    ]
    assert not any(1 <= v <= 9 for v in printed)
