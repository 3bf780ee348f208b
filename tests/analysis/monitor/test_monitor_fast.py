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
