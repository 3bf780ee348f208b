"""The statistician's checks of one aligned outcome: HonestDiD, balance, attrition (IPW, Lee).

Pure functions on the long panel (one row per family and calendar year with ``arm`` 1/0 and the
``intake`` year; event time ``e = year - intake``). Each returns a JSON-able dict; the entry point
that combines them is :func:`analysis.did.diagnostics.outcome_diagnostics`.

* :func:`honest_part`: the aligned event study (arm x years since intake, T-1 reference; CR2
  covariance, or CR1 on the log scale for Poisson PML) fed to
  :func:`analysis.did.honest_sensitivity.honest_sensitivity` under Delta^RM (C-LF) and Delta^SD
  (FLCI); "not computed" with the reason when there is no lead besides the reference.
* :func:`balance_part`: standardised mean differences between the arms at T-2, T-1, T0 and of
  the per-year T-2 -> T0 slope, ``(mean_1 - mean_0) / sqrt((var_1 + var_0) / 2)`` (Austin 2009;
  sample variances, ddof 1), marked at 0.1 and 0.25.
* :func:`ipw_part`: stay weights from a logit, per post-intake event time, of "the family is
  observed then" on arm and the pre-intake covariates (the outcome at T-1, at T0 for survey
  outcomes with ``t0="baseline"``), weight
  ``1 / p`` normalised to mean 1 per event time (pre-intake rows and T0 weight 1); the weighted
  aligned estimate beside the unweighted one; Lee (2009) bounds when retention differs by arm.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.did.aligned import aligned_design, aligned_did, fit_design
from analysis.did.aligned_panel import prepare_aligned
from analysis.did.aligned_ppml import drop_all_zero_units, fit_ppml_design, ppml_robust
from analysis.did.honest_sensitivity import describe_target, honest_sensitivity, target_vector
from analysis.did.inference import Robust
from analysis.did.panel import PanelError, json_safe

SMD_NOTABLE = 0.1
SMD_LARGE = 0.25
BALANCE_PERIODS = (-2, -1, 0)
TRIM = 0.01


def _event(df: pd.DataFrame, time: str, intake: str) -> pd.Series:
    return (pd.to_numeric(df[time]) - pd.to_numeric(df[intake])).round().astype(int)


# --------------------------------------------------------------------------------------------
# HonestDiD on the aligned event study


def event_study_coefficients(
    df: pd.DataFrame, *, cols: dict[str, Any], outcome: str, t0: str = "own", model: str = "linear"
) -> tuple[np.ndarray, np.ndarray, list[int], int]:
    """Arm x event-time coefficients, their covariance, event times and the reference.

    ``model="linear"``: OLS with CR2; ``"ppml"``: Poisson PML (log scale) with CR1.
    """
    panel = prepare_aligned(df, outcome=outcome, **cols)
    if model == "ppml":
        panel, _ = drop_all_zero_units(panel)
    design = aligned_design(panel, t0=t0, arm_terms="event")
    if model == "ppml":
        fit = fit_ppml_design(design)
        robust, kind = ppml_robust(fit), "cr1"
        beta = fit.beta
    else:
        lin = fit_design(design)
        robust, kind, beta = Robust(lin), "cr2", lin.beta
    k = len(design.arm_terms)
    times = [int(n.removeprefix("arm_e")) for n in design.arm_terms]
    return (
        np.asarray(beta[:k], dtype=float),
        robust.vcov(kind)[:k, :k],
        times,
        0 if t0 == "baseline" else -1,
    )


def honest_part(
    df: pd.DataFrame,
    *,
    cols: dict[str, Any],
    outcome: str,
    t0: str = "own",
    model: str = "linear",
    target: Any = "average",
    mbar: Sequence[float] = (0.5, 1.0, 1.5, 2.0),
    m_grid: Sequence[float] | None = None,
    alpha: float = 0.05,
    restrictions: Sequence[str] = ("rm", "sd"),
    sd_method: str = "FLCI",
) -> dict[str, Any]:
    """HonestDiD of the aligned event study (see the module docstring)."""
    try:
        beta, sigma, times, ref = event_study_coefficients(
            df, cols=cols, outcome=outcome, t0=t0, model=model
        )
    except PanelError as exc:
        return {"computed": False, "reason": f"the event study cannot be fitted: {exc}"}
    leads = [e for e in times if e < ref]
    post = [e for e in times if e > ref]
    if not leads:
        return {
            "computed": False,
            "reason": f"no pre-intake year besides the reference T{ref}: the size of pre-intake"
            " deviations, which the bounds scale, cannot be seen",
        }
    order = leads + post
    idx = [times.index(e) for e in order]
    beta, sigma = beta[idx], sigma[np.ix_(idx, idx)]
    try:
        l_vec = target_vector(post, target)
    except ValueError as exc:
        return {"computed": False, "reason": str(exc)}
    out: dict[str, Any] = {
        "computed": True,
        "scale": "log (Poisson PML coefficient)" if model == "ppml" else "outcome units",
        "target": describe_target(post, l_vec),
        "target_weights": {f"T{e}": float(w) for e, w in zip(post, l_vec, strict=True)},
        "reference": f"T{ref}",
        "leads": [f"T{e}" for e in leads],
        "covariance": "CR1" if model == "ppml" else "CR2",
    }
    for r in restrictions:
        grid = list(mbar) if r == "rm" else (None if m_grid is None else list(m_grid))
        out[r] = honest_sensitivity(
            beta,
            sigma,
            n_pre=len(leads),
            l_vec=l_vec,
            restriction=r,
            grid=grid,
            alpha=alpha,
            sd_method=sd_method,
        )
    return json_safe(out)


# --------------------------------------------------------------------------------------------
# Baseline balance


def smd(treated: np.ndarray, control: np.ndarray) -> float:
    """``(mean_1 - mean_0) / sqrt((var_1 + var_0) / 2)``, sample variances; NaN if undefined."""
    t, c = treated[~np.isnan(treated)], control[~np.isnan(control)]
    if t.size < 2 or c.size < 2:
        return math.nan
    scale = math.sqrt((t.var(ddof=1) + c.var(ddof=1)) / 2)
    if scale == 0:
        return 0.0 if t.mean() == c.mean() else math.inf
    return float((t.mean() - c.mean()) / scale)


def mark(value: float) -> str:
    """'large' from 0.25, 'notable' from 0.1 (absolute SMD), '' below."""
    if math.isnan(value):
        return ""
    size = abs(value)
    return "large" if size >= SMD_LARGE else "notable" if size >= SMD_NOTABLE else ""


def _balance_row(variable: str, period: str, values: pd.Series, arms: pd.Series) -> dict:
    t = values[arms == 1].to_numpy(dtype=float)
    c = values[arms == 0].to_numpy(dtype=float)
    value = smd(t, c)
    return {
        "variable": variable,
        "period": period,
        "mean_intervention": float(np.nanmean(t)) if np.isfinite(t).any() else None,
        "mean_comparison": float(np.nanmean(c)) if np.isfinite(c).any() else None,
        "n_intervention": int(np.isfinite(t).sum()),
        "n_comparison": int(np.isfinite(c).sum()),
        "smd": value,
        "mark": mark(value),
    }


def balance_part(
    df: pd.DataFrame, *, cols: dict[str, Any], variables: Sequence[str]
) -> list[dict[str, Any]]:
    """One row per variable and period (T-2, T-1, T0, slope T-2 -> T0 per year) with the SMD.

    A family counts in a period when it has a value there; the slope needs both T-2 and T0.
    """
    unit, arm = cols["unit"], cols["arm"]
    e = _event(df, cols["time"], cols["intake"])
    arms = df.groupby(unit)[arm].first()
    rows = []
    for v in variables:
        if v not in df.columns:
            raise PanelError(f"balance variable '{v}' is not a column of the panel")
        wide = (
            pd.DataFrame({"u": df[unit], "e": e, "y": pd.to_numeric(df[v], errors="coerce")})
            .pivot_table(index="u", columns="e", values="y", aggfunc="first")
            .reindex(arms.index)
        )
        for p in BALANCE_PERIODS:
            if p in wide.columns:
                rows.append(_balance_row(v, f"T{p}", wide[p], arms))
        if -2 in wide.columns and 0 in wide.columns:
            rows.append(_balance_row(v, "slope T-2 to T0", (wide[0] - wide[-2]) / 2, arms))
    return json_safe(rows)


# --------------------------------------------------------------------------------------------
# Attrition: stay weights, the weighted estimate, Lee bounds


def _family_predictors(
    df: pd.DataFrame, cols: dict[str, Any], outcome: str, covariates: Sequence[str], at_e: int
) -> pd.DataFrame:
    """Arm and the pre-intake covariates (values at ``at_e``) per family; those without left out."""
    unit = cols["unit"]
    e = _event(df, cols["time"], cols["intake"])
    names = list(dict.fromkeys([outcome, *covariates]))
    at = df.loc[e == at_e, [unit, *names]].drop_duplicates(unit).set_index(unit)
    arms = df.groupby(unit)[cols["arm"]].first()
    out = pd.concat([arms.rename("arm"), at.apply(pd.to_numeric, errors="coerce")], axis=1)
    return out.dropna()


def aligned_stay_weights(
    df: pd.DataFrame,
    *,
    cols: dict[str, Any],
    outcome: str,
    covariates: Sequence[str] = (),
    trim: float = TRIM,
    at_e: int = -1,
) -> tuple[pd.Series, dict[str, Any]]:
    """Stay weights per row (see the module docstring) and the logit's bookkeeping.

    A family is "observed" at a post event time when it has a row with a value of ``outcome``
    there; its probability comes from a logit over all families with pre-intake predictors.
    """
    import statsmodels.api as sm

    unit = cols["unit"]
    e = _event(df, cols["time"], cols["intake"])
    X = _family_predictors(df, cols, outcome, covariates, at_e)
    if X.empty:
        raise PanelError(f"no family has the stay predictors at T{at_e}")
    design = sm.add_constant(X.to_numpy(dtype=float), has_constant="add")
    seen = df[df[outcome].notna()]
    seen_e = e[df[outcome].notna()]
    weights = pd.Series(np.where(e <= 0, 1.0, np.nan), index=df.index, name="stay_weight")
    fitted: dict[str, Any] = {}
    for k in sorted(int(x) for x in np.unique(e[e >= 1])):
        stayed = X.index.isin(seen.loc[seen_e == k, unit]).astype(float)
        if stayed.all() or not stayed.any():
            prob = np.full(len(X), stayed.mean())
            how = "constant (no variation)"
        else:
            try:
                res = sm.GLM(stayed, design, family=sm.families.Binomial()).fit()
                prob, how = np.asarray(res.predict(design)), "logit"
            except Exception:  # perfect separation: fall back to the arm shares
                prob = X["arm"].map(pd.Series(stayed, index=X.index).groupby(X["arm"]).mean())
                prob, how = prob.to_numpy(dtype=float), "arm shares (logit separated)"
        p = pd.Series(np.clip(prob, trim, 1.0), index=X.index)
        rows = (e == k) & df[unit].isin(X.index) & df[outcome].notna()
        raw = 1.0 / df.loc[rows, unit].map(p)
        weights[rows] = raw / raw.mean()
        fitted[f"T{k}"] = {"retention": float(stayed.mean()), "model": how}
    info: dict[str, Any] = {
        "predictors": ["arm", *dict.fromkeys([f"{outcome} at T-1", *covariates])]
    }
    info["by_event_time"] = fitted
    info["families_without_predictors"] = int(df[unit].nunique() - len(X))
    return weights, info


def retention_by_arm(
    df: pd.DataFrame, *, cols: dict[str, Any], outcome: str, last: int | None = None
) -> dict[str, float]:
    """Share of each arm's families observed at the last post-intake event time (``last``)."""
    unit = cols["unit"]
    e = _event(df, cols["time"], cols["intake"])
    last = int(e.max()) if last is None else last
    arms = df.groupby(unit)[cols["arm"]].first()
    stayed = set(df.loc[(e == last) & df[outcome].notna(), unit])
    out = {}
    for a, label in ((1, "intervention"), (0, "comparison")):
        members = arms.index[arms == a]
        out[label] = float(np.mean([m in stayed for m in members])) if len(members) else math.nan
    return out


def lee_bounds(change: np.ndarray, arm: np.ndarray, retention: dict[str, float]) -> dict:
    """Lee (2009) bounds on the difference in mean change (intervention minus comparison).

    ``change``: each stayer's post-intake mean minus pre-intake mean; ``arm`` 1/0. The arm
    with the higher retention ``q_hi`` loses the share ``p = (q_hi - q_lo) / q_hi`` of its
    stayers, from the top (lower bound of its mean) or the bottom (upper bound).
    """
    q1, q0 = retention["intervention"], retention["comparison"]
    hi_arm = 1 if q1 >= q0 else 0
    p = (max(q1, q0) - min(q1, q0)) / max(q1, q0)
    keep = change[arm == hi_arm]
    other = change[arm != hi_arm].mean()
    s = np.sort(keep)
    k = int(round(p * s.size))
    low_mean = s[: s.size - k].mean()  # top trimmed
    high_mean = s[k:].mean()  # bottom trimmed
    if hi_arm == 1:
        lo, hi = low_mean - other, high_mean - other
    else:
        lo, hi = other - high_mean, other - low_mean
    return {
        "lower": float(lo),
        "upper": float(hi),
        "trimmed_arm": "intervention" if hi_arm == 1 else "comparison",
        "trim_share": float(p),
        "n_trimmed": k,
        "n_stayers": int(change.size),
    }


def family_changes(
    df: pd.DataFrame, *, cols: dict[str, Any], outcome: str, last: int, last_pre: int = -1
) -> pd.DataFrame:
    """Per family observed at ``last``: arm and mean(T1 ... last) minus the pre-intake mean.

    Pre-intake: event times up to ``last_pre`` (T-1; T0 for survey outcomes).
    """
    unit = cols["unit"]
    e = _event(df, cols["time"], cols["intake"])
    y = pd.to_numeric(df[outcome], errors="coerce")
    d = pd.DataFrame({"u": df[unit], "e": e, "y": y, "arm": df[cols["arm"]]}).dropna()
    stayers = set(d.loc[d.e == last, "u"])
    d = d[d.u.isin(stayers)]
    pre = d[d.e <= last_pre].groupby("u").y.mean()
    post = d[(d.e >= 1) & (d.e <= last)].groupby("u").y.mean()
    arm = d.groupby("u").arm.first()
    out = pd.DataFrame({"change": post - pre, "arm": arm}).dropna()
    return out


def ipw_part(
    df: pd.DataFrame,
    *,
    cols: dict[str, Any],
    outcome: str,
    t0: str = "own",
    covariates: Sequence[str] = (),
    scale: float = 1.0,
    level: float = 0.95,
) -> dict[str, Any]:
    """Weighted (stay-weight) and unweighted aligned estimates, retention and Lee bounds."""
    last_pre = 0 if t0 == "baseline" else -1
    try:
        w, info = aligned_stay_weights(
            df, cols=cols, outcome=outcome, covariates=covariates, at_e=last_pre
        )
    except PanelError as exc:
        return {"computed": False, "reason": str(exc)}
    data = df.assign(_stay_weight=w)
    kw: dict[str, Any] = {"outcome": outcome, "t0": t0, "robustness": ("cr2",), "level": level}
    weighted = aligned_did(data, **cols, weights="_stay_weight", **kw)
    plain = aligned_did(df, **cols, **kw)
    e = _event(df, cols["time"], cols["intake"])
    last = int(e[df[outcome].notna()].max())
    retention = retention_by_arm(df, cols=cols, outcome=outcome, last=last)
    out: dict[str, Any] = {
        "effect": weighted.att * scale,
        "se": weighted.se * scale,
        "ci_low": weighted.ci_low * scale,
        "ci_high": weighted.ci_high * scale,
        "p_value": weighted.p_value,
        "unweighted": {
            "effect": plain.att * scale,
            "ci_low": plain.ci_low * scale,
            "ci_high": plain.ci_high * scale,
            "p_value": plain.p_value,
        },
        "n_families": weighted.n_units,
        "weights": info,
        "retention": retention,
        "inference": "cr2",
    }
    if abs(retention["intervention"] - retention["comparison"]) > 1e-12:
        ch = family_changes(df, cols=cols, outcome=outcome, last=last, last_pre=last_pre)
        bounds = lee_bounds(ch["change"].to_numpy(float), ch["arm"].to_numpy(float), retention)
        out["lee"] = {
            **bounds,
            "lower": bounds["lower"] * scale,
            "upper": bounds["upper"] * scale,
            "estimand": f"difference in the change from before intake (up to T{last_pre}) to"
            f" T1..T{last}, families observed at T{last}",
        }
    else:
        out["lee"] = {"computed": False, "reason": "retention is the same in both arms"}
    return json_safe(out)
