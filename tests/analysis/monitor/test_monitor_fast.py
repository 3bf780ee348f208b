"""The Arrow/NumPy fast path gives exactly the straightforward (pandas) path's counts and errors."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.monitor import pipeline

from .helpers_monitor import random_extract

YEAR = 2014


def write(frame: pd.DataFrame, path, row_group_size: int) -> None:
    pq.write_table(
        pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=row_group_size
    )


def both(path, **options):
    fast = pipeline.monitor_run(path=path, year=YEAR, fast=True, **options)
    slow = pipeline.monitor_run(path=path, year=YEAR, fast=False, **options)
    return fast, slow


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("min_rows", [1, 5000, 1_000_000])
def test_fast_path_equals_straightforward_path_on_random_extracts(tmp_path, seed, min_rows):
    path = tmp_path / "extract.parquet"
    # Row groups of 1,700 rows: municipalities span several groups and groups hold several.
    write(random_extract(seed), path, row_group_size=1700)
    fast, slow = both(path, min_rows=min_rows)
    assert not slow["errors"]
    assert fast == slow
    assert sum(row["mpg"] for row in fast["counts"]) > 0


def test_fast_path_handles_text_household_ids(tmp_path):
    path = tmp_path / "extract.parquet"
    write(random_extract(4, text_ids=True), path, row_group_size=2500)
    fast, slow = both(path, min_rows=4000)
    assert not slow["errors"]
    assert fast == slow


def test_fast_path_handles_float_and_narrow_integer_columns(tmp_path):
    frame = random_extract(5)
    frame["adult_ggz_basic_eur"] = frame["adult_ggz_basic_eur"] * 0.75  # 0.75 is no problem
    frame["n_children"] = frame["n_children"].astype(np.int8)
    frame["bijstand"] = frame["bijstand"].astype(np.uint16)
    path = tmp_path / "extract.parquet"
    write(frame, path, row_group_size=3000)
    fast, slow = both(path)
    assert fast == slow


@pytest.mark.parametrize(
    "damage",
    ["negative", "above_max", "missing_value", "duplicate", "no_preceding_year", "blank_wijk"],
)
def test_fast_path_reports_the_same_errors(tmp_path, damage):
    frame = random_extract(6, households=800)
    rows = frame.index[frame["year"] == YEAR - 1]  # a year the monitor reads
    if damage == "negative":
        frame.loc[rows[17], "ww"] = -1
    elif damage == "above_max":
        frame.loc[rows[23], "low_income"] = 3
    elif damage == "missing_value":
        frame["moves"] = frame["moves"].astype("float64")
        frame.loc[rows[5], "moves"] = np.nan
    elif damage == "duplicate":
        frame = pd.concat([frame, frame.loc[[rows[40]]]], ignore_index=True)
    elif damage == "no_preceding_year":
        frame = frame[~((frame["municipality"] == "Borne") & (frame["year"] == YEAR - 2))]
    elif damage == "blank_wijk":
        frame.loc[rows[3], "wijk"] = "  "
    path = tmp_path / "extract.parquet"
    write(frame, path, row_group_size=900)
    fast, slow = both(path, min_rows=1500)
    assert slow["errors"]
    assert fast == slow


def write_per_municipality(frame: pd.DataFrame, path) -> None:
    """One or two row groups per municipality, as the generator writes (statistics pin them)."""
    import pyarrow as pa

    writer = None
    for _, own in frame.groupby("municipality", sort=True):
        table = pa.Table.from_pandas(own.reset_index(drop=True), preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=max(1, len(own) // 2 + 1))
    writer.close()


@pytest.mark.parametrize("damage", [None, "negative", "no_preceding_year"])
def test_fan_out_chunks_agree_with_the_straightforward_path(tmp_path, damage):
    from analysis.monitor.fast import municipality_groups

    frame = random_extract(21, households=1500)
    if damage == "negative":
        frame.loc[
            frame.index[(frame["municipality"] == "Delden") & (frame["year"] == YEAR)][0], "ww"
        ] = -1
    elif damage == "no_preceding_year":
        frame = frame[~((frame["municipality"] == "Borne") & (frame["year"] == YEAR - 1))]
    path = tmp_path / "extract.parquet"
    write_per_municipality(frame, path)
    for name in sorted(frame["municipality"].unique()):
        assert municipality_groups(path, name) is not None  # the fast path is taken
        fast = pipeline.monitor_chunk(path=path, municipality=name, year=YEAR, fast=True)
        slow = pipeline.monitor_chunk(path=path, municipality=name, year=YEAR, fast=False)
        assert fast == slow, name
    assert municipality_groups(path, "Nowhere") is None


def test_fan_out_chunk_of_a_mixed_file_takes_the_straightforward_path(tmp_path):
    from analysis.monitor.fast import municipality_groups

    path = tmp_path / "extract.parquet"
    write(random_extract(22, households=600), path, row_group_size=700)
    assert municipality_groups(path, "Borne") is None
    fast = pipeline.monitor_chunk(path=path, municipality="Borne", year=YEAR, fast=True)
    slow = pipeline.monitor_chunk(path=path, municipality="Borne", year=YEAR, fast=False)
    assert fast == slow and fast["counts"]


@pytest.mark.parametrize("text_ids", [False, True])
def test_a_chunk_without_households_in_the_reporting_year(tmp_path, text_ids):
    frame = random_extract(23, households=900, text_ids=text_ids)
    only_before = frame[frame["year"].isin([YEAR - 2, YEAR - 1])].head(50).copy()
    only_before["municipality"] = "Rijssen"  # rows in Y-2 and Y-1 only: nothing to count
    frame = pd.concat([frame, only_before], ignore_index=True)
    path = tmp_path / "extract.parquet"
    write_per_municipality(frame, path)
    fast, slow = both(path, min_rows=1)
    assert not slow["errors"]
    assert fast == slow
    assert "Rijssen" not in {row["municipality"] for row in fast["counts"]}


# --- CSV: Arrow's CSV reader into the same kernels ----------------------------------------------


def _grouped(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("municipality", kind="stable", ignore_index=True)


def _csv_counts(path, min_rows=1_000_000, block_bytes=None):
    from analysis.monitor.catalogue import load_catalogue
    from analysis.monitor.fast import csv_chunk_counts

    return csv_chunk_counts(path, YEAR, load_catalogue(), min_rows, block_bytes)


@pytest.mark.parametrize("min_rows", [1, 5000, 1_000_000])
@pytest.mark.parametrize("block_bytes", [4_096, 100_000, None])
def test_csv_fast_path_equals_the_pandas_path(tmp_path, min_rows, block_bytes, monkeypatch):
    from analysis.monitor import fast as fast_module

    path = tmp_path / "extract.csv"
    _grouped(random_extract(7)).to_csv(path, index=False)
    if block_bytes:  # small blocks: municipalities span blocks and blocks hold several
        monkeypatch.setattr(fast_module, "CSV_BLOCK_BYTES", block_bytes)
    parts = _csv_counts(path, min_rows)
    assert parts is not None  # the fast path was taken
    if min_rows == 1:
        assert len(parts) > 1  # cut into chunks of whole municipalities
    fast, slow = both(path, min_rows=min_rows)
    assert not slow["errors"]
    assert fast == slow
    assert sum(row["mpg"] for row in fast["counts"]) > 0


def test_csv_fast_path_with_text_ids_and_float_columns(tmp_path):
    frame = _grouped(random_extract(8, text_ids=True))
    frame["adult_ggz_basic_eur"] = frame["adult_ggz_basic_eur"] * 0.75
    path = tmp_path / "extract.csv"
    frame.to_csv(path, index=False)
    assert _csv_counts(path, block_bytes=10_000) is not None
    fast, slow = both(path)
    assert fast == slow


def test_csv_whose_municipalities_are_not_together_takes_the_pandas_path(tmp_path):
    frame = random_extract(9).sample(frac=1.0, random_state=9)  # municipalities interleaved
    path = tmp_path / "extract.csv"
    frame.to_csv(path, index=False)
    assert _csv_counts(path, block_bytes=4_096) is None
    fast, slow = both(path)
    assert not slow["errors"] and fast == slow


def _damaged(frame: pd.DataFrame, damage: str) -> pd.DataFrame:
    rows = frame.index[frame["year"] == YEAR - 1]
    frame = frame.astype({"moves": object, "wijk": object, "municipality": object, "year": object})
    cells = {  # damage: (row, column, value)
        "negative": (rows[17], "ww", -1),
        "above_max": (rows[23], "low_income", 3),
        "missing_value": (rows[5], "moves", None),
        "text": (rows[6], "moves", "twee"),
        "blank_wijk": (rows[3], "wijk", "  "),
        "na_name": (rows[8], "wijk", "NA"),  # pandas reads it as missing: so must the fast path
        "none_name": (rows[9], "municipality", "None"),
        "decimal_year": (rows[2], "year", f"{YEAR - 1}.5"),
    }
    if damage in cells:
        row, column, value = cells[damage]
        frame.loc[row, column] = value
    elif damage == "duplicate":
        frame = _grouped(pd.concat([frame, frame.loc[[rows[40]]]], ignore_index=True))
    elif damage == "no_preceding_year":
        frame = frame[~((frame["municipality"] == "Borne") & (frame["year"] == YEAR - 2))]
    return frame


@pytest.mark.parametrize(
    "damage",
    ["negative", "above_max", "missing_value", "text", "duplicate", "no_preceding_year"]
    + ["blank_wijk", "na_name", "none_name", "decimal_year"],
)
def test_csv_fast_path_gives_up_on_damage_and_the_pandas_path_reports_it(tmp_path, damage):
    path = tmp_path / "extract.csv"
    _damaged(_grouped(random_extract(10, households=800)), damage).to_csv(path, index=False)
    assert _csv_counts(path, min_rows=1500, block_bytes=8_192) is None
    fast, slow = both(path, min_rows=1500)
    # Each is an error except a year that is no whole year: no year the monitor reads, skipped.
    assert bool(slow["errors"]) == (damage != "decimal_year")
    assert fast == slow


def test_the_missing_values_are_those_pandas_reads_as_missing():
    from pandas._libs.parsers import STR_NA_VALUES

    from analysis.monitor.fast import PANDAS_NA_VALUES

    assert set(PANDAS_NA_VALUES) == set(STR_NA_VALUES)


def test_a_fan_out_sends_a_csv_as_one_chunk_counted_by_the_fast_path(tmp_path):
    """With a broker each task reads its chunk: a CSV (no row groups to seek to) is one task
    that reads the file once, not one task per municipality that each read all of it."""
    from pathlib import Path

    from analysis.monitor import runner

    path = tmp_path / "extract.csv"
    _grouped(random_extract(11)).to_csv(path, index=False)
    arg_lists = runner._chunk_args(Path(path), YEAR, None)
    assert arg_lists == [(str(path), None, YEAR)]
    chunk = pipeline.monitor_chunk(path=path, municipality=None, year=YEAR, fast=True)
    slow = pipeline.monitor_chunk(path=path, municipality=None, year=YEAR, fast=False)
    assert chunk["errors"] == [] and chunk["rows"] == slow["rows"]
    combined = pipeline.monitor_combine(results=[chunk], source="extract.csv", year=YEAR)
    assert combined == pipeline.monitor_run(path=path, year=YEAR, fast=False)
