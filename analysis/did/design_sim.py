"""Simulated effect studies with crisis entry: both arms selected by the MPG eligibility rule.

The data-generating process (one call of :func:`simulate_study` is one study):

* **Families and problems.** Every candidate household has three latent problem processes, one
  per MPG core domain (socio-economic, adult psychosocial, child psychosocial), in calendar
  years 2018-2026. Domain ``d`` in year ``t`` is ``z_dt = sqrt(h) a_d + sqrt(1 - h) u_dt``: a
  family-and-domain level ``a_d`` (share ``h`` = ``family_share`` of the variance) and an AR(1)
  process ``u_dt = rho u_d,t-1 + sqrt(1 - rho^2) v_dt`` started from its stationary law, so
  ``Var(z) = 1``. Levels and innovations are correlated across domains (``domain_corr``)
  through a common factor.
* **Eligibility at a crisis** (the study's rule, in both arms): in year ``t`` all three domains
  are above ``problem_threshold`` (problems in three domains) and the household received support
  in each of the two preceding years, modelled as the mean problem level above
  ``support_threshold`` in ``t-1`` and ``t-2``. A family's intake year (its T0) is the first
  year of the three-year intake window 2020-2022 in which it meets the rule; households that never
  do are not enrolled. Candidates are drawn until 40 intervention and 40 comparison families are
  enrolled; both arms come from the same population (a matched comparison group).
* **Outcomes** are driven by the standardised mean problem level ``L_t`` (population SD 1 minus
  the noise below) plus calendar-year effects ``calendar`` (common to everyone):
  registry continuous ``L + e``; survey continuous ``L + e'`` measured from T0 (the intake visit)
  only; binary ``1[L + e'' > binary_threshold]`` (a linear probability outcome); count
  ``Poisson(exp(count_intercept + count_slope (L + c) + f))`` with overdispersion
  ``f ~ N(0, count_dispersion^2)``. ``e, e', e'' ~ N(0, noise_var)`` independent; the population
  SD of the continuous outcomes is 1, so their effects are in SD units.
* **Effect.** The approach lowers ``L`` by ``g(e)`` in year ``e`` since intake: ``null`` 0,
  ``constant`` ``effect_size`` (-0.4), ``growing`` ``growth * e`` (-0.16 e, -0.64 at T4). It starts
  at a uniformly distributed date within the intake year, so the registry T0 is partly treated
  (effect ``(1 - U) g(1)``, ``U`` the share of the year before the start); the survey T0 is taken
  at the intake visit, before the start, and is untreated.
* **Waves.** Registry outcomes T-2 ... T4 (the two years before intake are retrieved from the
  registries), survey outcomes T0 ... T4.
* **Attrition** completely at random: a share ``attrition`` of the families is lost from a wave
  drawn uniformly from T1 ... T4 on (all their later rows are missing).
* **Deeper crisis** (a violation the design checks must flag): the intervention families'
  ``L`` is ``deeper`` SD higher in their intake year, decaying by ``rho`` per year after it
  (``deeper * rho^e`` for ``e >= 0``), i.e. they entered at a deeper, transient crisis.

True effects (what an estimator's post average is compared with) are means over the intervention
family-years observed after intake (T1 ... T4): the shift ``g(e)`` for the continuous outcomes,
the change in probability ``P(L - g + e'' > c) - P(L + e'' > c)`` given ``L`` for the binary one,
and for the count the log of the ratio of expected counts with and without the effect summed over
those family-years (what Poisson PML's ``b`` estimates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

FIRST_YEAR = 2018
OUTCOMES = ("registry", "survey", "binary", "count")
EFFECTS = ("null", "constant", "growing")


@dataclass(frozen=True)
class CrisisDesign:
    """Parameters of the crisis-entry study (defaults: the study's design, rho 0.5)."""

    n_intervention: int = 40
    n_comparison: int = 40
    rho: float = 0.5
    window: tuple[int, int, int] = (2020, 2021, 2022)
    pre_years: int = 2
    post_years: int = 4
    family_share: float = 0.25
    domain_corr: float = 0.5
    problem_threshold: float = 1.0
    support_threshold: float = 0.0
    noise_var: float = 0.3
    binary_threshold: float = 0.5
    count_intercept: float = 0.0
    count_slope: float = 0.6
    count_dispersion: float = 0.25
    effect: str = "null"
    effect_size: float = -0.4
    growth: float = -0.16
    attrition: float = 0.0
    deeper: float = 0.0
    calendar: tuple[float, ...] = (0.0, 0.05, 0.2, 0.15, 0.05, 0.0, -0.05, -0.1, -0.1)
    batch: int = 1500

    @property
    def n_years(self) -> int:
        return self.window[-1] + self.post_years - FIRST_YEAR + 1

    def effect_at(self, e: np.ndarray) -> np.ndarray:
        """``g(e)``: the full-year effect on ``L`` at years since intake ``e >= 1``."""
        e = np.asarray(e, dtype=float)
        if self.effect == "null":
            return np.zeros_like(e)
        if self.effect == "constant":
            return np.full_like(e, self.effect_size)
        if self.effect == "growing":
            return self.growth * e
        raise ValueError(f"unknown effect scenario {self.effect!r}; use one of {EFFECTS}")


@dataclass
class SimulatedStudy:
    """One simulated study in long form: one row per family and registry year (T-2 ... T4)."""

    unit: np.ndarray
    year: np.ndarray
    arm: np.ndarray
    intake: np.ndarray
    event: np.ndarray
    outcomes: dict[str, np.ndarray]  # survey is NaN before T0
    untreated: dict[str, np.ndarray]  # the same outcomes without the effect (shared noise)
    truth: dict[str, float]

    def frame(self) -> pd.DataFrame:
        """The study as a DataFrame (columns family, year, arm, intake and the outcomes)."""
        return pd.DataFrame(
            {
                "family": self.unit,
                "year": self.year,
                "arm": self.arm,
                "intake": self.intake,
                **self.outcomes,
            }
        )


def _latent_domains(n: int, design: CrisisDesign, rng: np.random.Generator) -> np.ndarray:
    """Domain problem levels ``z`` of ``n`` candidates: array (n, 3, years)."""
    c, h, rho = design.domain_corr, design.family_share, design.rho
    T = design.n_years
    level = math.sqrt(c) * rng.normal(size=(n, 1)) + math.sqrt(1 - c) * rng.normal(size=(n, 3))
    shocks = math.sqrt(c) * rng.normal(size=(n, 1, T)) + math.sqrt(1 - c) * rng.normal(
        size=(n, 3, T)
    )
    u = np.empty((n, 3, T))
    u[:, :, 0] = shocks[:, :, 0]
    scale = math.sqrt(1 - rho * rho)
    for k in range(1, T):
        u[:, :, k] = rho * u[:, :, k - 1] + scale * shocks[:, :, k]
    return math.sqrt(h) * level[:, :, None] + math.sqrt(1 - h) * u


def _intake_year(z: np.ndarray, design: CrisisDesign) -> np.ndarray:
    """First window year (index into the years) in which the rule is met, or -1."""
    three = np.all(z > design.problem_threshold, axis=1)  # (n, T)
    support: np.ndarray = z.mean(axis=1) > design.support_threshold
    first = np.full(z.shape[0], -1)
    for year in reversed(design.window):
        k = year - FIRST_YEAR
        ok = three[:, k] & support[:, k - 1] & support[:, k - 2]
        first = np.where(ok, k, first)
    return first


def enrol(n: int, design: CrisisDesign, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` eligible families: mean problem level (n, years) and intake-year index (n,)."""
    paths, intakes = [], []
    found = 0
    while found < n:
        z = _latent_domains(design.batch, design, rng)
        k = _intake_year(z, design)
        ok = k >= 0
        paths.append(z[ok].mean(axis=1))
        intakes.append(k[ok])
        found += int(ok.sum())
    return np.concatenate(paths)[:n], np.concatenate(intakes)[:n]


def enrol_domains(
    n: int, design: CrisisDesign, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` eligible families: their three domain paths (n, 3, years) and intake-year index."""
    paths, intakes = [], []
    found = 0
    while found < n:
        z = _latent_domains(design.batch, design, rng)
        k = _intake_year(z, design)
        ok = k >= 0
        paths.append(z[ok])
        intakes.append(k[ok])
        found += int(ok.sum())
    return np.concatenate(paths)[:n], np.concatenate(intakes)[:n]


def _standardise(zbar: np.ndarray, design: CrisisDesign) -> np.ndarray:
    c = design.domain_corr
    var_mean = (1 + 2 * c) / 3  # variance of the mean of three domains with correlation c
    return zbar * math.sqrt((1 - design.noise_var) / var_mean)


def _long_rows(design: CrisisDesign, intake_idx: np.ndarray) -> dict[str, np.ndarray]:
    n = intake_idx.size
    e = np.arange(-design.pre_years, design.post_years + 1)
    unit = np.repeat(np.arange(n), e.size)
    event = np.tile(e, n)
    col = intake_idx[unit] + event
    return {"unit": unit, "event": event, "col": col}


def _attrition_mask(
    design: CrisisDesign, n: int, unit: np.ndarray, event: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    lost = rng.random(n) < design.attrition
    from_wave = rng.integers(1, design.post_years + 1, size=n)
    return ~(lost[unit] & (event >= from_wave[unit]))


def _effects(
    design: CrisisDesign, event: np.ndarray, treated: np.ndarray, start: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Effect on ``L`` per row for registry outcomes and for the survey (untreated at T0)."""
    full = np.where(event >= 1, design.effect_at(np.maximum(event, 1)), 0.0)
    t0 = np.where(event == 0, (1 - start) * design.effect_at(np.ones_like(start)), 0.0)
    registry = treated * (full + t0)
    return registry, treated * full


def simulate_study(design: CrisisDesign, rng: np.random.Generator) -> SimulatedStudy:
    """One study: 40 + 40 families enrolled at a crisis, outcomes and true effects."""
    n1, n0 = design.n_intervention, design.n_comparison
    zbar, intake_idx = enrol(n1 + n0, design, rng)  # iid families: the first n1 are intervention
    latent = _standardise(zbar, design) + np.asarray(design.calendar)[None, : design.n_years]
    arm_u = np.r_[np.ones(n1), np.zeros(n0)]
    rows = _long_rows(design, intake_idx)
    unit, event, col = rows["unit"], rows["event"], rows["col"]
    arm = arm_u[unit]
    L = latent[unit, col]
    if design.deeper:
        L = L + arm * np.where(event >= 0, design.deeper * design.rho ** np.maximum(event, 0), 0.0)
    start = rng.random(n1 + n0)[unit]
    eff_reg, eff_survey = _effects(design, event, arm, start)
    sd = math.sqrt(design.noise_var)
    m = unit.size
    noise = {k: rng.normal(0.0, sd, m) for k in ("registry", "survey", "binary")}
    overdispersion = rng.normal(0.0, design.count_dispersion, m)
    mu0 = np.exp(design.count_intercept + design.count_slope * L + overdispersion)
    mu1 = mu0 * np.exp(design.count_slope * eff_reg)
    count1 = rng.poisson(mu1).astype(float)
    count0 = rng.poisson(mu0).astype(float)  # an untreated draw, for the outcome's SD only
    c = design.binary_threshold
    untreated = {
        "registry": L + noise["registry"],
        "survey": np.where(event >= 0, L + noise["survey"], np.nan),
        "binary": (L + noise["binary"] > c).astype(float),
        "count": count0,
    }
    outcomes = {
        "registry": untreated["registry"] + eff_reg,
        "survey": untreated["survey"] + eff_survey,
        "binary": (L + eff_reg + noise["binary"] > c).astype(float),
        "count": count1,
    }
    keep = _attrition_mask(design, n1 + n0, unit, event, rng)
    post = keep & (arm == 1) & (event >= 1)
    p_shift = stats.norm.cdf((L + eff_reg - c) / sd) - stats.norm.cdf((L - c) / sd)
    w = np.exp(design.count_slope * L)
    truth = {
        "registry": float(eff_reg[post].mean()),
        "survey": float(eff_survey[post].mean()),
        "binary": float(p_shift[post].mean()),
        "count": float(
            np.log(np.sum((w * np.exp(design.count_slope * eff_reg))[post]) / w[post].sum())
        ),
    }
    year = FIRST_YEAR + col
    intake = FIRST_YEAR + intake_idx[unit]
    return SimulatedStudy(
        unit=unit[keep],
        year=year[keep],
        arm=arm[keep],
        intake=intake[keep],
        event=event[keep],
        outcomes={k: v[keep] for k, v in outcomes.items()},
        untreated={k: v[keep] for k, v in untreated.items()},
        truth=truth,
    )
