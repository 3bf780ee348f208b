"""The pre-registered minimum detectable effect of each primary outcome (pure: no Django).

Computed when the plan is frozen, before any post-intake data are analysed, and stored in the
plan's content (``planned_mde``), so the report can put it beside the achieved interval width:

* **design**: the study's own families (arm and intake year of each) with every planned wave
  (T-``pre_intake_years`` ... T``n_waves``) observed; before any family is enrolled, the planned
  numbers of families per arm (the caps, or half the enrolment target each), all with intake in
  the study's start year (stated in ``design_source``);
* **estimator**: the aligned DiD of the plan with CR2 (Satterthwaite df), simulated by
  :func:`analysis.did.diagnostics_robust.mde_part` (AR(1) errors along event time, power on a
  grid of effects, interpolated at the target power);
* **alpha**: the alpha the outcome faces under the plan's multiplicity rule: the plan's alpha
  divided by the number of primary outcomes (the first, strictest step of Holm, equal to
  Bonferroni, and the conservative bound of Romano-Wolf);
* **serial correlation and SD**: the lag-1 correlation and residual SD of the outcome in the
  pre-intake years of the enrolled families (registry years up to T0; a survey outcome has only
  T0); the plan's assumed ``rho`` when it states one or when the pre-intake years cannot carry
  the estimate; without any data on the outcome the MDE is given in standard deviations.

Poisson PML outcomes (counts, costs) are not simulated here (``computed: False`` with the
reason); binary outcomes (LPM) are in percentage points.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from analysis.did.aligned_panel import prepare_aligned
from analysis.did.diagnostics_robust import mde_part, pre_intake_rho
from analysis.did.panel import PanelError, json_safe

#: The assumed lag-1 correlation when neither the data nor the plan give one (stated as such).
FALLBACK_RHO = 0.5
T0_MODE = {"pre_period": "own", "t0_only": "baseline"}
COLS = {"unit": "family_id", "time": "year", "arm": "arm01", "intake": "intake_year"}


def design_panel(
    families: pd.DataFrame, *, pre_years: int, waves: int, outcome: str = "y"
) -> pd.DataFrame:
    """Every planned family-year of ``families`` (columns family_id, arm01, intake_year), the
    outcome a placeholder 0 (the simulation draws its own)."""
    events = np.arange(-pre_years, waves + 1)
    rows = families.loc[families.index.repeat(events.size)].reset_index(drop=True)
    rows["event"] = np.tile(events, len(families))
    rows["year"] = rows["intake_year"] + rows["event"]
    rows[outcome] = 0.0
    return rows.drop(columns="event")


def planned_families(
    enrolled: pd.DataFrame, *, n_intervention: int, n_comparison: int, start_year: int
) -> tuple[pd.DataFrame, str]:
    """The families the MDE is planned for: the enrolled ones, else the planned numbers."""
    if not enrolled.empty and enrolled["arm01"].nunique() == 2:
        out = enrolled[["family_id", "arm01", "intake_year"]].drop_duplicates("family_id")
        return out.reset_index(drop=True), (
            f"{int(out.arm01.sum())} + {int((out.arm01 == 0).sum())} ingeschreven gezinnen "
            "(interventie + vergelijking), elk met hun eigen intakejaar"
        )
    n = n_intervention + n_comparison
    out = pd.DataFrame(
        {
            "family_id": np.arange(n),
            "arm01": np.r_[np.ones(n_intervention), np.zeros(n_comparison)],
            "intake_year": start_year,
        }
    )
    return out, (
        f"{n_intervention} + {n_comparison} geplande gezinnen (interventie + vergelijking), "
        f"aangenomen intake in {start_year}"
    )


def _serial(observed: pd.DataFrame, code: str, t0: str) -> tuple[float | None, float | None, int]:
    """(rho, sd, families) of the outcome in the pre-intake years (None where not estimable)."""
    if observed.empty or code not in observed or observed[code].notna().sum() < 4:
        return None, None, 0
    data = observed.loc[observed["year"] <= observed["intake_year"]]
    data = data[["family_id", "year", "intake_year", "arm01", code]].dropna(subset=[code])
    if data["family_id"].nunique() < 4:
        return None, None, 0
    try:
        panel = prepare_aligned(data, outcome=code, **COLS)
    except PanelError:
        return None, None, 0
    rho, sd = pre_intake_rho(panel)
    rho_ok = math.isfinite(rho) and -1 < rho < 1
    sd_ok = math.isfinite(sd) and sd > 0
    return (rho if rho_ok else None), (sd if sd_ok else None), int(data["family_id"].nunique())


def outcome_mde(
    families: pd.DataFrame,
    observed: pd.DataFrame,
    outcome: dict,
    *,
    pre_years: int,
    waves: int,
    alpha: float,
    power: float,
    rho: float | None,
    reps: int,
    seed: int,
) -> dict[str, Any]:
    """The planned MDE of one plan outcome (a dict with code, model, design)."""
    code, model = outcome["code"], outcome.get("model", "linear")
    base: dict[str, Any] = {"outcome": code, "model": model, "alpha": alpha, "power": power}
    if model == "ppml":
        return {
            **base,
            "computed": False,
            "reason": "voor Poisson PML (aantallen, kosten) is het MDE niet gesimuleerd",
        }
    t0 = T0_MODE.get(outcome.get("design", ""))
    if t0 is None:
        return {
            **base,
            "computed": False,
            "reason": "geen verschil-in-verschillen op intake voor deze uitkomst",
        }
    est_rho, est_sd, n_obs = _serial(observed, code, t0)
    if rho is not None:
        rho_used, rho_source = rho, "aangenomen in het plan"
    elif est_rho is not None:
        rho_used, rho_source = est_rho, f"jaren vóór de intake ({n_obs} gezinnen)"
    else:
        rho_used, rho_source = FALLBACK_RHO, "aangenomen (jaren vóór de intake onvoldoende)"
    scale = 100.0 if model == "lpm" else 1.0
    if est_sd is not None:
        sd_used, unit = est_sd, ("procentpunten" if model == "lpm" else "eenheden van de uitkomst")
        sd_source = f"jaren vóór de intake ({n_obs} gezinnen)"
    else:
        sd_used, unit, scale = 1.0, "standaarddeviaties", 1.0
        sd_source = "geen gegevens: het MDE in standaarddeviaties"
    panel = design_panel(families, pre_years=pre_years, waves=waves, outcome=code)
    try:
        m = mde_part(
            panel,
            cols=COLS,
            outcome=code,
            t0=t0,
            alpha=alpha,
            power=power,
            rho=rho_used,
            sd=sd_used,
            reps=reps,
            seed=seed,
        )
    except PanelError as exc:
        return {**base, "computed": False, "reason": str(exc)}
    return json_safe(
        {
            **base,
            "computed": m["mde"] is not None and math.isfinite(m["mde"]),
            "mde": None if m["mde"] is None else m["mde"] * scale,
            "unit": unit,
            "rho": rho_used,
            "rho_source": rho_source,
            "sd": sd_used * scale,
            "sd_source": sd_source,
            "t0": t0,
            "reps": reps,
            "seed": seed,
            "estimator": m["estimator"],
            "n_families": m["n_families"],
            "power_curve": [{**r, "effect": r["effect"] * scale} for r in m.get("power_curve", [])],
        }
    )


def _simulable(content: dict) -> dict[str, dict]:
    """The plan's primary family outcomes by code: the ones whose MDE is simulated."""
    return {
        o["code"]: o
        for q in content.get("questions", [])
        for o in q.get("outcomes", [])
        if o.get("primary") and q.get("unit", "family") == "family"
    }


def simulated_codes(content: dict) -> set[str]:
    """The primary outcomes of a plan's content that :func:`planned_mde` simulates."""
    return set(_simulable(content)) & set(content.get("primary_outcomes") or [])


def planned_mde(
    content: dict,
    *,
    families: pd.DataFrame,
    observed: pd.DataFrame,
    pre_years: int,
    waves: int,
    design_source: str,
    only: set[str] | None = None,
    default_reps: int = 1000,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, Any]:
    """``planned_mde`` of a plan's content: settings and one entry per primary outcome
    (``only``: just these codes; ``default_reps``: simulations when the plan names none). ``families``: family_id, arm01, intake_year of the planned
    design; ``observed``: family-year rows with the outcomes (pre-intake years are used).
    ``progress(done, total, code)`` is called before each outcome is simulated and once at the end
    (``code`` then empty)."""
    settings = content.get("power") or {}
    primary = list(content.get("primary_outcomes") or [])
    m = max(len(primary), 1)
    alpha = float(content.get("alpha", 0.05)) / m
    outcomes = _simulable(content)
    seed = int(content.get("seed") or 0)
    per: dict[str, Any] = {}
    todo = [c for c in primary if c in outcomes and (only is None or c in only)]
    for done, code in enumerate(todo):
        if progress is not None:
            progress(done, len(todo), code)
        per[code] = outcome_mde(
            families,
            observed,
            outcomes[code],
            pre_years=pre_years,
            waves=waves,
            alpha=alpha,
            power=float(settings.get("power", 0.8)),
            rho=settings.get("rho"),
            reps=int(settings.get("reps", default_reps)),
            seed=seed,
        )
    if progress is not None:
        progress(len(todo), len(todo), "")
    return {
        "alpha": alpha,
        "alpha_rule": f"alpha / m = {content.get('alpha', 0.05)} / {m} (eerste stap van Holm, "
        "gelijk aan Bonferroni)",
        "design_source": design_source,
        "waves": f"T-{pre_years} ... T{waves}, alle metingen aanwezig",
        "outcomes": per,
    }
