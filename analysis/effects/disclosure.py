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


#: The protection interval: every hidden cell's range, as a reader can work it out from the shown
#: cells and totals of its rows and columns, must be at least this wide (so a hidden 1-9 is never
#: pinned down, nor known to lie within 1-9: "38 | * | * | 40" would give both cells as 1).
PROTECTION_WIDTH = MAX_SUPPRESSED + 1


def _constraints(n_rows: int, n_cols: int, rows: bool, cols: bool) -> list[tuple[list[int], int]]:
    """The additive relations of a table with margins, as (cells, total) index pairs into the
    flattened (n_rows + 1) x (n_cols + 1) table whose last row and column are the totals."""
    width = n_cols + 1
    out: list[tuple[list[int], int]] = []
    for r in range(n_rows + 1 if cols else n_rows):
        if rows:
            out.append(([r * width + c for c in range(n_cols)], r * width + n_cols))
    for c in range(n_cols + 1 if rows else n_cols):
        if cols:
            out.append(([r * width + c for r in range(n_rows)], n_rows * width + c))
    return out


def _other_range(idx, coef, lo, hi, k) -> tuple[float, float]:
    """Range of the sum of the terms of a relation other than term ``k``."""
    low = high = 0.0
    for j, i in enumerate(idx):
        if j != k:
            a, b = coef[j] * lo[i], coef[j] * hi[i]
            low += min(a, b)
            high += max(a, b)
    return low, high


def feasible_intervals(
    values: np.ndarray, hidden: np.ndarray, constraints: list[tuple[list[int], int]]
) -> tuple[np.ndarray, np.ndarray]:
    """What a reader can derive about every cell: (low, high) bounds from the shown cells and the
    sums (bounds propagation to a fixed point; shown cells are exact, hidden ones start at
    [0, inf)). ``values`` and ``hidden`` are flat."""
    lo = np.where(hidden, 0.0, values.astype(float))
    hi = np.where(hidden, np.inf, values.astype(float))
    terms = [([*cells, total], [1.0] * len(cells) + [-1.0]) for cells, total in constraints]
    for _ in range(4 * len(values) + 8):
        changed = False
        for idx, coef in terms:
            for k in (k for k, i in enumerate(idx) if hidden[i]):
                # coef_k * x_k = -(sum of the other terms)
                other_lo, other_hi = _other_range(idx, coef, lo, hi, k)
                new_lo, new_hi = (-other_hi, -other_lo) if coef[k] > 0 else (other_lo, other_hi)
                i = idx[k]
                if new_lo > lo[i] + 1e-9:
                    lo[i], changed = new_lo, True
                if new_hi < hi[i] - 1e-9:
                    hi[i], changed = new_hi, True
        if not changed:
            break
    return lo, hi


def _equations(values, hidden, constraints, col) -> tuple[list, list]:
    """The table's sums as linear equations in its hidden cells (A x = b)."""
    a_eq, b_eq = [], []
    for cells, total in constraints:
        row = np.zeros(len(col))
        rhs = 0.0
        for i, sign in [*((c, 1.0) for c in cells), (total, -1.0)]:
            if hidden[i]:
                row[col[i]] += sign
            else:
                rhs -= sign * float(values[i])
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    return a_eq, b_eq


def exact_intervals(
    values: np.ndarray, hidden: np.ndarray, constraints: list[tuple[list[int], int]]
) -> tuple[np.ndarray, np.ndarray]:
    """The tightest (low, high) a reader can reach by linear programming over all the table's
    sums at once (the attack that bounds propagation can miss); flat arrays like
    ``feasible_intervals``."""
    from scipy.optimize import linprog

    lo = np.where(hidden, 0.0, values.astype(float))
    hi = np.where(hidden, np.inf, values.astype(float))
    unknown = [int(i) for i in np.flatnonzero(hidden)]
    col = {i: k for k, i in enumerate(unknown)}
    a_eq, b_eq = _equations(values, hidden, constraints, col)
    if not a_eq:
        return lo, hi
    for i in unknown:
        for sense in (1.0, -1.0):
            c = np.zeros(len(unknown))
            c[col[i]] = sense
            res = linprog(c, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=(0, None))
            if res.status == 0 and sense > 0:
                lo[i] = res.fun
            elif res.status == 0:
                hi[i] = -res.fun
    return lo, hi


def _weak_cells(values, hidden, constraints) -> list[int]:
    """Hidden cells whose range is narrower than the protection interval, narrowest first:
    bounds propagation while it finds any, then the exact linear-programming check."""
    for intervals in (feasible_intervals, exact_intervals):
        lo, hi = intervals(values, hidden, constraints)
        width = hi - lo
        weak = [int(i) for i in np.flatnonzero(hidden) if width[i] < PROTECTION_WIDTH - 1e-6]
        if weak:
            return sorted(weak, key=lambda i: (width[i], i))
    return []


def _next_to_hide(flat, flat_hidden, constraints, inner) -> int | None:
    """The shown cell to hide next, or None when every hidden cell is protected: the smallest
    non-zero shown cell (inner cells before margins) in a row or column of the weakest cell."""

    def order(i):
        return (i not in inner, flat[i] == 0, flat[i], i)

    weak = _weak_cells(flat, flat_hidden, constraints)
    if not weak:
        return None
    for cell in weak:
        lines = [[*cells, total] for cells, total in constraints if cell in [*cells, total]]
        pool = {i for line in lines for i in line if not flat_hidden[i]}
        if pool:
            return min(pool, key=order)
    shown = [int(i) for i in np.flatnonzero(~flat_hidden)]
    return min(shown, key=order) if shown else None


def protect(
    values: np.ndarray, *, row_totals: bool, col_totals: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Primary and secondary suppression of a 2-D table of counts shown with its margins.

    Returns (full, mask): ``full`` is the table with a total column (``row_totals``) and a
    total row (``col_totals``) appended (both: with the grand total), ``mask`` the cells of
    ``full`` to print as "*". Margins that are not shown count as hidden. Primary: every count
    1-9, margins included. Secondary: while a hidden cell's feasible range (what a reader can
    work out from the shown cells and totals, ``feasible_intervals``) is narrower than
    ``PROTECTION_WIDTH``, the smallest non-zero shown cell of its rows and columns (inner cells
    before margins) is hidden too.
    """
    values = np.asarray(values, dtype=np.int64)
    if values.ndim != 2:
        raise ValueError("suppression needs a 2-D table of counts")
    if (values < 0).any():
        raise ValueError("a table of counts cannot hold negative values")
    n_rows, n_cols = values.shape
    full = np.zeros((n_rows + 1, n_cols + 1), dtype=np.int64)
    full[:-1, :-1] = values
    full[:-1, -1] = values.sum(axis=1)
    full[-1, :-1] = values.sum(axis=0)
    full[-1, -1] = values.sum()
    hidden = (full >= 1) & (full <= MAX_SUPPRESSED)
    if not row_totals:
        hidden[:, -1] = True
    if not col_totals:
        hidden[-1, :] = True
    flat, flat_hidden = full.ravel(), hidden.ravel().copy()
    constraints = _constraints(n_rows, n_cols, row_totals, col_totals)
    width = n_cols + 1
    inner = {r * width + c for r in range(n_rows) for c in range(n_cols)}
    while (pick := _next_to_hide(flat, flat_hidden, constraints, inner)) is not None:
        flat_hidden[pick] = True
    return full, flat_hidden.reshape(full.shape)


def suppression_mask(values: np.ndarray, totals: Totals = "both") -> np.ndarray:
    """Boolean mask of the cells to hide in a 2-D array of counts whose totals are shown beside
    it: "columns" (a total row: each column adds up to it), "rows" (a total column), "both"
    (both and the grand total) or "none" (primary suppression only). The protection interval
    holds against the shown totals (``protect``)."""
    values = np.asarray(values, dtype=np.int64)
    if values.ndim != 2:
        raise ValueError("suppression_mask needs a 2-D table of counts")
    if (values < 0).any():
        raise ValueError("a table of counts cannot hold negative values")
    if totals == "none":
        return (values >= 1) & (values <= MAX_SUPPRESSED)
    _, mask = protect(
        values, row_totals=totals in ("rows", "both"), col_totals=totals in ("columns", "both")
    )
    return mask[:-1, :-1]


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


#: Family counts beside an outcome ("n" columns, notes) are rounded to a multiple of this, so two
#: outcomes' counts (80 and 79) cannot be subtracted to show one family.
ROUND_TO = 5


class Count(str):
    """A published count, already through the output rule, that tags itself wherever it is
    printed: ``data-count`` in HTML (a template's autoescaping calls ``__html__``) and
    ``#count("…")`` in the Typst source (``typst()``), so a scan of either rendering finds every
    count the report prints. As a string it is the shown text ("*", "80", "1.234")."""

    rounded: bool

    def __new__(cls, shown: str, *, rounded: bool = False) -> Count:
        obj = super().__new__(cls, shown)
        obj.rounded = rounded
        return obj

    @property
    def shown(self) -> str:
        return str.__str__(self)

    @property
    def hidden(self) -> bool:
        return self.shown == SUPPRESSED

    def __eq__(self, other: object) -> bool:
        if isinstance(other, int | np.integer) and not isinstance(other, bool):
            return self.shown.replace(".", "") == str(int(other))
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__

    def __html__(self) -> str:
        extra = ' data-rounded="5"' if self.rounded else ""
        return f'<span data-count="{self.shown}"{extra}>{self.shown}</span>'

    def typst(self) -> str:
        return f'#count("{self.shown}")'


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def count(n: int | str | None, *, rounded: bool = False) -> Count:
    """The one door for a count into a published report: 1-9 as "*", otherwise the count (with
    ``rounded``: to the nearest multiple of ``ROUND_TO``, for counts that sit beside other counts
    of the same families), Dutch thousands separator. An already suppressed "*" stays "*"."""
    if n is None:
        return Count("—")
    if n == SUPPRESSED:
        return Count(SUPPRESSED)
    value = _check_count(n)
    if 1 <= value <= MAX_SUPPRESSED:
        return Count(SUPPRESSED)
    if rounded and value:
        value = max(int(ROUND_TO * round(value / ROUND_TO)), MAX_SUPPRESSED + 1)
    return Count(_thousands(value), rounded=rounded)


def shown_cells(full: np.ndarray, mask: np.ndarray) -> list[list[Count]]:
    """A protected table (``protect``) as rows of tagged counts."""
    return [
        [Count(SUPPRESSED) if h else count(int(v)) for v, h in zip(row, hidden, strict=True)]
        for row, hidden in zip(full, mask, strict=True)
    ]
