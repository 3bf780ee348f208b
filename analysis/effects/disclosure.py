"""Statistical disclosure control: the statistics office's output rule for every printed count.

Pure Python/pandas, no Django. The rule (domain brief, "Privacy rules"): any count from 1 to 9
is shown as ``"*"``; percentages are then computed as if the count were 5. A table that also
shows totals needs secondary suppression, otherwise a hidden cell can be recomputed by
subtracting the shown cells from the shown total of its row or column.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
import pandas as pd

SUPPRESSED = "*"
#: Counts from 1 up to and including this value are suppressed.
MAX_SUPPRESSED = 9
#: Value a suppressed count stands for when a percentage is computed (the baseline report's rule).
SUPPRESSED_AS = 5

Totals = Literal["rows", "columns", "both", "none"]


def _check_count(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"a count must be a whole number, got {n!r}")
    if n < 0:
        raise ValueError(f"a count cannot be negative, got {n}")
    return int(n)


def suppress_count(n: int) -> int | str:
    """Return the count as it may be printed: ``"*"`` for 1-9, otherwise the count itself."""
    n = _check_count(n)
    return SUPPRESSED if 1 <= n <= MAX_SUPPRESSED else n


def _as_number(value: int | str | None) -> float | None:
    if value is None:
        return None
    if value == SUPPRESSED:
        return float(SUPPRESSED_AS)
    n = _check_count(value)
    # An unsuppressed small count is still computed as 5: the percentage must not reveal it.
    return float(SUPPRESSED_AS) if 1 <= n <= MAX_SUPPRESSED else float(n)


def percentage(n: int | str | None, denom: int | str | None, decimals: int = 1) -> float | None:
    """Percentage n/denom*100 as the baseline report computed it: a count of 1-9 (or "*") counts as 5.

    Returns None when there is nothing to divide by (denominator missing or zero).
    """
    num = _as_number(n)
    den = _as_number(denom)
    if num is None or den is None or den == 0:
        return None
    return round(100.0 * num / den, decimals)


def suppress_mean(value: float | None, n: int) -> float | str | None:
    """A mean (or other statistic) over n units: None when n is 0, ``"*"`` when n is 1-9."""
    n = _check_count(n)
    if n == 0 or value is None:
        return None
    if n <= MAX_SUPPRESSED:
        return SUPPRESSED
    return float(value)


def _secondary_candidate(values: np.ndarray, hidden: np.ndarray, line: np.ndarray) -> int | None:
    """Index in ``line`` of the next-smallest shown cell to hide (non-zero cells first)."""
    shown = [i for i in line if not hidden[i]]
    if not shown:
        return None
    nonzero = [i for i in shown if values[i] > 0]
    pool = nonzero or shown
    return min(pool, key=lambda i: (values[i], i))


def suppression_mask(values: np.ndarray, totals: Totals = "both") -> np.ndarray:
    """Boolean mask of the cells to hide in a 2-D array of counts.

    Primary: every count 1-9. Secondary: while a row (``totals`` "rows"/"both") or a column
    ("columns"/"both") has exactly one hidden cell, the next-smallest shown cell in that line is
    hidden too, so that no hidden cell equals the shown total minus the shown cells.
    """
    values = np.asarray(values, dtype=np.int64)
    if values.ndim != 2:
        raise ValueError("suppression_mask needs a 2-D table of counts")
    if (values < 0).any():
        raise ValueError("a table of counts cannot hold negative values")
    hidden = (values >= 1) & (values <= MAX_SUPPRESSED)
    n_rows, n_cols = values.shape
    flat = values.ravel()
    check_rows = totals in ("rows", "both")
    check_cols = totals in ("columns", "both")
    changed = True
    while changed:
        changed = False
        lines: list[np.ndarray] = []
        if check_rows:
            lines += [np.arange(r * n_cols, (r + 1) * n_cols) for r in range(n_rows)]
        if check_cols:
            lines += [np.arange(c, n_rows * n_cols, n_cols) for c in range(n_cols)]
        flat_hidden = hidden.ravel()
        for line in lines:
            if flat_hidden[line].sum() == 1:
                pick = _secondary_candidate(flat, flat_hidden, line)
                if pick is not None:
                    flat_hidden[pick] = True
                    changed = True
        hidden = flat_hidden.reshape(n_rows, n_cols)
    return hidden


def suppress_table(
    df: pd.DataFrame, count_cols: Iterable[str], totals: Totals = "columns"
) -> pd.DataFrame:
    """Copy of ``df`` with primary and secondary suppression applied to ``count_cols``.

    ``totals`` says which totals are shown next to the table and must not give a hidden cell
    away: "columns" (a total row is shown: each column's cells add up to it), "rows" (each
    row's ``count_cols`` add up to a shown row total), "both" or "none" (primary only).
    Suppressed cells become ``"*"``; the suppressed columns get dtype object.
    """
    cols = list(count_cols)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"count columns not in the table: {', '.join(missing)}")
    out = df.copy()
    if not cols or out.empty:
        return out
    values = out[cols].to_numpy(dtype=np.int64)
    mask = suppression_mask(values, totals=totals)
    for j, col in enumerate(cols):
        column = out[col].astype(object)
        column[mask[:, j]] = SUPPRESSED
        out[col] = column.map(lambda v: v if v == SUPPRESSED else int(v))
    return out
