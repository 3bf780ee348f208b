"""Minimum detectable effect and power for a DiD with families per arm and several waves.

Analytic: with a single intake, ``n_pre`` waves before and ``n_post`` after, and outcomes with
intra-family correlation ``icc`` across waves (compound symmetry: a family effect plus
independent noise), the TWFE/DiD estimator has variance

    Var = sd^2 (1 - icc) (1/n_pre + 1/n_post) (1/n_treated + 1/n_control)

(the family effect cancels; cf. Burlig, Preonas & Woerman 2020 with constant correlation), so
``MDE = (t_{1-alpha/2} + t_{power}) * sqrt(Var)`` with ``n_treated + n_control - 2`` df.
For a proportion p use ``sd = sqrt(p (1 - p))``.

By simulation: panels are drawn from the same model and analysed with the report's estimator
(TWFE with CR2 and Satterthwaite df); power is the rejection rate and the MDE is interpolated
where power crosses the target. The CR2 fits of all replications share one design, so they are
computed together.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from analysis.did.inference import Robust, fit_linear
from analysis.did.panel import json_safe


@dataclass(frozen=True)
class MdeResult:
    """The minimum detectable effect (outcome units and in SDs) with its design."""

    mde: float
    mde_sd: float
    se: float
    df: float
    alpha: float
    power: float
    method: str
    design: dict[str, Any]
    power_curve: list[dict[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (NaN becomes None)."""
        return json_safe(asdict(self))


def _check_design(
    n_treated: int, n_control: int, n_pre: int, n_post: int, icc: float, sd: float
) -> None:
    if n_treated < 2 or n_control < 2:
        raise ValueError("need at least 2 families per arm")
    if n_pre < 1 or n_post < 1:
        raise ValueError("need at least one wave before and one after intake")
    if not 0 <= icc < 1:
        raise ValueError("the intra-family correlation must lie in [0, 1)")
    if not sd > 0:
        raise ValueError("the standard deviation must be positive")


def did_se(n_treated: int, n_control: int, n_pre: int, n_post: int, icc: float, sd: float) -> float:
    """Standard error of the DiD estimate under compound symmetry (see module docstring)."""
    return sd * math.sqrt((1 - icc) * (1 / n_pre + 1 / n_post) * (1 / n_treated + 1 / n_control))


def mde_analytic(
    n_treated: int,
    n_control: int,
    n_pre: int,
    n_post: int,
    icc: float,
    sd: float,
    alpha: float = 0.05,
    power: float = 0.8,
) -> MdeResult:
    """Analytic MDE of the DiD for this design (two-sided test at ``alpha``)."""
    _check_design(n_treated, n_control, n_pre, n_post, icc, sd)
    se = did_se(n_treated, n_control, n_pre, n_post, icc, sd)
    df = n_treated + n_control - 2
    mult = stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)
    mde = float(mult * se)
    return MdeResult(
        mde=mde,
        mde_sd=mde / sd,
        se=se,
        df=float(df),
        alpha=alpha,
        power=power,
        method="analytic",
        design={
            "n_treated": n_treated,
            "n_control": n_control,
            "n_pre": n_pre,
            "n_post": n_post,
            "icc": icc,
            "sd": sd,
        },
    )


def _design(n_treated: int, n_control: int, n_pre: int, n_post: int):
    n_units, n_t = n_treated + n_control, n_pre + n_post
    unit = np.repeat(np.arange(n_units), n_t)
    time = np.tile(np.arange(n_t), n_units)
    d = ((unit < n_treated) & (time >= n_pre)).astype(float)
    return unit, time, d


def cr2_rejections(fit_template, Y: np.ndarray, alpha: float) -> np.ndarray:
    """Reject H0: b = 0 with CR2 + Satterthwaite for each column of ``Y`` (same design)."""
    robust = Robust(fit_template)
    f, b = fit_template, robust.blocks
    Yt = f.fe.resid(Y)
    beta = (f.bread @ (f.X.T @ Yt))[0]
    E = Yt - f.X @ (f.bread @ (f.X.T @ Yt))
    Ep = b.pad(E)  # (G, m, R)
    Ae = np.einsum("gij,gjr->gir", robust.A2, Ep)
    q = b.pad(f.X @ f.bread[:, 0])  # (G, m)
    scores = np.einsum("gi,gir->gr", q, Ae)
    se = np.sqrt(np.sum(scores**2, axis=0))
    c = np.zeros(f.k)
    c[0] = 1.0
    dfree = robust.satterthwaite_df(c)
    return np.abs(beta / se) > stats.t.ppf(1 - alpha / 2, dfree)


def power_simulated(
    effect: float,
    n_treated: int,
    n_control: int,
    n_pre: int,
    n_post: int,
    icc: float,
    sd: float,
    *,
    alpha: float = 0.05,
    reps: int = 500,
    seed: int | None = None,
) -> float:
    """Share of simulated panels in which TWFE with CR2 rejects no effect."""
    _check_design(n_treated, n_control, n_pre, n_post, icc, sd)
    unit, time, d = _design(n_treated, n_control, n_pre, n_post)
    template = fit_linear(np.zeros(d.size), d[:, None], unit=unit, time=time, cluster=unit)
    rng = np.random.default_rng(seed)
    n_units = n_treated + n_control
    fam = rng.normal(0, sd * math.sqrt(icc), size=(n_units, reps))[unit]
    noise = rng.normal(0, sd * math.sqrt(1 - icc), size=(d.size, reps))
    Y = fam + noise + effect * d[:, None]
    return float(np.mean(cr2_rejections(template, Y, alpha)))


def mde_simulated(
    n_treated: int,
    n_control: int,
    n_pre: int,
    n_post: int,
    icc: float,
    sd: float,
    alpha: float = 0.05,
    power: float = 0.8,
    *,
    reps: int = 500,
    effects: Sequence[float] | None = None,
    seed: int | None = None,
) -> MdeResult:
    """MDE by simulation with the report's estimator (TWFE, CR2, Satterthwaite df).

    Power is estimated on a grid of effects (default: 0.5-1.6 times the analytic MDE) with
    common random numbers, and the MDE is linearly interpolated where it crosses ``power``.
    """
    base = mde_analytic(n_treated, n_control, n_pre, n_post, icc, sd, alpha, power)
    grid = (
        list(effects)
        if effects is not None
        else [base.mde * f for f in (0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.6)]
    )
    curve = [
        {
            "effect": float(e),
            "power": power_simulated(
                e, n_treated, n_control, n_pre, n_post, icc, sd, alpha=alpha, reps=reps, seed=seed
            ),
        }
        for e in grid
    ]
    mde = float("nan")
    for lo, hi in zip(curve, curve[1:], strict=False):
        if lo["power"] < power <= hi["power"]:
            w = (power - lo["power"]) / (hi["power"] - lo["power"])
            mde = lo["effect"] + w * (hi["effect"] - lo["effect"])
            break
    return MdeResult(
        mde=mde,
        mde_sd=mde / sd,
        se=base.se,
        df=base.df,
        alpha=alpha,
        power=power,
        method=f"simulation ({reps} panels per effect, TWFE with CR2)",
        design=base.design,
        power_curve=curve,
    )
