"""One entry point for the statistician's checks of an aligned outcome (issue 14, pure part)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from analysis.did.aligned import aligned_did
from analysis.did.aligned_ppml import aligned_ppml
from analysis.did.diagnostics_parts import balance_part, honest_part, ipw_part
from analysis.did.diagnostics_robust import mde_part, robustness_part
from analysis.did.panel import PanelError

PARTS = ("honest", "balance", "ipw", "robustness", "mde_planned", "ci_width")
MODELS = ("linear", "lpm", "ppml")


def _ci_width(
    df: pd.DataFrame, cols: dict[str, Any], outcome: str, model: str, t0: str, level: float
):
    if model == "ppml":
        r = aligned_ppml(df, **cols, outcome=outcome, t0=t0, robustness=("cr1",), level=level)
        return {"width": r.ci_high - r.ci_low, "scale": r.scale, "inference": r.inference}
    factor = 100.0 if model == "lpm" else 1.0
    res = aligned_did(df, **cols, outcome=outcome, t0=t0, robustness=("cr2",), level=level)
    return {
        "width": (res.ci_high - res.ci_low) * factor,
        "scale": "percentage points" if model == "lpm" else "outcome units",
        "inference": "cr2",
    }


def outcome_diagnostics(
    panel: pd.DataFrame,
    *,
    outcome: str,
    model: str = "linear",
    unit: str = "family",
    time: str = "year",
    arm: str = "arm",
    intake: str = "intake",
    t0: str = "own",
    parts: Mapping[str, bool] | None = None,
    alpha: float = 0.05,
    honest_target: Any = "average",
    mbar: Sequence[float] = (0.5, 1.0, 1.5, 2.0),
    m_grid: Sequence[float] | None = None,
    honest_restrictions: Sequence[str] = ("rm", "sd"),
    sd_method: str = "FLCI",
    balance_variables: Sequence[str] | None = None,
    ipw_covariates: Sequence[str] = (),
    strata: str | None = None,
    blocks: str | None = None,
    randomised: bool = False,
    ri_note: str | None = None,
    draws: int = 999,
    seed: int = 0,
    mde_alpha: float | None = None,
    mde_power: float = 0.8,
    rho: float | None = None,
    mde_reps: int = 2000,
) -> dict[str, Any]:
    """The checks of one aligned outcome, as a JSON-able dict with one key per part.

    Input ``panel``: one row per family and calendar year, columns ``unit`` (family id),
    ``time`` (calendar year), ``arm`` (1 intervention, 0 comparison), ``intake`` (calendar year
    of the family's T0) and ``outcome`` (empty = not observed); event time is ``time - intake``.
    Optional columns: ``balance_variables`` (default: the outcome), ``ipw_covariates`` (values at
    T-1 enter the stay logit), ``strata`` / ``blocks`` (one label per family; randomisation
    inference permutes arm labels within intake year x that label; ``blocks`` wins if both:
    the allocation's permuted blocks or the matched pairs; ``ri_note`` says on the RI line why
    a coarser restriction was used, e.g. blocks not recorded).

    ``model``: ``"linear"`` (outcome units), ``"lpm"`` (0/1 outcome, effects in percentage
    points) or ``"ppml"`` (counts/costs: HonestDiD and the CI width on the log scale; balance
    as for any outcome; ipw, robustness and mde_planned are linear-model parts and are returned
    as not computed). ``t0``: the aligned design's T0 mode ("own", "drop", "baseline").
    ``honest_target``: "average" (T1 ... T4, T0 weight 0), "first" (T1) or ``{event time:
    weight}``; ``mbar`` the Delta^RM grid, ``m_grid`` the Delta^SD grid (default: six values
    up to a bound of the pre-intake slope changes); ``honest_restrictions`` ``("rm", "sd")``.
    ``sd_method``: the Delta^SD test, ``"FLCI"`` (R's default, exact in milliseconds per M:
    :mod:`analysis.did.honest_flci`) or ``"C-LF"`` (the hybrid test R offers for Delta^SD).
    ``alpha``: the level of HonestDiD and of every interval;
    ``mde_alpha``: the alpha this outcome faces under the plan's multiplicity rule (default
    ``alpha``); ``mde_power`` the target power; ``rho``: an assumed lag-1 serial correlation
    (default: estimated from the pre-intake years; needed when only T0 precedes treatment);
    ``mde_reps`` simulated panels per effect. ``draws``: wild-bootstrap and randomisation
    draws; ``seed`` fixes both and the MDE simulation. ``randomised``: True when arms were
    allocated at random (else the RI line is labelled a permutation check).

    ``parts``: switch parts off, e.g. ``{"robustness": False, "mde_planned": False}`` (all on by
    default). Output keys (a part switched off is absent; a part that cannot be computed is
    ``{"computed": False, "reason": ...}``):

    * ``honest``: ``computed``, ``target`` (e.g. "average of T1, T2, T3, T4"), ``target_weights``,
      ``scale``, ``reference``, ``leads``, ``rm`` and ``sd``: each ``restriction``, ``method``
      (C-LF / FLCI), ``parameter`` (Mbar / M), ``estimate``, ``se``, ``original`` interval,
      ``intervals`` ``[{value, ci_low, ci_high}]``, ``breakdown`` (None if significant
      throughout) and ``breakdown_search``.
    * ``balance``: ``[{variable, period ("T-2", "T-1", "T0", "slope T-2 to T0"),
      mean_intervention, mean_comparison, n_intervention, n_comparison, smd, mark}]``.
    * ``ipw``: ``effect``, ``se``, ``ci_low``, ``ci_high``, ``p_value`` (stay-weighted),
      ``unweighted`` {effect, ci_low, ci_high, p_value}, ``retention`` per arm, ``weights``
      (logit bookkeeping), ``lee`` {lower, upper, trimmed_arm, trim_share, ...} or not computed.
    * ``robustness``: ``[{line, method, estimate, ci_low, ci_high, p_value, ...}]`` for cr2,
      cr1, cv3, wild, stacked, imputation, calendar_twfe (with dCDH negative weights), ri.
    * ``mde_planned``: ``mde`` (outcome units; percentage points for lpm), ``alpha``, ``power``,
      ``rho`` and its source, ``sd``, ``reps``, ``power_curve``.
    * ``ci_width``: ``width`` of the main interval, ``scale``, ``inference``.
    """
    if model not in MODELS:
        raise PanelError(f"model must be one of {', '.join(MODELS)}; got {model!r}")
    on = dict.fromkeys(PARTS, True) | dict(parts or {})
    unknown = sorted(set(on) - set(PARTS))
    if unknown:
        raise PanelError(f"unknown diagnostic part(s): {', '.join(unknown)}")
    cols: dict[str, Any] = {"unit": unit, "time": time, "arm": arm, "intake": intake}
    scale = 100.0 if model == "lpm" else 1.0
    level = 1 - alpha
    out: dict[str, Any] = {"outcome": outcome, "model": model}
    linear_only = {"computed": False, "reason": "a linear-model check; not run for Poisson PML"}
    if on["honest"]:
        h = _guard(
            honest_part,
            panel,
            cols=cols,
            outcome=outcome,
            t0=t0,
            model="ppml" if model == "ppml" else "linear",
            target=honest_target,
            mbar=mbar,
            m_grid=m_grid,
            alpha=alpha,
            restrictions=honest_restrictions,
            sd_method=sd_method,
        )
        out["honest"] = _scale_honest(h, scale)
    if on["balance"]:
        out["balance"] = _guard(
            balance_part, panel, cols=cols, variables=list(balance_variables or [outcome])
        )
    if on["ipw"]:
        out["ipw"] = (
            linear_only
            if model == "ppml"
            else _guard(
                ipw_part,
                panel,
                cols=cols,
                outcome=outcome,
                t0=t0,
                covariates=ipw_covariates,
                scale=scale,
                level=level,
            )
        )
    if on["robustness"]:
        out["robustness"] = (
            [linear_only]
            if model == "ppml"
            else _guard(
                robustness_part,
                panel,
                cols=cols,
                outcome=outcome,
                t0=t0,
                strata=strata,
                blocks=blocks,
                randomised=randomised,
                ri_note=ri_note,
                draws=draws,
                seed=seed,
                scale=scale,
                level=level,
            )
        )
    if on["mde_planned"]:
        out["mde_planned"] = (
            linear_only
            if model == "ppml"
            else _mde(
                panel,
                cols=cols,
                outcome=outcome,
                t0=t0,
                alpha=alpha if mde_alpha is None else mde_alpha,
                power=mde_power,
                rho=rho,
                reps=mde_reps,
                seed=seed,
                scale=scale,
            )
        )
    if on["ci_width"]:
        out["ci_width"] = _guard(_ci_width, panel, cols, outcome, model, t0, level)
    return out


def _mde(panel: pd.DataFrame, *, scale: float, **kwargs: Any) -> dict[str, Any]:
    m = _guard(mde_part, panel, **kwargs)
    if m.get("mde") is not None:
        m["mde"] *= scale
    if "power_curve" in m:
        m["sd"] *= scale
        m["power_curve"] = [{**r, "effect": r["effect"] * scale} for r in m["power_curve"]]
    return m


def _guard(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The part's result, or ``{"computed": False, "reason": ...}`` when the data cannot carry it."""
    try:
        return fn(*args, **kwargs)
    except PanelError as exc:
        return {"computed": False, "reason": str(exc)}


def _scale_honest(h: dict[str, Any], factor: float) -> dict[str, Any]:
    if factor == 1.0 or not h.get("computed"):
        return h
    for key in ("rm", "sd"):
        part = h.get(key)
        if not part:
            continue
        part["estimate"] *= factor
        part["se"] *= factor
        part["original"] = {k: v * factor for k, v in part["original"].items()}
        part["intervals"] = [
            {
                **r,
                "ci_low": None if r["ci_low"] is None else r["ci_low"] * factor,
                "ci_high": None if r["ci_high"] is None else r["ci_high"] * factor,
                "value": r["value"] * factor if key == "sd" else r["value"],
            }
            for r in part["intervals"]
        ]
        if key == "sd" and part["breakdown"] is not None:
            part["breakdown"] *= factor
    h["scale"] = "percentage points"
    return h
