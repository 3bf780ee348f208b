"""Everything the verdict on one outcome needs from the aligned design, in one call.

:func:`aligned_summary` runs the primary aligned estimate (linear, LPM in percentage points or
Poisson PML), the aligned event study (pre-test, pointwise and uniform bands) and, for linear
and LPM outcomes, the two alternative estimators whose signs the verdict rule compares
(stacked by intake year, imputation). ``payload()`` is the flat JSON of ``manage.py did
--estimator aligned``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis.did.aligned import AlignedResult, aligned_did
from analysis.did.aligned_alt import imputation_from_panel, stacked_from_panel
from analysis.did.aligned_event import AlignedEventStudyResult, event_study_from_panel
from analysis.did.aligned_panel import prepare_aligned
from analysis.did.aligned_ppml import AlignedRatioResult, aligned_ppml
from analysis.did.panel import PanelError
from analysis.did.twfe import json_safe

MODELS = ("linear", "lpm", "ppml")
PP = 100.0


@dataclass(frozen=True)
class AlignedSummary:
    """The primary aligned estimate with its event study and alternative estimators."""

    model: str
    main: AlignedResult | AlignedRatioResult
    event_study: AlignedEventStudyResult
    alternatives: dict[str, AlignedResult] = field(default_factory=dict)
    event_scale: str = "outcome units"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe nested dictionary."""
        return json_safe(
            {
                "model": self.model,
                "main": self.main.to_dict(),
                "event_study": {**self.event_study.to_dict(), "scale": self.event_scale},
                "alternatives": {k: v.to_dict() for k, v in self.alternatives.items()},
            }
        )

    def payload(self) -> dict[str, Any]:
        """Flat JSON: the main estimate's fields plus ``p``, the event study and alternatives."""
        main = self.main.to_dict()
        att = self.main.effect if isinstance(self.main, AlignedRatioResult) else self.main.att
        return json_safe(
            {
                "estimator": "aligned",
                **main,
                "model": self.model,
                "att": att,
                "p": self.main.p_value,
                "dropped_event_times": self.main.dropped_event_times,
                "event_study": {**self.event_study.to_dict(), "scale": self.event_scale},
                "alternatives": {
                    k: {
                        "att": v.att,
                        "se": v.se,
                        "ci_low": v.ci_low,
                        "ci_high": v.ci_high,
                        "df": v.df,
                        "p": v.p_value,
                        "inference": v.inference,
                    }
                    for k, v in self.alternatives.items()
                },
            }
        )


def _scaled_event_study(es: AlignedEventStudyResult, factor: float) -> AlignedEventStudyResult:
    keys = ("att", "se", "ci_low", "ci_high", "band_low", "band_high")
    rows = [
        {k: (v * factor if k in keys and v is not None else v) for k, v in r.items()}
        for r in es.event
    ]
    return dataclasses.replace(es, event=rows)


def aligned_summary(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    arm: str,
    intake: str,
    outcome: str,
    t0: str = "own",
    model: str = "linear",
    weights: str | None = None,
    inference: str | None = None,
    draws: int = 9999,
    seed: int | None = None,
    level: float = 0.95,
) -> AlignedSummary:
    """The aligned estimate of ``outcome`` (``model`` linear, lpm or ppml) with its companions."""
    if model not in MODELS:
        raise PanelError(f"model must be one of {', '.join(MODELS)}; got {model!r}")
    columns = {"unit": unit, "time": time, "arm": arm, "intake": intake, "outcome": outcome}
    if model == "lpm":
        values = pd.to_numeric(df[outcome], errors="coerce") if outcome in df.columns else None
        if values is not None and not values.dropna().isin([0, 1]).all():
            raise PanelError(f"outcome '{outcome}' must be 0 or 1 for a linear probability model")
    main: AlignedResult | AlignedRatioResult
    if model == "ppml":
        main = aligned_ppml(
            df, **columns, t0=t0, weights=weights, inference=inference or "cr1", level=level
        )
    else:
        main = aligned_did(
            df,
            **columns,
            t0=t0,
            weights=weights,
            inference=inference or "cr2",
            draws=draws,
            seed=seed,
            level=level,
        )
    panel = prepare_aligned(df, **columns, weights=weights)
    es = event_study_from_panel(panel, t0=t0, level=level, outcome=outcome)
    alternatives = {
        "stacked": stacked_from_panel(panel, t0=t0, level=level, outcome=outcome),
        "imputation": imputation_from_panel(panel, t0=t0, level=level, outcome=outcome),
    }
    scale = "outcome units"
    if model == "lpm" and isinstance(main, AlignedResult):
        main = main.scaled(PP, "percentage points", "aligned_lpm")
        es = _scaled_event_study(es, PP)
        alternatives = {
            k: v.scaled(PP, "percentage points", v.estimator) for k, v in alternatives.items()
        }
        scale = "percentage points"
    elif model == "ppml":  # linear companions: their signs and intervals are what the verdict reads
        scale = "outcome units (linear event study and alternatives of the count)"
    return AlignedSummary(
        model=model, main=main, event_study=es, alternatives=alternatives, event_scale=scale
    )
