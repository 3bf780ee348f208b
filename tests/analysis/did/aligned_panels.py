"""Small crisis-entry panels and explicit-dummy designs shared by the aligned-design tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.did.design_sim import CrisisDesign, simulate_study

COLS = {"unit": "family", "time": "year", "arm": "arm", "intake": "intake"}


def crisis_panel(
    n: int = 14, seed: int = 0, effect: str = "constant", drop_share: float = 0.0, **kw
) -> pd.DataFrame:
    """A simulated study of ``n`` + ``n`` families; ``drop_share`` of the rows removed at random."""
    design = CrisisDesign(n_intervention=n, n_comparison=n, effect=effect, batch=600, **kw)
    df = simulate_study(design, np.random.default_rng(seed)).frame()
    if drop_share:
        df = df.sample(frac=1 - drop_share, random_state=seed).sort_values(["family", "year"])
    return df.reset_index(drop=True)


def dummies(values: pd.Series, prefix: str, drop_first: bool = False) -> pd.DataFrame:
    out = pd.get_dummies(values, prefix=prefix, dtype=float)
    return out.iloc[:, 1:] if drop_first else out


def explicit_design(
    df: pd.DataFrame,
    outcome: str,
    *,
    t0: str = "own",
    drop: tuple[int, ...] = (-1, -2),
    with_fe: bool = True,
) -> tuple[pd.Series, pd.DataFrame, np.ndarray]:
    """``y``, the all-dummies design (arm terms first) and the family codes of the rows used.

    Arm x post (and arm x T0 for ``t0="own"``), years-since-intake dummies except ``drop``,
    and (``with_fe``) every family dummy and the year dummies but the first.
    """
    d = df[df[outcome].notna()].copy()
    e = d["year"] - d["intake"]
    if t0 == "drop":
        d, e = d[e != 0], e[e != 0]
    cols = {"arm_post": d["arm"] * (e >= 1)}
    if t0 == "own":
        cols["arm_t0"] = d["arm"] * (e == 0)
    X = pd.DataFrame(cols, index=d.index).astype(float)
    ev = dummies(e.astype(int), "e")
    ev = ev[[c for c in ev.columns if int(c.removeprefix("e_")) not in drop]]
    parts = [X, ev]
    if with_fe:
        parts += [dummies(d["family"], "f"), dummies(d["year"], "y", drop_first=True)]
    unit = pd.factorize(d["family"], sort=True)[0]
    return d[outcome].astype(float), pd.concat(parts, axis=1), unit
