"""Property-based tests (hypothesis) of the MPG classification and the suppressed tables.

Any household frame gives either a result or an ExtractError naming row and column, never a
pandas/NumPy exception from deep inside; on valid frames the classification keeps its
invariants (MPG implies MVP implies each domain and scope), the fast Parquet path agrees with
the pandas path, and the suppressed tables never show a count from 1 to 9.
"""

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.monitor.catalogue import load_catalogue
from analysis.monitor.classify import HOUSEHOLD_COLUMNS, classify_households
from analysis.monitor.extract import ROW, ExtractError, validate_extract
from analysis.monitor.tables import report_table, wijk_counts

YEAR = 2014
CATALOGUE = load_catalogue()
CODES = CATALOGUE.codes
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

wild_value = st.one_of(
    st.integers(-2, 400),
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["x", "", " ", "1", "2.5", "-1"]),
)
wild_text = st.one_of(st.sampled_from(["A", "B", "Wijk 1", " ", ""]), st.none(), st.integers(0, 3))


@st.composite
def wild_frames(draw):
    """Household-year frames with anything in any cell, and sometimes a column missing."""
    n = draw(st.integers(0, 12))
    frame = {
        "household_id": draw(
            st.lists(st.one_of(st.integers(0, 6), wild_text), min_size=n, max_size=n)
        ),
        "year": draw(
            st.lists(
                st.one_of(st.sampled_from([YEAR - 2, YEAR - 1, YEAR]), wild_value),
                min_size=n,
                max_size=n,
            )
        ),
        "municipality": draw(st.lists(wild_text, min_size=n, max_size=n)),
        "wijk": draw(st.lists(wild_text, min_size=n, max_size=n)),
    }
    for column in ["n_adults", "n_children", *CODES]:
        if draw(st.booleans()):  # a clean integer column
            frame[column] = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
        else:
            frame[column] = draw(st.lists(wild_value, min_size=n, max_size=n))
    df = pd.DataFrame(frame)
    if draw(st.booleans()):
        df = df.drop(columns=draw(st.lists(st.sampled_from(list(df.columns)), max_size=3)))
    df[ROW] = np.arange(2, 2 + len(df))
    return df


@st.composite
def valid_frames(draw):
    """Valid extracts: households in up to three municipalities, every year present."""
    households = draw(st.integers(1, 40))
    rows = []
    for household in range(households):
        municipality = draw(st.sampled_from(["Almelo", "Borne", "Hengelo"]))
        wijk = draw(st.sampled_from(["Noord", "Zuid", "Oost"]))
        for year in (YEAR - 2, YEAR - 1, YEAR):
            if year != YEAR and draw(st.integers(0, 9)) == 0:
                continue  # absent in a preceding year
            row = {
                "household_id": household,
                "year": year,
                "municipality": municipality,
                "wijk": wijk,
                "n_adults": draw(st.integers(0, 2)),
                "n_children": draw(st.integers(0, 2)),
            }
            hits = draw(st.sets(st.sampled_from(CODES), max_size=8))
            for code in CODES:
                top = int(min(3, CATALOGUE.get(code).max))
                row[code] = draw(st.integers(1, top)) if code in hits else 0
            rows.append(row)
    df = pd.DataFrame(rows)
    # Every municipality with rows in Y needs rows in Y-1 and Y-2: add empty households there.
    extra = []
    for name in df["municipality"].unique():
        for year in (YEAR - 2, YEAR - 1):
            extra.append(
                {
                    "household_id": 1000 + len(extra),
                    "year": year,
                    "municipality": name,
                    "wijk": "Noord",
                    "n_adults": 1,
                    "n_children": 0,
                    **dict.fromkeys(CODES, 0),
                }
            )
    df = pd.concat([df, pd.DataFrame(extra)], ignore_index=True)
    df[ROW] = np.arange(2, 2 + len(df))
    return df


@PROPERTY_SETTINGS
@given(wild_frames())
def test_any_frame_gives_a_result_or_a_clear_error(frame):
    try:
        valid = validate_extract(frame, YEAR, CATALOGUE)
    except ExtractError as exc:
        assert exc.errors
        for error in exc.errors:
            # Each error names where: a line and column, a missing column, or a municipality.
            assert ("line " in error and "column '" in error) or error.startswith(
                ("municipality '", "extract: missing column '")
            ), error
        return
    classified = classify_households(valid, YEAR, CATALOGUE, with_indicators=True)
    counts = wijk_counts(classified, CATALOGUE)
    assert int(counts["households"].sum()) == int((valid["year"] == YEAR).sum())


@PROPERTY_SETTINGS
@given(valid_frames())
def test_classification_invariants(frame):
    valid = validate_extract(frame, YEAR, CATALOGUE)
    out = classify_households(valid, YEAR, CATALOGUE, with_indicators=True)
    mpg, mvp = out["mpg"].to_numpy(), out["mvp"].to_numpy()
    assert not (mpg & ~mvp).any()
    for column in ("in_scope", "domain1", "domain2", "domain3"):
        assert not (mvp & ~out[column].to_numpy()).any()
    for column in ("support_y1", "support_y2"):
        assert not (mpg & ~out[column].to_numpy()).any()
    # MVP is exactly scope and all three domains; MPG exactly MVP and support in both years.
    both = out[["in_scope", "domain1", "domain2", "domain3"]].to_numpy().all(axis=1)
    assert (mvp == both).all()
    assert (mpg == (mvp & out["support_y1"].to_numpy() & out["support_y2"].to_numpy())).all()
    # A domain is set exactly when one of its indicators marks a problem.
    for domain in (1, 2, 3):
        flags = out[[f"ind_{c}" for c in CATALOGUE.domain_codes(domain)]].to_numpy().any(axis=1)
        assert (out[f"domain{domain}"].to_numpy() == flags).all()
    assert len(out) == int((valid["year"] == YEAR).sum())


@PROPERTY_SETTINGS
@given(valid_frames(), st.booleans())
def test_suppressed_tables_never_show_a_count_from_one_to_nine(frame, by_wijk):
    valid = validate_extract(frame, YEAR, CATALOGUE)
    counts = wijk_counts(classify_households(valid, YEAR, CATALOGUE, with_indicators=True))
    table = report_table(counts, by="wijk" if by_wijk else "municipality", suppress=True)
    values = (
        table.drop(
            columns=["municipality", "wijk", *[c for c in table.columns if c.startswith("pct_")]],
            errors="ignore",
        )
        .to_numpy()
        .ravel()
    )
    assert not any(isinstance(v, int | np.integer) and 1 <= v <= 9 for v in values)


@PROPERTY_SETTINGS
@given(valid_frames(), st.integers(1, 4), st.booleans(), st.booleans())
def test_fast_parquet_path_agrees_with_the_pandas_path(frame, groups, text_ids, shuffled):
    from analysis.monitor import pipeline

    data = frame.drop(columns=[ROW])
    if text_ids:
        data["household_id"] = "hh-" + data["household_id"].astype(str)
    if not shuffled:
        data = data.sort_values("municipality", kind="stable")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "extract.parquet"
        data.to_parquet(path, index=False, row_group_size=max(1, len(data) // groups))
        fast = pipeline.monitor_run(path=path, year=YEAR, fast=True, min_rows=20)
        slow = pipeline.monitor_run(path=path, year=YEAR, fast=False, min_rows=20)
    assert fast == slow


def test_missing_columns_are_named(tmp_path):
    frame = pd.DataFrame({c: [1] for c in HOUSEHOLD_COLUMNS})
    frame[ROW] = [2]
    with pytest.raises(ExtractError, match="missing column 'bijstand'"):
        validate_extract(frame, YEAR, CATALOGUE)


@PROPERTY_SETTINGS
@given(valid_frames(), st.sampled_from([2_000, 20_000, 1 << 20]), st.booleans(), st.booleans())
def test_fast_csv_path_agrees_with_the_pandas_path(frame, block_bytes, text_ids, shuffled):
    """CSV through Arrow's reader into the kernels: the pandas path's counts, whether the lines
    of a municipality are together (fast path) or not (the pandas path takes the file)."""
    from analysis.monitor import fast as fast_path
    from analysis.monitor import pipeline

    data = frame.drop(columns=[ROW])
    if text_ids:
        data["household_id"] = "hh-" + data["household_id"].astype(str)
    if not shuffled:
        data = data.sort_values("municipality", kind="stable")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "extract.csv"
        data.to_csv(path, index=False)
        counted = fast_path.csv_chunk_counts(path, YEAR, CATALOGUE, 20, block_bytes)
        fast = pipeline.monitor_run(path=path, year=YEAR, fast=True, min_rows=20)
        slow = pipeline.monitor_run(path=path, year=YEAR, fast=False, min_rows=20)
    assert fast == slow
    if not shuffled:
        assert counted is not None  # a clean file with its municipalities together: fast


@PROPERTY_SETTINGS
@given(wild_frames())
def test_any_csv_gives_the_pandas_paths_counts_or_errors(frame):
    """Anything in any cell of a CSV: the fast path gives up or agrees, never differs."""
    from analysis.monitor import pipeline

    data = frame.drop(columns=[ROW])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "extract.csv"
        data.to_csv(path, index=False)
        fast = pipeline.monitor_run(path=path, year=YEAR, fast=True, min_rows=1)
        slow = pipeline.monitor_run(path=path, year=YEAR, fast=False, min_rows=1)
    assert fast == slow
