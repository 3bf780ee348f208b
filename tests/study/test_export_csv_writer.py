"""The CSV writer of the exports (issue 21) writes from whole columns: the same bytes as
pandas' `to_csv` of the formula-guarded frame, in both dialects, for every column type it
takes on (other types go through pandas itself)."""

import numpy as np
import pandas as pd
import pytest

from study import exporting


def pandas_csv(frame: pd.DataFrame, dialect, header: bool) -> bytes:
    text = exporting.frame_csv_safe(frame).to_csv(
        index=False, header=header, sep=dialect.sep, decimal=dialect.decimal
    )
    return text.encode("utf-8")


def awkward() -> pd.DataFrame:
    n = 14
    frame = pd.DataFrame(
        {
            "text": ["=cmd", "-3", "+31", 'x"y', "a,b", "a;b", "l\nm", "c\rd", None, "", " s"]
            + ["@x", "\tt", "é"],
            "float": [1.5, np.nan, -0.0, 1e-7, 1e20, 0.1 + 0.2, 3.0, np.inf, -np.inf, 12345678.9]
            + [2.5, 1 / 3, 7.0, 0.0],
            "Int64": pd.array([1, None, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, None], dtype="Int64"),
            "int": np.arange(n) - 3,
            "string": pd.Series(["x"] * 13 + [None], dtype="string"),
            "mixed": [1, "=2", 3.5, None, np.nan, "a", "b", "c", "d", "e", "f", "g", "h", "-"],
            "name, with; sep": np.arange(n, dtype=np.uint8),
            "float32": np.array([1.1] + [np.nan] * (n - 1), dtype=np.float32),
        }
    )
    frame["str"] = frame["text"].astype("str")
    return frame


@pytest.mark.parametrize("name", list(exporting.CSV_DIALECTS))
@pytest.mark.parametrize("header", [True, False])
def test_the_column_writer_writes_what_pandas_writes(name, header):
    dialect = exporting.CSV_DIALECTS[name]
    frame = awkward()
    for part in (frame, frame.iloc[:0], frame[["text", "float"]], frame.iloc[3:9]):
        assert exporting._columns_to_csv(part, dialect, header=header) is not None
        assert exporting.frame_to_csv_bytes(part, dialect, header=header) == pandas_csv(
            part, dialect, header
        )


def test_other_column_types_go_through_pandas():
    dialect = exporting.CSV_DIALECTS["csv"]
    frame = pd.DataFrame(
        {"when": pd.to_datetime(["2024-01-02", None]), "flag": [True, False], "x": ["=a", "b"]}
    )
    assert exporting._columns_to_csv(frame, dialect, header=True) is None
    assert exporting.frame_to_csv_bytes(frame, dialect) == pandas_csv(frame, dialect, True)
    single = frame[["x"]]
    assert exporting.frame_to_csv_bytes(single, dialect) == pandas_csv(single, dialect, True)


@pytest.mark.django_db
def test_the_demo_panel_and_instrument_frames_are_written_as_pandas_writes_them():
    from instruments import exporting as instrument_exporting
    from study.demo import seed_demo
    from study.models import Family

    study, _ = seed_demo(seed=7)
    families = Family.objects.filter(study=study)
    panel = exporting.panel_frame(study, families)
    instruments, book = instrument_exporting.export_frames(study, families)
    for frame in (panel, instruments, book, exporting.codebook_frame(study)):
        assert len(frame) > 10
        for dialect in exporting.CSV_DIALECTS.values():
            assert exporting._columns_to_csv(frame, dialect, header=True) is not None
            assert exporting.frame_to_csv_bytes(frame, dialect) == pandas_csv(frame, dialect, True)
