"""Small simulated panels shared by the linear DiD tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_panel(
    n_treated: int = 20,
    n_control: int = 20,
    periods: int = 6,
    cohorts: tuple[int, ...] = (4,),
    effect: float = 1.0,
    trend_gap: float = 0.0,
    seed: int = 0,
    noise: float = 1.0,
) -> pd.DataFrame:
    """Families with a family effect, a common trend, an effect from intake on, and noise.

    ``trend_gap`` adds a linear trend to treated families only (a parallel-trends violation).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_treated + n_control):
        g = cohorts[i % len(cohorts)] if i < n_treated else 0
        a = rng.normal()
        for t in range(1, periods + 1):
            d = 1.0 if g and t >= g else 0.0
            y = a + 0.2 * t + effect * d + (trend_gap * t if g else 0.0) + noise * rng.normal()
            rows.append({"family": f"f{i:03d}", "wave": t, "intake": g, "y": y, "x": rng.normal()})
    return pd.DataFrame(rows)
