"""Callaway & Sant'Anna (2021) staggered-adoption DiD: ATT(g,t), aggregations and pre-test.

What this module does, and where each part comes from:

* Each group-time effect ATT(g,t) is a 2x2 comparison of cohort ``g`` with a comparison group
  (never-treated units, or units not yet treated by ``max(t, base)``) between a base period and
  ``t``. The 2x2 estimators are the ones R ``did`` calls from ``DRDID`` (``drdid_panel``,
  ``std_ipw_did_panel``, ``reg_did_panel``), taken from ``moderndid`` (MIT), whose ports
  reproduce R to machine precision on ``mpdta``.
* The cell loop is ours so that unbalanced panels work: a 2x2 comparison uses every unit of the
  cohort and of the comparison group that is observed (outcome and covariates non-missing) in
  *both* of its periods; units missing either period are left out of that cell only. Each
  cell's influence function is rescaled to the full sample (``n / n_cell``, zero for units not
  in the cell), exactly as R does for the units it keeps. On a balanced panel this is R ``did``
  with ``panel = TRUE``. (R's own ``allow_unbalanced_panel = TRUE`` switches to the
  repeated-cross-section estimator, which ignores the within-family pairing; we do not.)
  Covariates are read in the earlier of the two periods of each comparison, as R does.
* Aggregations (simple, dynamic, group, calendar), including the influence function of the
  estimated cohort weights, come from ``moderndid``'s port of R's ``compute.aggte``.
* Standard errors come from the influence functions, clustered by unit (or by a coarser
  ``cluster`` column, summing influence functions within clusters). With ``bootstrap=B`` the
  multiplier bootstrap (Mammen weights, as R ``did``) draws one weight per cluster for all
  estimates jointly; SEs are the robust IQR-based ones R reports, and the group-time effects and
  each aggregation's per-level estimates get uniform (simultaneous) bands.
* The pre-test is R's Wald test that all pre-treatment ATT(g,t) are zero.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from analysis.did.cs_cells import Cell, CsPanel, cs_panel, group_time_cells, period_label
from analysis.did.cs_result import (
    Aggregation,
    CsError,
    CsResult,
    Estimate,
    GroupTime,
    LevelEstimate,
    Pretest,
)
from analysis.did.panel import PanelError

SMALL_CELL_MIN_TREATED = 5

Control = Literal["never", "notyet"]
BasePeriod = Literal["varying", "universal"]
Method = Literal["dr", "ipw", "reg"]

# --------------------------------------------------------------------------- inference


class _Inference:
    """Standard errors and critical values from influence functions (analytic or bootstrap)."""

    def __init__(
        self, cluster: np.ndarray, n: int, alpha: float, bootstrap: int | None, seed: int | None
    ):
        self.codes = cluster
        self.n_clusters = int(cluster.max()) + 1 if len(cluster) else 0
        self.n = n
        self.alpha = alpha
        self.z = float(stats.norm.ppf(1 - alpha / 2))
        self.weights: np.ndarray | None = None
        if bootstrap:
            rng = np.random.default_rng(seed)
            s5 = math.sqrt(5.0)
            lo, hi = (1 - s5) / 2, (1 + s5) / 2
            p_lo = (s5 + 1) / (2 * s5)
            self.weights = np.where(
                rng.random((bootstrap, self.n_clusters)) < p_lo, lo, hi
            )  # Mammen two-point weights, mean 0, variance 1

    def cluster_sums(self, inf: np.ndarray) -> np.ndarray:
        inf = np.atleast_2d(inf.T).T  # n x k
        out = np.zeros((self.n_clusters, inf.shape[1]))
        np.add.at(out, self.codes, np.nan_to_num(inf))
        return out

    def se(self, inf: np.ndarray) -> tuple[np.ndarray, float]:
        """Standard errors of the columns of ``inf`` and their uniform critical value."""
        inf = np.atleast_2d(inf.T).T
        bad = np.isnan(inf).any(axis=0)
        sums = self.cluster_sums(inf)
        if self.weights is None:
            se = np.sqrt((sums**2).sum(axis=0)) / self.n
            crit = self.z
        else:
            draws = self.weights @ sums / self.n  # B x k
            q75, q25 = np.percentile(draws, [75, 25], axis=0, method="inverted_cdf")
            se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
            ok = (se > 1e-12) & ~bad
            crit = self.z
            if ok.any():
                t_max = np.max(np.abs(draws[:, ok] / se[ok]), axis=1)
                crit = max(float(np.quantile(t_max, 1 - self.alpha, method="inverted_cdf")), self.z)
        se = np.where(bad | (se <= math.sqrt(np.finfo(float).eps) * 10), math.nan, se)
        return se, crit

    def vcov(self, inf: np.ndarray) -> np.ndarray:
        sums = self.cluster_sums(inf)
        return sums.T @ sums / self.n**2


# --------------------------------------------------------------------------- aggregation


def _aggregate(cells: list[Cell], panel: CsPanel, inference: _Inference, notes: list[str]):
    from moderndid.did.compute_aggte import compute_aggte
    from moderndid.did.container import mp

    groups = np.array([c.group for c in cells], dtype=float)
    times = np.array([c.time for c in cells], dtype=float)
    att = np.array([c.att for c in cells], dtype=float)
    inf = np.column_stack([c.inf for c in cells])
    n = panel.y.shape[0]
    mp_result = mp(
        groups=groups,
        times=times,
        att_gt=att,
        vcov_analytical=np.zeros((len(att), len(att))),
        se_gt=np.zeros(len(att)),
        critical_value=inference.z,
        influence_func=inf,
        n_units=n,
        alpha=inference.alpha,
        estimation_params={"bootstrap": False, "uniform_bands": False},
        G=panel.cohort,
    )
    dropna = bool(np.isnan(att).any())
    if dropna:
        notes.append("aggregations leave out the group-time effects that could not be estimated")
    out = {}
    for kind in ("simple", "dynamic", "group", "calendar"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[kind] = compute_aggte(
                mp_result,
                aggregation_type=kind,
                dropna=dropna,
                bootstrap=False,
                confidence_band=False,
            )
    return out


def _estimate(att: float, inf: np.ndarray, inference: _Inference) -> Estimate:
    se, _ = inference.se(inf.reshape(-1, 1))
    s = float(se[0])
    return Estimate(float(att), s, att - inference.z * s, att + inference.z * s)


def _aggregation(kind: str, res: Any, inference: _Inference) -> Aggregation:
    overall = _estimate(float(res.overall_att), np.asarray(res.influence_func_overall), inference)
    levels_att = np.asarray(res.att_by_event, dtype=float)
    ses, crit = inference.se(np.asarray(res.influence_func, dtype=float))
    levels = tuple(
        LevelEstimate(
            int(lev) if float(lev).is_integer() else lev,
            float(a),
            float(s),
            float(a - crit * s),
            float(a + crit * s),
        )
        for lev, a, s in zip(res.event_times, levels_att, ses, strict=True)
    )
    return Aggregation(kind, overall, levels, float(crit))


def _pretest(cells: list[Cell], inference: _Inference, notes: list[str]) -> Pretest | None:
    pre = [c for c in cells if c.group > c.time and np.isfinite(c.att) and np.any(c.inf != 0)]
    if not pre:
        notes.append("no pre-treatment group-time effects: no pre-test")
        return None
    a = np.array([c.att for c in pre])
    v = inference.vcov(np.column_stack([c.inf for c in pre]))
    if np.linalg.matrix_rank(v) < len(a):
        notes.append("pre-test not computed: singular covariance of the pre-treatment effects")
        return None
    w = float(a @ np.linalg.solve(v, a))
    return Pretest(w, float(stats.chi2.sf(w, len(a))), len(a))


# --------------------------------------------------------------------------- public


def callaway_santanna(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    control: Control = "never",
    base_period: BasePeriod = "varying",
    covariates: Sequence[str] = (),
    method: Method = "dr",
    bootstrap: int | None = None,
    seed: int | None = None,
    alpha: float = 0.05,
    cluster: str | None = None,
) -> CsResult:
    """Callaway & Sant'Anna (2021) group-time effects with all four aggregations and the pre-test.

    ``cohort`` is the first treated period; 0 or empty marks the comparison arm. ``control`` is
    ``"never"`` (never-treated units) or ``"notyet"`` (also units not yet treated). ``method``
    is the 2x2 estimator (Sant'Anna & Zhao 2020): doubly robust, IPW or outcome regression.
    Standard errors come from influence functions clustered by ``unit`` (or by ``cluster``);
    ``bootstrap=B`` switches to the seeded multiplier bootstrap with uniform bands.
    """
    _check_options(control, base_period, method, alpha, bootstrap)
    covariates = tuple(covariates)
    panel, notes = cs_panel(
        df,
        unit=unit,
        time=time,
        cohort=cohort,
        outcome=outcome,
        covariates=covariates,
        cluster=cluster,
        control=control,
    )
    _check_comparison(panel, cohort=cohort, control=control, notes=notes)

    cells = group_time_cells(
        panel, control=control, base_period=base_period, method=method, notes=notes
    )
    if not any(np.isfinite(c.att) and c.group <= c.time for c in cells):
        raise CsError("no post-treatment group-time effect could be estimated")
    n = panel.y.shape[0]
    inference = _Inference(panel.cluster, n, alpha, bootstrap, seed)

    inf_gt = np.column_stack([c.inf for c in cells])
    se_gt, crit_gt = inference.se(inf_gt)
    group_time = [_group_time(c, se, crit_gt, notes) for c, se in zip(cells, se_gt, strict=True)]

    agg = _aggregate(cells, panel, inference, notes)
    simple = _estimate(float(agg["simple"].overall_att), agg["simple"].influence_func, inference)
    pretest = _pretest(cells, inference, notes)
    return CsResult(
        group_time=tuple(group_time),
        simple=simple,
        dynamic=_aggregation("dynamic", agg["dynamic"], inference),
        group=_aggregation("group", agg["group"], inference),
        calendar=_aggregation("calendar", agg["calendar"], inference),
        pretest=pretest,
        control=control,
        base_period=base_period,
        method=method,
        covariates=covariates,
        n_units=n,
        n_obs=panel.n_obs,
        n_clusters=inference.n_clusters,
        alpha=alpha,
        inference="bootstrap" if bootstrap else "analytic",
        bootstrap=int(bootstrap) if bootstrap else None,
        seed=seed,
        warnings=tuple(notes),
    )


def _check_options(
    control: str, base_period: str, method: str, alpha: float, bootstrap: int | None
) -> None:
    if control not in ("never", "notyet"):
        raise CsError(f"control must be 'never' or 'notyet', not {control!r}")
    if base_period not in ("varying", "universal"):
        raise CsError(f"base_period must be 'varying' or 'universal', not {base_period!r}")
    if method not in ("dr", "ipw", "reg"):
        raise CsError(f"method must be 'dr', 'ipw' or 'reg', not {method!r}")
    if not 0 < alpha < 1:
        raise CsError(f"alpha must lie between 0 and 1, not {alpha!r}")
    if bootstrap is not None and (int(bootstrap) != bootstrap or bootstrap < 2):
        raise CsError(f"bootstrap must be a number of draws of at least 2, not {bootstrap!r}")


def _check_comparison(panel: CsPanel, *, cohort: str, control: str, notes: list[str]) -> None:
    """Refuse a panel without treated units; without never-treated units (control "notyet")
    the last cohort becomes the comparison, as R did does."""
    n_treated_units = int(np.isfinite(panel.cohort).sum())
    if n_treated_units == 0:
        raise PanelError(f"no treated units: every value of '{cohort}' marks the comparison arm")
    if np.isinf(panel.cohort).any():
        return
    if control == "never":
        raise PanelError("no never-treated units for the comparison; use control 'notyet' instead")
    # As R did: without never-treated units the last cohort only serves as comparison,
    # so periods from its start on cannot be used.
    last_g = panel.cohort.max()
    keep_t = panel.periods < last_g
    panel.periods, panel.y, panel.x = (
        panel.periods[keep_t],
        panel.y[:, keep_t],
        panel.x[:, keep_t],
    )
    panel.cohort = np.where(panel.cohort == last_g, np.inf, panel.cohort)
    notes.append(f"no never-treated units: cohort {period_label(last_g)} serves as comparison only")


def _group_time(c: Cell, se: float, crit: float, notes: list[str]) -> GroupTime:
    small = c.n_treated < SMALL_CELL_MIN_TREATED and not (c.time == c.base)
    if small and np.isfinite(c.att):
        notes.append(
            f"ATT({period_label(c.group)},{period_label(c.time)}) rests on {c.n_treated} treated"
            f" units (fewer than {SMALL_CELL_MIN_TREATED})"
        )
    return GroupTime(
        group=_int(c.group),
        time=_int(c.time),
        att=float(c.att),
        se=float(se),
        ci_low=float(c.att - crit * se),
        ci_high=float(c.att + crit * se),
        base_period=_int(c.base),
        n_treated=c.n_treated,
        n_control=c.n_control,
        small_cell=bool(small),
    )


def _int(v: float) -> int:
    return int(v) if float(v).is_integer() else v  # type: ignore[return-value]
