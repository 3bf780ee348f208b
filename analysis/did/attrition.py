"""Attrition by arm and wave, and inverse-probability-of-staying weights for unbalanced panels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.did.panel import PanelError


def attrition_table(
    df: pd.DataFrame, unit: str, time: str, arm: str, *, observed: str | None = None
) -> pd.DataFrame:
    """Units enrolled, observed and retained per arm and wave.

    A unit is enrolled in its arm from its first row. It counts as observed in a wave when it has
    a row there (and, if ``observed`` names an outcome column, a non-empty value). Columns:
    arm, wave, enrolled, observed, retention (observed / enrolled), lost (enrolled - observed).
    """
    missing = [c for c in (unit, time, arm, observed) if c and c not in df.columns]
    if missing:
        raise PanelError(f"column(s) not found in the panel: {', '.join(missing)}")
    arms = df.groupby(unit, sort=False)[arm].first()
    waves = np.sort(df[time].dropna().unique())
    seen = df if observed is None else df[df[observed].notna()]
    rows = []
    for a in sorted(arms.unique(), key=str):
        members = arms.index[arms == a]
        enrolled = len(members)
        in_arm = seen[seen[unit].isin(members)]
        per_wave = in_arm.groupby(time)[unit].nunique()
        for w in waves:
            n = int(per_wave.get(w, 0))
            rows.append(
                {
                    "arm": a,
                    "wave": w,
                    "enrolled": enrolled,
                    "observed": n,
                    "retention": n / enrolled if enrolled else float("nan"),
                    "lost": enrolled - n,
                }
            )
    return pd.DataFrame(rows)


def stay_weights(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    predictors: Sequence[str],
    observed: str | None = None,
    baseline: float | None = None,
    trim: float = 0.01,
) -> pd.Series:
    """Inverse-probability-of-staying weights, one per row of ``df`` (baseline rows get 1).

    For each later wave a logit of "observed in this wave" on baseline ``predictors`` (e.g.
    arm, baseline outcome, family size) is fitted over all units present at baseline; an
    observed row gets weight 1 / P(observed | baseline). Probabilities are clipped to
    ``[trim, 1]`` and weights normalised to mean 1 per wave. Valid under missingness at random
    given the predictors; report the unweighted estimate next to the weighted one.
    """
    import statsmodels.api as sm  # local: keeps `import analysis.did` light

    needed = [unit, time, *predictors] + ([observed] if observed else [])
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise PanelError(f"column(s) not found in the panel: {', '.join(missing)}")
    t0 = df[time].min() if baseline is None else baseline
    base = df[df[time] == t0].drop_duplicates(unit).set_index(unit)
    Xb = base[list(predictors)].apply(pd.to_numeric, errors="coerce")
    if Xb.isna().any().any():
        bad = Xb.isna().any(axis=1)
        raise PanelError(
            f"baseline predictors must be numeric and filled; unit {bad.index[bad][0]!r} is not"
        )
    X = sm.add_constant(Xb.to_numpy(dtype=float), has_constant="add")
    present = df if observed is None else df[df[observed].notna()]
    weights = pd.Series(np.nan, index=df.index, name="stay_weight")
    weights[df[time] == t0] = 1.0
    for w in np.sort(df[time].unique()):
        if w == t0:
            continue
        stayed = base.index.isin(present.loc[present[time] == w, unit])
        if stayed.all() or not stayed.any():
            prob = np.full(len(base), stayed.mean())
        else:
            model = sm.GLM(stayed.astype(float), X, family=sm.families.Binomial())
            prob = model.fit().predict(X)
        prob = pd.Series(np.clip(prob, trim, 1.0), index=base.index)
        rows = (df[time] == w) & df[unit].isin(base.index)
        raw = 1.0 / df.loc[rows, unit].map(prob)
        weights[rows] = raw / raw.mean()
    return weights
