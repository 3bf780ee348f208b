"""Tests of the statistics office's output rule (analysis.effects.disclosure)."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analysis.effects.disclosure import (
    PROTECTION_WIDTH,
    _constraints,
    exact_intervals,
    feasible_intervals,
    percentage,
    protect,
    suppress_count,
    suppress_mean,
    suppress_table,
    suppression_mask,
)


@pytest.mark.parametrize(
    ("n", "shown"), [(0, 0), (1, "*"), (5, "*"), (9, "*"), (10, 10), (174, 174), (np.int64(3), "*")]
)
def test_suppress_count_hides_one_to_nine(n, shown):
    assert suppress_count(n) == shown


def test_suppress_count_rejects_negative_and_fractional_counts():
    with pytest.raises(ValueError, match="negative"):
        suppress_count(-1)
    with pytest.raises(TypeError):
        suppress_count(2.5)


def test_percentage_counts_a_suppressed_cell_as_five():
    # Baseline report, Binnenstad: adult police suspects "*" of 378 households -> 1.3 %.
    assert percentage("*", 378) == pytest.approx(1.3)
    assert percentage(7, 378) == pytest.approx(1.3)
    # Almelo totaal: 174 MPG of 8,555 households with a child = 2.0 %; of 31,392 all = 0.55 %.
    assert percentage(174, 8555) == pytest.approx(2.0)
    assert percentage(174, 31392, decimals=2) == pytest.approx(0.55)


def test_percentage_without_denominator_is_none():
    assert percentage(3, 0) is None
    assert percentage(None, 10) is None


def test_suppress_mean_below_ten_units():
    assert suppress_mean(2.5, 0) is None
    assert suppress_mean(2.5, 9) == "*"
    assert suppress_mean(2.5, 10) == 2.5


def test_single_hidden_cell_in_a_column_gets_a_partner():
    df = pd.DataFrame({"wijk": ["a", "b", "c"], "n": [3, 40, 12]})
    out = suppress_table(df, ["n"], totals="columns")
    # 3 is primary; 12 (next-smallest) is hidden so that 55 - 40 does not give it away.
    assert list(out["n"]) == ["*", 40, "*"]


def test_zero_is_shown_and_not_chosen_as_partner_when_a_positive_cell_exists():
    df = pd.DataFrame({"n": [0, 4, 25, 30]})
    out = suppress_table(df, ["n"], totals="columns")
    assert list(out["n"]) == [0, "*", "*", 30]


def test_no_totals_means_primary_suppression_only():
    df = pd.DataFrame({"n": [3, 40, 12]})
    assert list(suppress_table(df, ["n"], totals="none")["n"]) == ["*", 40, 12]


def _lines(mask, totals):
    if totals in ("rows", "both"):
        yield from mask
    if totals in ("columns", "both"):
        yield from mask.T


tables = arrays(
    np.int64,
    st.tuples(st.integers(1, 6), st.integers(1, 6)),
    elements=st.one_of(st.integers(0, 12), st.integers(0, 400)),
)


@settings(max_examples=200, deadline=None)
@given(values=tables, totals=st.sampled_from(["rows", "columns", "both", "none"]))
def test_no_printed_count_is_between_one_and_nine(values, totals):
    df = pd.DataFrame(values, columns=[f"c{i}" for i in range(values.shape[1])])
    out = suppress_table(df, list(df.columns), totals=totals)
    printed = [v for v in out.to_numpy().ravel() if v != "*"]
    assert not any(1 <= v <= 9 for v in printed)


@settings(max_examples=60, deadline=None)
@given(values=tables, totals=st.sampled_from(["rows", "columns", "both"]))
def test_no_hidden_cell_is_recoverable_from_a_shown_total(values, totals):
    """Subtraction attack: a line whose total is shown never has exactly one hidden cell."""
    full, mask = protect(
        values, row_totals=totals in ("rows", "both"), col_totals=totals in ("columns", "both")
    )
    assert (mask[:-1, :-1] == suppression_mask(values, totals=totals)).all()
    lines = []
    if totals in ("rows", "both"):
        lines += list(mask[:-1])
    if totals in ("columns", "both"):
        lines += list(mask[:, :-1].T)
    for line in lines:
        if not line[-1]:  # the line's total is shown
            assert int(line[:-1].sum()) != 1


@settings(max_examples=60, deadline=None)
@given(values=tables, totals=st.sampled_from(["rows", "columns", "both"]))
def test_every_hidden_cell_keeps_its_protection_interval(values, totals):
    """Differencing over all rows and columns together: what a reader can work out about every
    hidden cell (bounds from all shown cells and totals) is a range at least 10 wide, so no
    hidden count is pinned, nor known to lie within 1-9."""
    rows, cols = totals in ("rows", "both"), totals in ("columns", "both")
    full, mask = protect(values, row_totals=rows, col_totals=cols)
    printed = full[~mask]
    assert not ((printed >= 1) & (printed <= 9)).any()
    constraints = _constraints(values.shape[0], values.shape[1], rows, cols)
    lo, hi = feasible_intervals(full.ravel(), mask.ravel(), constraints)
    assert (full.ravel() >= lo).all() and (full.ravel() <= hi).all()  # the bounds are sound
    assert ((hi - lo)[mask.ravel()] >= PROTECTION_WIDTH).all()
    lo, hi = exact_intervals(full.ravel(), mask.ravel(), constraints)  # the LP attack
    assert ((hi - lo)[mask.ravel()] >= PROTECTION_WIDTH - 1e-6).all()


def test_two_small_cells_beside_their_total_are_not_pinned():
    """The attrition row of issue 19: 38 | * | * | 40 gave both hidden cells as 1."""
    full, mask = protect(np.array([[38, 1, 1]]), row_totals=True, col_totals=False)
    assert mask[0, :3].all() and not mask[0, 3]  # 38 is hidden too; the total 40 stays
    lo, hi = feasible_intervals(full.ravel(), mask.ravel(), _constraints(1, 3, True, False))
    assert (hi[:3] - lo[:3] >= PROTECTION_WIDTH).all()


def test_differencing_across_rows_and_columns_is_checked_together():
    # Each line on its own has two hidden cells, yet together the rows and columns pinned the
    # small cell before the protection interval: 3 = 43 - 40 once 40 follows from its column.
    full, mask = protect(np.array([[40, 3], [38, 12]]), row_totals=True, col_totals=True)
    assert mask[:2, :2].all()
    lo, hi = feasible_intervals(full.ravel(), mask.ravel(), _constraints(2, 2, True, True))
    assert hi[1] - lo[1] >= PROTECTION_WIDTH


def test_disclosure_does_not_import_django():
    code = "import sys, analysis.effects.disclosure; assert 'django' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
