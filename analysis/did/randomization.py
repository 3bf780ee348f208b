"""Randomisation inference for the TWFE effect: permute whole units' cohorts and refit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.did.linear import FixedEffects
from analysis.did.panel import prepare


@dataclass(frozen=True)
class RiResult:
    """Randomisation-inference p-value of the TWFE effect under permuted cohort labels."""

    statistic: float
    p_value: float
    draws: int
    seed: int | None


def randomization_inference(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    covariates: Sequence[str] = (),
    weights: str | None = None,
    draws: int = 999,
    seed: int | None = None,
    chunk: int = 256,
) -> RiResult:
    """Permute cohort labels (arm and intake period) across units and refit the TWFE effect.

    Each permutation reassigns whole units' cohorts, so the number of units per cohort (and
    treated versus comparison) is kept. The two-sided p-value is
    ``(1 + #{|b*| >= |b|}) / (1 + draws)`` (Fisher's sharp null of no effect for any family).
    All permuted treatment columns are residualised on the fixed effects and covariates at
    once, so a permutation costs a few vector operations.
    """
    prep = prepare(
        df,
        unit=unit,
        time=time,
        cohort=cohort,
        outcome=outcome,
        covariates=covariates,
        weights=weights,
    )
    n = prep.y.size
    s = np.ones(n) if prep.weights is None else np.sqrt(prep.weights)
    fe = FixedEffects(prep.unit_codes, prep.time_codes, s)
    t = prep.data[time].to_numpy(dtype=float)
    y = fe.resid(s * prep.y)
    C = fe.resid(s[:, None] * prep.data[list(covariates)].to_numpy(dtype=float))
    if C.shape[1]:
        cq, _ = np.linalg.qr(C)
        y = y - cq @ (cq.T @ y)

    def betas(cohort_of_unit: np.ndarray) -> np.ndarray:
        g = cohort_of_unit[prep.unit_codes]  # (n, B)
        D = ((g > 0) & (t[:, None] >= g)).astype(float)
        Dr = fe.resid(s[:, None] * D)
        if C.shape[1]:
            Dr = Dr - cq @ (cq.T @ Dr)
        den = np.einsum("ib,ib->b", Dr, Dr)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 1e-12, (Dr.T @ y) / den, 0.0)

    g_unit = prep.cohort_by_unit
    observed = float(betas(g_unit[:, None])[0])
    rng = np.random.default_rng(seed)
    hits = 0
    done = 0
    while done < draws:
        b = min(chunk, draws - done)
        perms = np.stack([rng.permutation(g_unit) for _ in range(b)], axis=1)
        hits += int(np.sum(np.abs(betas(perms)) >= abs(observed) - 1e-12 * max(1.0, abs(observed))))
        done += b
    return RiResult(statistic=observed, p_value=(1 + hits) / (1 + draws), draws=draws, seed=seed)
