"""Robustness panel and honest power of one aligned outcome (pure functions, JSON-able dicts).

* :func:`robustness_part`: one entry per line, each ``{line, estimate, ci_low, ci_high, p_value,
  method}``: the aligned estimate under CR2 (Satterthwaite), CR1, CV3 and the restricted wild
  cluster bootstrap; the stacked (corrective weights) and imputation (BJS, GMM SE) variants;
  the calendar-time TWFE (treated from T1 on) with its Goodman-Bacon (2021) decomposition when
  the calendar panel is balanced (:func:`bacon_decomposition`) and always its de
  Chaisemartin-D'Haultfoeuille (2020) weights (the share and sum of negative weights on treated family-years: the TWFE coefficient
  is ``sum_it w_it tau_it`` over them); and randomisation inference (:func:`aligned_ri`).
* :func:`aligned_ri`: the aligned arm x post estimate under permutations of the *arm labels
  only* (never intake years), within intake-year strata, and within the caller's ``strata`` /
  ``blocks`` (pairs) if given; two-sided p ``(1 + #{|b*| >= |b|}) / (1 + draws)``. Every
  permutation is one FWL regression on the residualised design, all of them at once.
* :func:`mde_part`: the MDE by simulation for this panel's rows and the aligned estimator with
  CR2 at the caller's alpha: AR(1) errors with the lag-1 correlation ``rho`` of the pre-intake
  years (or the caller's), SD of the pre-intake residuals (a family's constant level is absorbed
  by the family effects); power on a grid of effects with common random numbers, interpolated
  at the target power.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.did.aligned import aligned_design, fit_design, result_from_fit
from analysis.did.aligned_alt import imputation_from_panel, stacked_from_panel
from analysis.did.aligned_panel import AlignedPanel, prepare_aligned
from analysis.did.linear import FixedEffects, fit_linear
from analysis.did.panel import PanelError, json_safe
from analysis.did.power import cr2_rejections

RI_CHUNK = 200


def _entry(line: str, method: str, est: float, lo: float, hi: float, p: float, **extra: Any):
    row = {"line": line, "method": method, "estimate": est, "ci_low": lo, "ci_high": hi}
    return {**row, "p_value": p, **extra}


def calendar_twfe(panel: AlignedPanel, level: float = 0.95) -> dict[str, Any]:
    """Calendar-time TWFE (intervention families treated from T1 on), CR2, and dCDH weights."""
    d = ((panel.arm == 1) & (panel.event >= 1)).astype(float)
    fit = fit_linear(panel.y, d[:, None], unit=panel.unit, time=panel.year, cluster=panel.unit)
    from analysis.did.cluster_robust import Robust

    r = Robust(fit).coef(0, "cr2", level)
    fe = FixedEffects(panel.unit, panel.year, np.ones(d.size))
    eps = fe.resid(d)
    treated = d == 1
    w = eps[treated] / eps[treated].sum()
    return {
        "estimate": r.estimate,
        "se": r.se,
        "df": r.df,
        "ci_low": r.ci_low,
        "ci_high": r.ci_high,
        "p_value": r.p_value,
        "dcdh_weights": w,
        "n_negative": int((w < 0).sum()),
        "negative_sum": float(w[w < 0].sum()),
    }


def permutation_cells(panel: AlignedPanel, groups: np.ndarray | None) -> np.ndarray:
    """Per family the cell within which arm labels are permuted: intake year x caller's group."""
    intake_u = np.zeros(panel.n_units)
    intake_u[panel.unit] = panel.intake
    if groups is None:
        return np.unique(intake_u, return_inverse=True)[1]
    keys = pd.Series([f"{a}|{b}" for a, b in zip(intake_u, groups, strict=True)])
    return pd.factorize(keys)[0]


def permute_within(arm_u: np.ndarray, cells: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Arm labels shuffled within each cell (a cell's number of intervention families kept)."""
    out = arm_u.copy()
    for c in np.unique(cells):
        idx = np.flatnonzero(cells == c)
        out[idx] = arm_u[rng.permutation(idx)]
    return out


def assignments_within(arm_u: np.ndarray, cells: np.ndarray) -> int:
    """How many distinct arm assignments keep every cell's number of intervention families:
    the product over cells of C(n_c, k_c) (a cell without variation contributes 1)."""
    total = 1
    for c in np.unique(cells):
        members = arm_u[cells == c]
        total *= math.comb(int(members.size), int(members.sum()))
    return total


def enumerate_within(arm_u: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Every distinct assignment that keeps each cell's count of intervention families, as
    the columns of a (G, N) array; the observed assignment is one of them. Only cells with
    both arms vary."""
    base = arm_u.astype(float).copy()
    choices = []
    for c in np.unique(cells):
        idx = np.flatnonzero(cells == c)
        k = int(arm_u[idx].sum())
        if 0 < k < idx.size:
            base[idx] = 0.0
            choices.append([idx[list(pick)] for pick in itertools.combinations(range(idx.size), k)])
    columns = []
    for combo in itertools.product(*choices):
        a = base.copy()
        for treated in combo:
            a[treated] = 1.0
        columns.append(a)
    return np.column_stack(columns)


#: Randomisation inference enumerates every assignment (an exact p-value) when there are at
#: most this many (and, by default, no more than the draws asked for); else it draws.
EXACT_MAX = 100_000


def aligned_ri(
    panel: AlignedPanel,
    *,
    t0: str = "own",
    groups: np.ndarray | None = None,
    draws: int = 999,
    seed: int | None = 0,
    exact: bool | None = None,
) -> dict[str, Any]:
    """Randomisation inference of the aligned arm x post estimate (see the module docstring).

    ``groups``: one label per family code (strata, allocation blocks or matched pairs), or None
    for intake years only; labels are permuted within intake year x group, never across
    intake years. ``exact``: enumerate every assignment that keeps the cells' counts (p =
    #{|b*| >= |b|} / N, the observed assignment one of the N); None (default) does so when
    N <= ``draws`` (random draws would only repeat assignments), False never, True always (up
    to EXACT_MAX assignments).
    """
    design = aligned_design(panel, t0=t0)
    p = design.panel
    n_arm = len(design.arm_terms)
    s = np.ones(p.y.size) if p.weights is None else np.sqrt(p.weights)
    fe = FixedEffects(p.unit, p.year, s)
    E = fe.resid(s[:, None] * design.X[:, n_arm:])
    q, _ = np.linalg.qr(E) if E.shape[1] else (np.zeros((p.y.size, 0)), None)

    def resid(a: np.ndarray) -> np.ndarray:
        r = fe.resid(a)
        return r - q @ (q.T @ r)

    y = resid(s * p.y)
    post = (p.event >= 1).astype(float)
    at_t0 = (p.event == 0).astype(float)
    own = "arm_t0" in design.arm_terms

    def betas(arm_u: np.ndarray) -> np.ndarray:  # arm_u: (G, B)
        a = arm_u[p.unit]
        D1 = resid(s[:, None] * a * post[:, None])
        if not own:
            return (D1.T @ y) / np.einsum("ib,ib->b", D1, D1)
        D0 = resid(s[:, None] * a * at_t0[:, None])
        s11, s00 = np.einsum("ib,ib->b", D1, D1), np.einsum("ib,ib->b", D0, D0)
        s10 = np.einsum("ib,ib->b", D1, D0)
        y1, y0 = D1.T @ y, D0.T @ y
        det = s11 * s00 - s10**2
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(np.abs(det) > 1e-12, (s00 * y1 - s10 * y0) / det, 0.0)

    arm_u = p.unit_arm()
    cells = permutation_cells(p, groups)
    observed = float(betas(arm_u[:, None])[0])
    tol = 1e-10 * max(1.0, abs(observed))
    n_cells = int(np.unique(cells).size)
    support = assignments_within(arm_u, cells)
    if exact is None:
        exact = support <= min(draws, EXACT_MAX)
    if exact:
        if support > EXACT_MAX:
            raise PanelError(f"{support} assignments are too many to enumerate")
        every = enumerate_within(arm_u, cells)
        hits = sum(
            int(np.sum(np.abs(betas(every[:, i : i + RI_CHUNK])) >= abs(observed) - tol))
            for i in range(0, every.shape[1], RI_CHUNK)
        )
        return {
            "statistic": observed,
            "p_value": hits / support,
            "draws": support,
            "exact": True,
            "seed": seed,
            "cells": n_cells,
        }
    rng = np.random.default_rng(seed)
    hits, done = 0, 0
    while done < draws:
        b = min(RI_CHUNK, draws - done)
        perms = np.column_stack([permute_within(arm_u, cells, rng) for _ in range(b)])
        hits += int(np.sum(np.abs(betas(perms)) >= abs(observed) - tol))
        done += b
    return {
        "statistic": observed,
        "p_value": (1 + hits) / (1 + draws),
        "draws": draws,
        "exact": False,
        "seed": seed,
        "cells": n_cells,
    }


def _groups_per_family(
    df: pd.DataFrame, panel: AlignedPanel, unit: str, column: str | None
) -> np.ndarray | None:
    if column is None:
        return None
    if column not in df.columns:
        raise PanelError(f"column '{column}' (strata / blocks) is not in the panel")
    assert panel.data is not None
    per = panel.data.groupby(panel.unit)[unit].first()
    labels = df.groupby(unit)[column].first()
    return labels.reindex(per.to_numpy()).astype(str).to_numpy()


def robustness_part(
    df: pd.DataFrame,
    *,
    cols: dict[str, Any],
    outcome: str,
    t0: str = "own",
    strata: str | None = None,
    blocks: str | None = None,
    randomised: bool = False,
    ri_note: str | None = None,
    draws: int = 999,
    seed: int | None = 0,
    scale: float = 1.0,
    level: float = 0.95,
) -> list[dict[str, Any]]:
    """The robustness panel of a linear aligned outcome (see the module docstring). The RI
    line names the restriction in ``within`` (the ``blocks`` or ``strata`` column, or
    ``"intake_year"``) and carries ``ri_note`` (why a coarser restriction was used) as
    ``note``."""
    panel = prepare_aligned(df, outcome=outcome, **cols)
    design = aligned_design(panel, t0=t0)
    main = result_from_fit(
        fit_design(design),
        design,
        estimator="aligned",
        outcome=outcome,
        inference="cr2",
        methods=["cr2", "cr1", "cv3", "wild"],
        draws=draws,
        seed=seed,
        level=level,
    )
    x = scale
    out = []
    labels = {
        "cr2": "aligned, CR2 (Satterthwaite df)",
        "cr1": "aligned, CR1 (G - 1 df)",
        "cv3": "aligned, CV3 jackknife",
        "wild": "aligned, wild cluster bootstrap (restricted, Webb)",
    }
    for m, label in labels.items():
        r = main.robustness[m]
        out.append(
            _entry(label, m, r["estimate"] * x, r["ci_low"] * x, r["ci_high"] * x, r["p_value"])
        )
    st = stacked_from_panel(panel, t0=t0, robustness=(), level=level, outcome=outcome)
    out.append(
        _entry(
            "stacked by intake year (corrective weights), CR2",
            "stacked",
            st.att * x,
            st.ci_low * x,
            st.ci_high * x,
            st.p_value,
        )
    )
    try:
        imp = imputation_from_panel(panel, t0=t0, level=level, outcome=outcome)
        out.append(
            _entry(
                "imputation (Borusyak-Jaravel-Spiess), GMM SE",
                "imputation",
                imp.att * x,
                imp.ci_low * x,
                imp.ci_high * x,
                imp.p_value,
            )
        )
    except PanelError as exc:
        out.append(
            {"line": "imputation", "method": "imputation", "computed": False, "reason": str(exc)}
        )
    cal = calendar_twfe(panel, level)
    extra: dict[str, Any] = {}
    if _balanced(panel):
        bacon = bacon_decomposition(panel)
        extra = {"decomposition": "Goodman-Bacon", "bacon_weight_by_type": bacon["weight_by_type"]}
    else:
        extra = {"decomposition": "de Chaisemartin-D'Haultfoeuille weights (unbalanced panel)"}
    out.append(
        _entry(
            "calendar-time TWFE (treated from T1), CR2",
            "calendar_twfe",
            cal["estimate"] * x,
            cal["ci_low"] * x,
            cal["ci_high"] * x,
            cal["p_value"],
            dcdh_negative_weights=cal["n_negative"],
            dcdh_negative_sum=cal["negative_sum"],
            **extra,
        )
    )
    group_col = blocks if blocks is not None else strata
    groups = _groups_per_family(df, panel, cols["unit"], group_col)
    ri = aligned_ri(panel, t0=t0, groups=groups, draws=draws, seed=seed)
    within = "intake year" + (f" x {group_col}" if group_col else "")
    out.append(
        _entry(
            f"randomisation inference (arm labels permuted within {within})"
            + ("" if randomised else "; a permutation check, not design-based inference"),
            "ri",
            ri["statistic"] * x,
            math.nan,
            math.nan,
            ri["p_value"],
            draws=ri["draws"],
            cells=ri["cells"],
            exact=ri["exact"],
            within=group_col or "intake_year",
            **({"note": ri_note} if ri_note else {}),
        )
    )
    return json_safe(out)


def _balanced(panel: AlignedPanel) -> bool:
    counts = np.bincount(panel.unit)
    years = int(panel.year.max()) + 1
    return bool((counts == years).all())


# --------------------------------------------------------------------------------------------
# Power honestly: the MDE by simulation


def pre_intake_rho(panel: AlignedPanel) -> tuple[float, float]:
    """Lag-1 correlation and SD of the pre-intake outcomes after calendar-year x arm means."""
    pre = panel.event <= 0
    d = pd.DataFrame(
        {"u": panel.unit[pre], "e": panel.event[pre], "t": panel.year[pre], "y": panel.y[pre]}
    )
    d["r"] = d.y - d.groupby("t").y.transform("mean")
    wide = d.pivot_table(index="u", columns="e", values="r")
    pairs = [(k, k + 1) for k in wide.columns if k + 1 in wide.columns]
    num, den_a, den_b = 0.0, 0.0, 0.0
    for a, b in pairs:
        sub = wide[[a, b]].dropna()
        xa, xb = sub[a] - sub[a].mean(), sub[b] - sub[b].mean()
        num += float((xa * xb).sum())
        den_a += float((xa**2).sum())
        den_b += float((xb**2).sum())
    rho = num / math.sqrt(den_a * den_b) if den_a > 0 and den_b > 0 else math.nan
    return rho, float(d.r.std(ddof=1))


def ar1_errors(panel: AlignedPanel, rho: float, sd: float, reps: int, rng) -> np.ndarray:
    """AR(1) errors per family along event time (stationary, SD ``sd``): (rows, reps)."""
    e_min = int(panel.event.min())
    span = int(panel.event.max()) - e_min + 1
    z = rng.standard_normal((panel.n_units, span, reps))
    u = np.empty_like(z)
    u[:, 0] = z[:, 0]
    for k in range(1, span):
        u[:, k] = rho * u[:, k - 1] + math.sqrt(1 - rho * rho) * z[:, k]
    return sd * u[panel.unit, panel.event - e_min]


def mde_part(
    df: pd.DataFrame,
    *,
    cols: dict[str, Any],
    outcome: str,
    t0: str = "own",
    alpha: float = 0.05,
    power: float = 0.8,
    rho: float | None = None,
    sd: float | None = None,
    reps: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """The MDE by simulation for this panel's design (see the module docstring)."""
    panel = prepare_aligned(df, outcome=outcome, **cols)
    design = aligned_design(panel, t0=t0)
    template = fit_design(design)
    est_rho, est_sd = pre_intake_rho(design.panel)
    rho_used = est_rho if rho is None else rho
    sd_used = est_sd if sd is None else sd
    if not (math.isfinite(rho_used) and -1 < rho_used < 1 and sd_used > 0):
        raise PanelError("the serial correlation cannot be estimated; pass rho and sd")
    rng = np.random.default_rng(seed)
    noise = ar1_errors(design.panel, rho_used, sd_used, reps, rng)
    x_post = design.X[:, 0]
    # the null spread of the estimate gives the starting point of the effect grid
    yt = template.fe.resid(noise)
    b0 = (template.bread @ (template.X.T @ yt))[0]
    guess = (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * float(np.std(b0))
    grid = [guess * f for f in (0.6, 0.8, 0.9, 1.0, 1.1, 1.2, 1.5)]
    curve = []
    for eff in grid:
        Y = noise + eff * x_post[:, None]
        curve.append({"effect": eff, "power": float(np.mean(cr2_rejections(template, Y, alpha)))})
    mde = math.nan
    for lo, hi in zip(curve, curve[1:], strict=False):
        if lo["power"] < power <= hi["power"]:
            w = (power - lo["power"]) / (hi["power"] - lo["power"])
            mde = lo["effect"] + w * (hi["effect"] - lo["effect"])
            break
    return json_safe(
        {
            "mde": mde,
            "alpha": alpha,
            "power": power,
            "rho": rho_used,
            "rho_source": "pre-intake years" if rho is None else "assumed",
            "sd": sd_used,
            "reps": reps,
            "estimator": "aligned DiD, CR2 with Satterthwaite df",
            "power_curve": curve,
            "n_families": design.panel.n_units,
        }
    )


# --------------------------------------------------------------------------------------------
# Goodman-Bacon decomposition of the calendar TWFE (balanced panels)


def _share_treated(first: float, years: np.ndarray) -> float:
    return float(np.mean(years >= first))


def _two_by_two(
    y_a: np.ndarray, y_b: np.ndarray, years: np.ndarray, window: np.ndarray, post: np.ndarray
) -> float:
    """(a after - a before) - (b after - b before) on the yearly means within ``window``."""
    pre = window & ~post
    after = window & post
    return float((y_a[after].mean() - y_a[pre].mean()) - (y_b[after].mean() - y_b[pre].mean()))


def _bacon_groups(panel: AlignedPanel) -> tuple[dict[float, tuple], np.ndarray]:
    """Per first-treated-year code (inf: never): unit share, share of years treated, means."""
    n_years = int(panel.year.max()) + 1
    years = np.arange(n_years)
    first_code = np.full(panel.n_units, np.inf)
    treated = (panel.arm == 1) & (panel.event >= 1)
    for u in np.unique(panel.unit[treated]):
        first_code[u] = panel.year[(panel.unit == u) & treated].min()
    Y = np.zeros((panel.n_units, n_years))
    Y[panel.unit, panel.year] = panel.y
    groups = {}
    for g in np.unique(first_code):
        members = first_code == g
        share = _share_treated(g, years) if np.isfinite(g) else 0.0
        if share >= 1.0:
            raise PanelError("a group is treated in every year: the decomposition is undefined")
        groups[float(g)] = (float(members.mean()), share, Y[members].mean(axis=0))
    return groups, years


def _timing_rows(groups: dict[float, tuple], years: np.ndarray, k: float, ell: float) -> list:
    """The two 2x2s of an earlier (k) and a later (ell) treated group, unnormalised weights."""
    n_k, d_k, y_k = groups[k]
    n_l, d_l, y_l = groups[ell]
    nkl = n_k / (n_k + n_l)
    w_early = (
        ((n_k + n_l) * (1 - d_l)) ** 2
        * nkl
        * (1 - nkl)
        * ((d_k - d_l) / (1 - d_l))
        * ((1 - d_k) / (1 - d_l))
    )
    w_late = ((n_k + n_l) * d_k) ** 2 * nkl * (1 - nkl) * (d_l / d_k) * ((d_k - d_l) / d_k)
    return [
        {
            "type": "earlier vs later treated",
            "group": k,
            "other": ell,
            "weight": w_early,
            "estimate": _two_by_two(y_k, y_l, years, years < ell, years >= k),
        },
        {
            "type": "later vs earlier treated (already treated as controls)",
            "group": ell,
            "other": k,
            "weight": w_late,
            "estimate": _two_by_two(y_l, y_k, years, years >= k, years >= ell),
        },
    ]


def bacon_decomposition(panel: AlignedPanel) -> dict[str, Any]:
    """Goodman-Bacon (2021) decomposition of the calendar TWFE on a balanced panel.

    Groups: intervention families by first treated year (intake + 1), comparison families never
    treated. Returns the 2x2 estimates with their weights (Theorem 1; they sum to 1 and the
    weighted sum is the TWFE coefficient) and the weight of each kind of comparison. Group and
    year labels are the panel's year codes (0 = first calendar year).
    """
    if not _balanced(panel):
        raise PanelError("the Goodman-Bacon decomposition needs a balanced panel")
    groups, years = _bacon_groups(panel)
    timing = sorted(g for g in groups if np.isfinite(g))
    rows: list[dict[str, Any]] = []
    if math.inf in groups:
        n_u, _, y_u = groups[math.inf]
        for k in timing:
            n_k, d_k, y_k = groups[k]
            nku = n_k / (n_k + n_u)
            rows.append(
                {
                    "type": "treated vs never treated",
                    "group": k,
                    "other": None,
                    "weight": (n_k + n_u) ** 2 * nku * (1 - nku) * d_k * (1 - d_k),
                    "estimate": _two_by_two(y_k, y_u, years, np.ones(years.size, bool), years >= k),
                }
            )
    for i, k in enumerate(timing):
        for ell in timing[i + 1 :]:
            rows += _timing_rows(groups, years, k, ell)
    total = sum(r["weight"] for r in rows)
    by_type: dict[str, float] = {}
    for r in rows:
        r["weight"] /= total
        by_type[r["type"]] = by_type.get(r["type"], 0.0) + r["weight"]
    return {
        "estimate": float(sum(r["weight"] * r["estimate"] for r in rows)),
        "comparisons": rows,
        "weight_by_type": by_type,
    }
