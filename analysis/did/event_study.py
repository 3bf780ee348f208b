"""Event study: leads and lags relative to intake in a two-way fixed-effects regression.

``y ~ sum_{e != ref} 1[treated unit at event time e] + unit FE + period FE``, clustered by unit,
with the end points binned (all event times below ``min_e`` pooled into ``min_e``, above
``max_e`` into ``max_e``). Never-treated units are the comparison. Next to the joint test of
the leads (HTZ with CR2, or a Wald F test for CR1/CV3) it reports HonestDiD relative-magnitude
bounds (see :mod:`analysis.did.honest`): a passed pre-test is weak evidence of parallel trends
(Roth 2022) and must never be presented as proof.

With several intake cohorts whose effects differ, the coefficients of this regression mix
cohorts and can pick up effects from other event times (Sun & Abraham 2021); use the dynamic
aggregation of :func:`analysis.did.cs.callaway_santanna` there and this as the simple view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.did.inference import LOW_DF, VARIANCE_METHODS, InferenceError, Robust, fit_linear
from analysis.did.panel import PanelError, json_safe, prepare

EVENT_INFERENCES = VARIANCE_METHODS


@dataclass(frozen=True)
class EventStudyResult:
    """Event-time coefficients, the pre-trend test and the HonestDiD sensitivity bounds."""

    event: list[dict[str, Any]]
    ref: int
    pretrend_F: float | None
    pretrend_df: tuple[float, float] | None
    pretrend_p: float | None
    honest: list[dict[str, Any]]
    breakdown_mbar: float | None
    honest_target: str
    inference: str
    n_units: int
    n_obs: int
    n_treated_units: int
    n_clusters: int
    outcome: str = ""
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (NaN becomes None)."""
        return json_safe(asdict(self))


def _event_times(data: pd.DataFrame, time: str, cohort: str) -> pd.Series:
    g = data[cohort]
    rel = (data[time] - g).where(g > 0)
    if not np.allclose(rel.dropna(), np.round(rel.dropna())):
        raise PanelError(
            f"event times need whole periods: column '{time}' minus cohort '{cohort}' is not integer"
        )
    return rel.round()


def event_study(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    ref: int = -1,
    min_e: int | None = None,
    max_e: int | None = None,
    inference: str = "cr2",
    covariates: Sequence[str] = (),
    weights: str | None = None,
    honest: bool = True,
    mbar: Sequence[float] = (0.5, 1.0, 1.5, 2.0),
    level: float = 0.95,
) -> EventStudyResult:
    """Leads and lags around intake with clustered inference, pre-trend test and HonestDiD."""
    if inference not in EVENT_INFERENCES:
        raise InferenceError(f"event study inference must be one of {', '.join(EVENT_INFERENCES)}")
    prep = prepare(
        df,
        unit=unit,
        time=time,
        cohort=cohort,
        outcome=outcome,
        covariates=covariates,
        weights=weights,
    )
    data = prep.data
    rel = _event_times(data, time, cohort)
    lo = int(rel.min()) if min_e is None else int(min_e)
    hi = int(rel.max()) if max_e is None else int(max_e)
    if not lo <= ref <= hi or lo >= hi:
        raise PanelError(f"the reference event time {ref} must lie within [{lo}, {hi}]")
    binned = rel.clip(lower=lo, upper=hi)
    times = [e for e in range(lo, hi + 1) if e != ref and (binned == e).any()]
    if not times:
        raise PanelError("no event times besides the reference period are observed")
    X = np.column_stack([(binned == e).to_numpy(dtype=float) for e in times])
    cov = data[list(covariates)].to_numpy(dtype=float)
    fit = fit_linear(
        prep.y,
        np.column_stack([X, cov]),
        unit=prep.unit_codes,
        time=prep.time_codes,
        cluster=prep.unit_codes,
        weights=prep.weights,
        names=[f"e{e}" for e in times] + list(covariates),
    )
    robust = Robust(fit)
    warnings = list(prep.notes)
    events: list[dict[str, Any]] = []
    unit_ids = data[unit].to_numpy()
    for j, e in enumerate(times):
        r = robust.coef(j, inference, level)
        events.append(
            {
                "e": e,
                "att": r.estimate,
                "se": r.se,
                "df": r.df,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
                "p_value": r.p_value,
                "n_treated": int(pd.unique(unit_ids[(binned == e).to_numpy()]).size),
                "binned": (e == lo and min_e is not None) or (e == hi and max_e is not None),
            }
        )
    events.insert(
        sum(e < ref for e in times),
        {
            "e": ref,
            "att": 0.0,
            "se": 0.0,
            "df": None,
            "ci_low": 0.0,
            "ci_high": 0.0,
            "p_value": None,
            "n_treated": int(pd.unique(unit_ids[(binned == ref).to_numpy()]).size),
            "binned": False,
            "reference": True,
        },
    )
    low_df = [ev["e"] for ev in events if ev["df"] is not None and ev["df"] < LOW_DF]
    if inference == "cr2" and low_df:
        warnings.append(
            "few effective degrees of freedom (Satterthwaite df < 10) at event time(s) "
            + ", ".join(str(e) for e in low_df)
        )
    leads = [j for j, e in enumerate(times) if e < 0]
    F = df_pair = p = None
    if leads:
        C = np.zeros((len(leads), fit.k))
        C[np.arange(len(leads)), leads] = 1.0
        test = robust.htz_test(C) if inference == "cr2" else robust.wald_test(C, inference)
        F, df_pair, p = test.F, (float(test.df_num), test.df_den), test.p_value
    honest_rows: list[dict[str, Any]] = []
    breakdown: float | None = None
    target = ""
    post = [j for j, e in enumerate(times) if e >= 0]
    if honest and leads and post and ref == -1:
        from analysis.did.honest import relative_magnitude_bounds

        idx = leads + post
        V = robust.vcov(inference)[np.ix_(idx, idx)]
        hb = relative_magnitude_bounds(
            fit.beta[idx], V, n_pre=len(leads), n_post=len(post), mbar=mbar, alpha=1 - level
        )
        honest_rows, breakdown, target = hb.bounds, hb.breakdown_mbar, hb.target
        warnings += hb.warnings
    elif honest:
        warnings.append("HonestDiD bounds need leads, lags and reference period -1; not computed")
    return EventStudyResult(
        event=events,
        ref=ref,
        pretrend_F=F,
        pretrend_df=df_pair,
        pretrend_p=p,
        honest=honest_rows,
        breakdown_mbar=breakdown,
        honest_target=target,
        inference=inference,
        n_units=int(prep.cohort_by_unit.size),
        n_obs=int(prep.y.size),
        n_treated_units=int((prep.cohort_by_unit > 0).sum()),
        n_clusters=fit.n_clusters,
        outcome=outcome,
        warnings=warnings,
    )
