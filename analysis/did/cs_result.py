"""What a Callaway & Sant'Anna run returns: group-time effects, aggregations and the pre-test,
with their JSON form (NaN becomes None)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any


class CsError(ValueError):
    """The data or options cannot be used for a Callaway & Sant'Anna analysis."""


@dataclass(frozen=True)
class GroupTime:
    """One group-time average treatment effect ATT(g,t)."""

    group: int
    time: int
    att: float
    se: float
    ci_low: float
    ci_high: float
    base_period: int
    n_treated: int
    n_control: int
    small_cell: bool


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error and confidence interval."""

    att: float
    se: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class LevelEstimate:
    """One level of an aggregation: an event time, a cohort or a calendar period."""

    level: int
    att: float
    se: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class Aggregation:
    """An aggregation of the ATT(g,t): the overall estimate and one estimate per level."""

    kind: str
    overall: Estimate
    levels: tuple[LevelEstimate, ...]
    critical_value: float


@dataclass(frozen=True)
class Pretest:
    """Wald test that every pre-treatment ATT(g,t) is zero."""

    W: float  # the statistic's conventional name
    p: float
    df: int


_LEVEL_KEY = {
    "dynamic": ("event", "e"),
    "group": ("groups", "group"),
    "calendar": ("periods", "time"),
}


@dataclass(frozen=True)
class CsResult:
    """Everything a Callaway & Sant'Anna run produces."""

    group_time: tuple[GroupTime, ...]
    simple: Estimate
    dynamic: Aggregation
    group: Aggregation
    calendar: Aggregation
    pretest: Pretest | None
    control: str
    base_period: str
    method: str
    covariates: tuple[str, ...]
    n_units: int
    n_obs: int
    n_clusters: int
    alpha: float
    inference: str
    bootstrap: int | None
    seed: int | None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (NaN becomes None)."""
        out: dict[str, Any] = {
            "group_time": [_clean(asdict(gt)) for gt in self.group_time],
            "simple": _clean(asdict(self.simple)),
        }
        for agg in (self.dynamic, self.group, self.calendar):
            list_key, level_key = _LEVEL_KEY[agg.kind]
            rows = []
            for lev in agg.levels:
                row = asdict(lev)
                row[level_key] = row.pop("level")
                rows.append(_clean({level_key: row.pop(level_key), **row}))
            out[agg.kind] = {
                "overall": _clean(asdict(agg.overall)),
                list_key: rows,
                "critical_value": _num(agg.critical_value),
            }
        out["pretest"] = None if self.pretest is None else _clean(asdict(self.pretest))
        out["settings"] = {
            "control": self.control,
            "base_period": self.base_period,
            "method": self.method,
            "covariates": list(self.covariates),
            "alpha": self.alpha,
            "inference": self.inference,
            "bootstrap": self.bootstrap,
            "seed": self.seed,
        }
        out["n_units"] = self.n_units
        out["n_obs"] = self.n_obs
        out["n_clusters"] = self.n_clusters
        out["warnings"] = list(self.warnings)
        return out


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (_num(v) if isinstance(v, float) else v) for k, v in d.items()}
