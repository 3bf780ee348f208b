"""Intake-aligned DiD: both arms compared on their own intake (years since intake), arm x post.

Families enter the study at a crisis, so their problems peak around intake and fall afterwards
by themselves, in both arms (regression to the mean). The comparison families' intake dates
identify that recovery path; this design uses them:

    y_it = a_i + l_t + sum_e m_e 1[e_it = e] + b_post arm_i 1[e_it >= 1] (+ b_T0 arm_i 1[e_it = 0])

with family effects ``a_i``, calendar-year effects ``l_t``, effects ``m_e`` of the years since
intake ``e = year - intake year`` common to both arms, and the arm contrast after intake. The
untreated pre-intake years (T-2, T-1) are the reference, so ``b_post`` is "how much more did the
intervention families change from before intake to after it than the comparison families did at
the same years since intake". The registry year T0 contains the intake and is partly treated
(``t0``): ``"own"`` gives it its own coefficient ``b_T0`` (reported, in neither the post average
nor the pre-test), ``"drop"`` leaves T0 rows out, ``"baseline"`` treats T0 as untreated (survey
outcomes, measured at the intake visit before the approach starts; then T0 is the reference).

Years since intake are collinear with family and year effects up to a linear trend
(``e = t - intake``): with several intake years two event-time dummies are redundant, with one
intake year all of them (they equal the year dummies). They are found by an exact rank check
against the family and year effects and dropped in a fixed order (the pre-intake years nearest
intake first: T-1, then T-2, ...), and listed in the result; the arm effects do not depend on
which are dropped (the column space is the same). The fit is :func:`analysis.did.inference.fit_linear`
with the event-time dummies and arm terms in ``X`` and family and year effects absorbed, so the
validated CR2/Satterthwaite inference applies unchanged; CR1 (fixest convention), CV3 and the
restricted wild cluster bootstrap are computed beside it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from analysis.did.aligned_panel import AlignedPanel, prepare_aligned
from analysis.did.inference import (
    FixedEffects,
    InferenceError,
    LinearFit,
    Robust,
    fit_linear,
    wild_cluster_bootstrap,
)
from analysis.did.panel import PanelError, show
from analysis.did.twfe import json_safe

T0Mode = Literal["own", "drop", "baseline"]
T0_MODES = ("own", "drop", "baseline")
ALIGNED_INFERENCES = ("cr2", "cr1", "cv3", "wild")
DEFAULT_ROBUSTNESS = ("cr2", "cr1", "cv3", "wild")
LOW_DF = 10.0
RANK_TOL = 1e-8

# --------------------------------------------------------------------------------------------
# The design: arm terms plus the identified event-time dummies


@dataclass(frozen=True)
class AlignedDesign:
    """Regressors of the aligned model on ``panel`` (the rows it keeps)."""

    panel: AlignedPanel
    X: np.ndarray
    names: list[str]
    arm_terms: list[str]
    event_times: list[int]  # event times observed in the sample
    kept_event_times: list[int]  # common event-time dummies in X
    dropped_event_times: list[int]  # collinear with family and year effects, left out
    pre_period: list[int]
    post_period: list[int]
    t0: str


def drop_order(times: Sequence[int], last_pre: int) -> list[int]:
    """Event times in the order they are dropped when collinear: nearest pre-intake year first."""
    return sorted(times, key=lambda e: (e > last_pre, abs(e - last_pre), e))


def identified_columns(
    candidates: np.ndarray,
    unit: np.ndarray | None,
    year: np.ndarray | None,
    s: np.ndarray,
    order: Sequence[int],
) -> list[int]:
    """Columns of ``candidates`` (in ``order`` of preference to keep) that add rank beyond FE.

    Gram-Schmidt (twice, for stability) on the columns after exact removal of unit and year
    effects; a column is redundant when less than ``RANK_TOL`` of its norm is left.
    """
    fe = FixedEffects(unit, year, s)
    R = fe.resid(s[:, None] * candidates)
    norms = np.linalg.norm(s[:, None] * candidates, axis=0)
    basis: list[np.ndarray] = []
    kept: list[int] = []
    for j in order:
        r = R[:, j].copy()
        for _ in range(2):
            for q in basis:
                r -= q * (q @ r)
        size = float(np.linalg.norm(r))
        if norms[j] > 0 and size > RANK_TOL * norms[j]:
            basis.append(r / size)
            kept.append(j)
    return kept


def _arm_columns(
    panel: AlignedPanel, t0: str, arm_terms: str, ref: int
) -> tuple[list[np.ndarray], list[str]]:
    e, a = panel.event, panel.arm
    if arm_terms == "post":
        cols, names = [a * (e >= 1)], ["arm_post"]
        if t0 == "own" and ((a == 1) & (e == 0)).any():
            cols.append(a * (e == 0))
            names.append("arm_t0")
        return cols, names
    times = [int(k) for k in np.unique(e[a == 1]) if k != ref]
    return [a * (e == k) for k in times], [f"arm_e{k}" for k in times]


def aligned_design(
    panel: AlignedPanel, *, t0: str = "own", arm_terms: str = "post", ref: int | None = None
) -> AlignedDesign:
    """Rows and regressors of the aligned model; collinear event-time dummies dropped and listed.

    ``arm_terms="post"``: arm x post (and arm x T0 for ``t0="own"``); ``"event"``: arm x every
    observed event time except the reference ``ref`` (default T-1, or T0 for ``t0="baseline"``).
    """
    if t0 not in T0_MODES:
        raise PanelError(f"t0 must be one of {', '.join(T0_MODES)}; got {t0!r}")
    if t0 == "drop" and (panel.event == 0).any():
        panel = panel.subset(panel.event != 0)
    last_pre = 0 if t0 == "baseline" else -1
    ref = last_pre if ref is None else ref
    _check_periods(panel, last_pre)
    times = [int(k) for k in np.unique(panel.event)]
    dummies = np.column_stack([(panel.event == k).astype(float) for k in times])
    s = np.ones(panel.y.size) if panel.weights is None else np.sqrt(panel.weights)
    order = [times.index(k) for k in reversed(drop_order(times, last_pre))]
    kept = sorted(identified_columns(dummies, panel.unit, panel.year, s, order))
    cols, names = _arm_columns(panel, t0, arm_terms, ref)
    A = np.column_stack(cols)
    X = np.column_stack([A, dummies[:, kept]])
    if len(identified_columns(X, panel.unit, panel.year, s, range(X.shape[1]))) < X.shape[1]:
        raise PanelError(
            "the arm effect is not identified: the intervention and comparison families are"
            " not both observed before and after intake at the same years since intake"
        )
    kept_times = [times[j] for j in kept]
    return AlignedDesign(
        panel=panel,
        X=X,
        names=names + [f"e{k}" for k in kept_times],
        arm_terms=names,
        event_times=times,
        kept_event_times=kept_times,
        dropped_event_times=[k for k in drop_order(times, last_pre) if k not in kept_times],
        pre_period=[k for k in times if k <= last_pre],
        post_period=[k for k in times if k >= 1],
        t0=t0,
    )


def _check_periods(panel: AlignedPanel, last_pre: int) -> None:
    treated = panel.arm == 1
    what = "T0 or earlier" if last_pre == 0 else "before intake (T-1 or earlier)"
    if not (treated & (panel.event <= last_pre)).any():
        raise PanelError(
            f"no intervention family is observed {what}: a DiD needs a pre-period"
            " (use the level comparison for outcomes measured only after intake)"
        )
    if not (treated & (panel.event >= 1)).any():
        raise PanelError("no intervention family is observed after intake (T1 or later)")
    for label, rows in (("before", panel.event <= last_pre), ("after", panel.event >= 1)):
        if not (~treated & rows).any():
            raise PanelError(f"no comparison family is observed {label} intake")


def fit_design(design: AlignedDesign) -> LinearFit:
    """The least-squares fit of the design, family and year effects absorbed, clustered by family."""
    p = design.panel
    return fit_linear(
        p.y,
        design.X,
        unit=p.unit,
        time=p.year,
        cluster=p.unit,
        weights=p.weights,
        names=design.names,
    )


def refit_outcome(fit: LinearFit, y: np.ndarray) -> LinearFit:
    """The fit of another outcome on the same rows and design (reuses the FE projection)."""
    s = fit.fe.s
    yt = fit.fe.resid(s * y)
    beta = fit.bread @ (fit.X.T @ yt)
    return dataclasses.replace(fit, y=yt, beta=beta, resid=yt - fit.X @ beta)


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class AlignedResult:
    """An effect of the aligned comparison (arm x post) with its inference and sample."""

    att: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    df: float
    inference: str
    estimator: str
    outcome: str
    n_units: int
    n_obs: int
    n_intervention: int
    n_comparison: int
    n_clusters: int
    design: str = "aligned"
    scale: str = "outcome units"
    t0: str = "own"
    t0_effect: dict[str, Any] | None = None
    event_times: list[int] = field(default_factory=list)
    dropped_event_times: list[int] = field(default_factory=list)
    pre_period: list[int] = field(default_factory=list)
    post_period: list[int] = field(default_factory=list)
    n_by_intake: dict[str, dict[str, int]] = field(default_factory=dict)
    weighted: bool = False
    robustness: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (NaN becomes None)."""
        return json_safe(asdict(self))

    def scaled(self, factor: float, scale: str, estimator: str) -> AlignedResult:
        """The same result with effects, SEs and intervals multiplied by ``factor``."""

        def times(d: dict[str, Any] | None) -> dict[str, Any] | None:
            if d is None:
                return None
            keys = ("estimate", "se", "ci_low", "ci_high")
            return {k: (v * factor if k in keys and v is not None else v) for k, v in d.items()}

        rob = {m: times(r) for m, r in self.robustness.items()}
        return dataclasses.replace(
            self,
            att=self.att * factor,
            se=self.se * factor,
            ci_low=self.ci_low * factor,
            ci_high=self.ci_high * factor,
            t0_effect=times(self.t0_effect),
            robustness=rob,
            scale=scale,
            estimator=estimator,
        )


def contrast_row(robust: Robust, j: int, kind: str, level: float) -> dict[str, Any]:
    """Estimate, SE, df, p and CI of coefficient ``j`` with one variance estimator."""
    r = robust.coef(j, kind, level)
    return {
        "estimate": r.estimate,
        "se": r.se,
        "df": r.df,
        "p_value": r.p_value,
        "ci_low": r.ci_low,
        "ci_high": r.ci_high,
    }


def inference_table(
    robust: Robust,
    j: int,
    methods: Sequence[str],
    *,
    draws: int,
    seed: int | None,
    level: float,
) -> dict[str, dict[str, Any]]:
    """The coefficient ``j`` under each of ``methods`` (cr2, cr1, cv3, wild)."""
    fit = robust.fit
    out: dict[str, dict[str, Any]] = {}
    for m in methods:
        if m in ("cr2", "cr1", "cv3"):
            out[m] = contrast_row(robust, j, m, level)
        elif m == "wild":
            w = wild_cluster_bootstrap(fit, j, draws=draws, seed=seed, level=level)
            cr1 = robust.coef(j, "cr1", level)
            out[m] = {
                "estimate": w.estimate,
                "se": cr1.se,
                "df": float(fit.n_clusters - 1),
                "p_value": w.p_value,
                "ci_low": w.ci_low,
                "ci_high": w.ci_high,
                "draws": w.draws,
                "weights": w.weights,
                "enumerated": w.enumerated,
            }
        else:
            raise InferenceError(
                f"unknown inference '{m}'; use one of {', '.join(ALIGNED_INFERENCES)}"
            )
    return out


def sample_counts(panel: AlignedPanel) -> dict[str, Any]:
    """Families per arm and per intake year."""
    arm_u = panel.unit_arm()
    intake_u = np.zeros(panel.n_units)
    intake_u[panel.unit] = panel.intake
    by_intake = {
        show(float(s)): {
            "intervention": int(((intake_u == s) & (arm_u == 1)).sum()),
            "comparison": int(((intake_u == s) & (arm_u == 0)).sum()),
        }
        for s in np.unique(intake_u)
    }
    return {
        "n_units": panel.n_units,
        "n_obs": int(panel.y.size),
        "n_intervention": int((arm_u == 1).sum()),
        "n_comparison": int((arm_u == 0).sum()),
        "n_by_intake": by_intake,
    }


def design_warnings(design: AlignedDesign) -> list[str]:
    """Plain-words notes on the dropped dummies and an untestable pre-period."""
    notes = []
    if np.unique(design.panel.intake).size == 1:
        notes.append(
            "every family has the same intake year: the years-since-intake effects equal the"
            " calendar-year effects and are all absorbed"
        )
    if len([e for e in design.pre_period if e < (0 if design.t0 == "baseline" else -1)]) == 0:
        notes.append(
            "only one period precedes treatment: parallel trends cannot be tested on this outcome"
        )
    return notes


def _check_inference(inference: str, robustness: Sequence[str]) -> list[str]:
    methods = list(dict.fromkeys([inference, *robustness]))
    for m in methods:
        if m not in ALIGNED_INFERENCES:
            raise InferenceError(
                f"unknown inference '{m}'; use one of {', '.join(ALIGNED_INFERENCES)}"
            )
    return methods


def _disagreement(primary: str, table: dict[str, dict[str, Any]], alpha: float) -> list[str]:
    base = table[primary]["p_value"]
    flips = [
        m
        for m, r in table.items()
        if m != primary and np.isfinite(r["p_value"]) and (r["p_value"] < alpha) != (base < alpha)
    ]
    if not flips:
        return []
    return [
        f"methods disagree at the {alpha:.0%} level: {primary} p = {base:.3f}, "
        + ", ".join(f"{m} p = {table[m]['p_value']:.3f}" for m in flips)
    ]


def result_from_fit(
    fit: LinearFit,
    design: AlignedDesign,
    *,
    estimator: str,
    outcome: str,
    inference: str,
    methods: Sequence[str],
    draws: int,
    seed: int | None,
    level: float,
    notes: Sequence[str] = (),
) -> AlignedResult:
    """An :class:`AlignedResult` for the arm x post coefficient (column 0) of ``fit``."""
    robust = Robust(fit)
    table = inference_table(robust, 0, methods, draws=draws, seed=seed, level=level)
    main = table[inference]
    t0_effect = None
    if "arm_t0" in design.names:
        kind = "cr1" if inference == "wild" else inference  # the bootstrap tests arm x post only
        t0_effect = contrast_row(robust, design.names.index("arm_t0"), kind, level)
        t0_effect["inference"] = kind
    warnings = [*design.panel.notes, *design_warnings(design), *notes]
    if "cr2" in table and table["cr2"]["df"] < LOW_DF:
        warnings.append(
            f"few effective degrees of freedom (Satterthwaite df = {table['cr2']['df']:.1f} < 10):"
            " treat the interval with caution and look at the wild bootstrap"
        )
    warnings += _disagreement(inference, table, 1 - level)
    counts = sample_counts(design.panel)
    return AlignedResult(
        att=float(fit.beta[0]),
        se=float(main["se"]),
        ci_low=float(main["ci_low"]),
        ci_high=float(main["ci_high"]),
        p_value=float(main["p_value"]),
        df=float(main["df"]),
        inference=inference,
        estimator=estimator,
        outcome=outcome,
        n_clusters=fit.n_clusters,
        t0=design.t0,
        t0_effect=t0_effect,
        event_times=design.event_times,
        dropped_event_times=design.dropped_event_times,
        pre_period=design.pre_period,
        post_period=design.post_period,
        weighted=design.panel.weights is not None,
        robustness=table,
        warnings=warnings,
        **counts,
    )


# --------------------------------------------------------------------------------------------
# Public estimators


def aligned_did(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    arm: str,
    intake: str,
    outcome: str,
    t0: str = "own",
    weights: str | None = None,
    inference: str = "cr2",
    robustness: Sequence[str] = DEFAULT_ROBUSTNESS,
    draws: int = 9999,
    seed: int | None = None,
    level: float = 0.95,
) -> AlignedResult:
    """The intake-aligned DiD of ``outcome``: arm x post with years-since-intake effects.

    ``arm`` is 1 for intervention and 0 for comparison families, ``intake`` the calendar year
    of a family's T0 (the same unit as ``time``). ``inference`` is the primary method (cr2 with
    Satterthwaite df, cr1, cv3 or wild), ``robustness`` the methods shown beside it.
    """
    methods = _check_inference(inference, robustness)
    panel = prepare_aligned(
        df, unit=unit, time=time, arm=arm, intake=intake, outcome=outcome, weights=weights
    )
    design = aligned_design(panel, t0=t0)
    fit = fit_design(design)
    return result_from_fit(
        fit,
        design,
        estimator="aligned",
        outcome=outcome,
        inference=inference,
        methods=methods,
        draws=draws,
        seed=seed,
        level=level,
    )


def aligned_lpm(df: pd.DataFrame, *, outcome: str, **kwargs: Any) -> AlignedResult:
    """The aligned DiD of a 0/1 outcome (linear probability), in percentage points (x 100)."""
    values = pd.to_numeric(df[outcome], errors="coerce") if outcome in df.columns else None
    if values is not None and not values.dropna().isin([0, 1]).all():
        raise PanelError(f"outcome '{outcome}' must be 0 or 1 for a linear probability model")
    r = aligned_did(df, outcome=outcome, **kwargs)
    return r.scaled(100.0, "percentage points", "aligned_lpm")
