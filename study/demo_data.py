"""The demo study's data, generated without Django (tests and benchmarks call it directly).

:func:`generate_demo` draws a study like the real one, with **crisis entry**: both arms are
selected by the study's own eligibility rule, so their problems peak at intake and fall by
themselves afterwards (regression to the mean), in both arms.

* **Problems.** Every candidate household has three latent problem processes, one per MPG core
  domain (socio-economic, adult psychosocial, child psychosocial), in calendar years 2018-2026:
  a family level plus an AR(1) process with rho = 0.5, correlated across domains
  (analysis/did/design_sim.py, :class:`CrisisDesign` defaults).
* **Eligibility** (both arms): in its intake year all three domains are above 1 SD (problems in
  three domains at T0) and the mean problem level was above average in each of the two years
  before (support in T-2 and T-1). A household's intake year is the first of 2020-2022 in which
  it meets the rule, its intake date a uniform day of that year. 40 intervention and 40
  comparison households are drawn from the same population. A comparison family's intake date
  is the date it first met the rule, as recorded at enrolment.
* **Outcomes** follow the problem level of their domain in the registry year: benefits, low
  income and debt help the socio-economic domain; police, adult mental-health and addiction care
  the adult psychosocial domain; youth care, youth protection and child police the child domain;
  the number of care workers and the survey scores the mean level. Surveys are taken from T0
  (the intake visit, before the approach starts) on; registry values also for T-2 and T-1.
* **The approach** starts on the intake date, so the registry year T0 is partly treated (the
  share of the year after the intake date) and T1 on fully; surveys at T0 are untreated.

The documented truth (:data:`TRUE_EFFECTS`, :data:`NULL_OUTCOMES`): effects below on the listed
outcomes of the intervention arm, none on the null outcomes. Outcomes in neither list are
affected indirectly (any youth care and repeated care through ambulant youth care, costs through
benefits and youth care) or are not DiD outcomes (contacts exist only after intake) and are not
checked against a truth; the professionals' smaller effects (:data:`SMALL_EFFECTS`) are
documented but not checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from dateutil.relativedelta import relativedelta

from analysis.did.design_sim import FIRST_YEAR, CrisisDesign, enrol_domains

DEMO_SEED = 1
DEMO_AS_OF = date(2026, 11, 22)
N_PER_ARM = 40
INTAKE_YEARS = (2020, 2021, 2022)
PRE_YEARS, N_WAVES = 2, 4
TZ = ZoneInfo("Europe/Amsterdam")
#: The eligibility rule and problem process (analysis/did/design_sim.py documents each field).
CRISIS = CrisisDesign(n_intervention=N_PER_ARM, n_comparison=N_PER_ARM, rho=0.5)

# Effects of the approach on the intervention arm from its start (documented truth).
# Receiving bijstand: 1 when a household's lasting benefit propensity (N(0, 1)) plus 0.35 times
# its socio-economic problem level plus yearly noise (N(0, 0.5^2)) exceeds 0.2 minus the common
# trend; the approach lowers that index by 1.5 (about -30 percentage points in the probability).
BIJSTAND_SHIFT = -1.5
AMBULANT_LOG_RATE = -0.8  # ambulant youth-care trajectories: exp(-0.8) - 1 = -55 %
CARE_WORKERS_SHIFT = -2.0  # care workers involved with the family
SATISFACTION_SHIFT = 1.8  # points on 0-10
REACHABILITY_SHIFT = 1.8  # points on 0-10
JOB_SATISFACTION_SHIFT = 2.0  # professionals of the new approach, from 2021 (calendar design)

TRUE_EFFECTS: dict[str, dict[str, Any]] = {
    "receives_bijstand": {
        "effect": BIJSTAND_SHIFT,
        "unit": "benefit index (about -30 percentage points in the probability)",
        "direction": "decrease",
    },
    "youth_care_ambulant": {
        "effect": AMBULANT_LOG_RATE,
        "unit": "log-rate (exp(-0.8) - 1 = -55 %)",
        "direction": "decrease",
    },
    "n_care_workers": {
        "effect": CARE_WORKERS_SHIFT,
        "unit": "care workers",
        "direction": "decrease",
    },
    "satisfaction": {
        "effect": SATISFACTION_SHIFT,
        "unit": "points (0-10)",
        "direction": "increase",
    },
    "reachability": {
        "effect": REACHABILITY_SHIFT,
        "unit": "points (0-10)",
        "direction": "increase",
    },
    "job_satisfaction": {
        "effect": JOB_SATISFACTION_SHIFT,
        "unit": "points (0-10)",
        "direction": "increase",
    },
}
#: Smaller true effects of the approach on the professionals (from 2021, 1-5 scales; the
#: numbers in _professionals), documented but not checked: with 12 + 12 professionals the demo
#: is not powered to find them every time.
SMALL_EFFECTS: dict[str, dict[str, Any]] = {
    "autonomy": {"effect": 0.6, "unit": "points (1-5)", "direction": "increase"},
    "pride": {"effect": 0.5, "unit": "points (1-5)", "direction": "increase"},
    "cooperation": {"effect": 0.7, "unit": "points (1-5)", "direction": "increase"},
}
NULL_OUTCOMES: list[str] = [
    "any_police",
    "police_offences",
    "below_low_income",
    "quality_of_life",
    "qol_mansa12",  # MANSA-12 v1 mean: the instrument's score, a null like the single item
    "participation_step",
    "child_protection",
    "parent_mental_health_care",
]

ALMELO_WIJKEN = {  # households with a child, 2014 (almelo_wijken_2014.csv): sampling weights
    "Binnenstad": 378,
    "De Riet": 855,
    "Noorderkwartier": 537,
    "Sluitersveld": 663,
    "Wierdense Hoek": 741,
    "Nieuwstraat-Kwartier": 407,
    "Ossenkoppelerhoek": 940,
    "Hofkamp": 445,
    "Schelfhorst": 1286,
    "Windmolenbroek": 1914,
    "Aadorp": 186,
    "Bornerbroek": 203,
}
ORGANISATIONS = [
    ("Jeugdbescherming Overijssel", "jeugdbeschermer"),
    ("Mediant GGZ", "behandelaar GGZ"),
    ("Tactus Verslavingszorg", "verslavingsarts"),
    ("Schuldhulp Almelo", "schuldhulpverlener"),
    ("Karakter", "kinderpsychiater"),
    ("Sociaal Wijkteam", "maatschappelijk werker"),
    ("Humanitas", "vrijwillige thuisadministratie"),
    ("Jarabee", "jeugdhulpverlener"),
    ("UWV", "re-integratiecoach"),
    ("Scholenkring", "schoolmaatschappelijk werker"),
]
POLICE_KINDS = (
    "murder",
    "sexual",
    "property",
    "assault",
    "threat",
    "vandalism",
    "traffic",
    "economic",
    "drugs",
    "other",
)
CONTACT_KINDS = ("home_visit", "phone", "video", "mdo")


@dataclass
class DemoFamily:
    """One generated family: who, when, and everything recorded about it."""

    arm: str
    intake: date
    wijk: str
    members: list[tuple[str, int, str]]  # (role, birth year, relation)
    coach: str  # demo username
    dropout_after: int | None  # last completed wave index; None: stays
    dropout_status: str = ""
    last_day: date = DEMO_AS_OF
    benefit_propensity: float = 0.0  # lasting differences between households in benefit use
    problems: dict[int, tuple[float, float, float]] = field(default_factory=dict)
    wave_status: dict[int, str] = field(default_factory=dict)  # completed | missed | planned
    completed: dict[int, date] = field(default_factory=dict)
    indicators: dict[int, dict[str, float | None]] = field(default_factory=dict)  # None: missing
    surveys: dict[int, dict[str, Any]] = field(default_factory=dict)
    # wave index -> instrument code -> item answers (None: refused), see _instrument_answers
    instruments: dict[int, dict[str, dict[str, int | None]]] = field(default_factory=dict)
    involvements: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class DemoProfessional:
    approach: str  # new | usual
    organisation: str
    coach: str | None
    surveys: dict[int, dict[str, int]] = field(default_factory=dict)


@dataclass
class DemoData:
    seed: int
    today: date
    families: list[DemoFamily]
    professionals: list[DemoProfessional]


def _p(x: float) -> float:
    return min(max(x, 0.001), 0.999)


def _clip(x: float, lo: int, hi: int) -> int:
    return int(min(max(round(x), lo), hi))


def treated_share(arm: str, intake: date, index: int) -> float:
    """The share of the registry year ``intake.year + index`` under the approach."""
    if arm != "intervention" or index < 0:
        return 0.0
    if index >= 1:
        return 1.0
    days = (date(intake.year + 1, 1, 1) - date(intake.year, 1, 1)).days
    return (date(intake.year + 1, 1, 1) - intake).days / days


def _indicator_values(
    rng: np.random.Generator, fam: DemoFamily, index: int, n_children: int
) -> dict[str, float]:
    se, ap, cp = fam.problems[index]
    share = treated_share(fam.arm, fam.intake, index)
    trend = -0.02 * (fam.intake.year + index - FIRST_YEAR)  # common secular trend, both arms

    def persons(p: float, k: int = 1) -> float:
        return float(rng.binomial(k, _p(p)))

    def euros(p: float, mean: float) -> float:
        if rng.random() < _p(p):
            return float(round(rng.lognormal(math.log(mean), 0.6), 2))
        return 0.0

    bijstand_index = fam.benefit_propensity + 0.35 * se + rng.normal(0, 0.5) + trend
    on_bijstand = bijstand_index + BIJSTAND_SHIFT * share > 0.2
    v = {
        "bijstand": float(on_bijstand) * (2.0 if rng.random() < 0.1 else 1.0),
        "ww": persons(0.10),
        "disability_benefit": persons(0.22 + 0.05 * se),
        "other_benefit": persons(0.10),
        "low_income": float(rng.random() < _p(0.40 + 0.10 * se)),
        "moves": float(rng.poisson(0.35)),
        "debt_help": float(rng.random() < _p(0.30 + 0.08 * se)),
        "adult_ggz_basic_eur": euros(0.2, 450),
        "adult_ggz_specialised_eur": euros(0.28 + 0.08 * ap, 3200),
        "adult_awbz_psychosocial": persons(0.06),
        "adult_awbz_intellectual": persons(0.03),
        "adult_awbz_physical": persons(0.04),
        "adult_addiction_care": float(rng.random() < _p(0.08 + 0.04 * ap)),
        "adult_outreach_care": float(rng.random() < 0.07),
    }
    police_rate = 0.12 * math.exp(0.4 * ap)
    for kind in POLICE_KINDS:
        rate = {"murder": 0.002, "assault": police_rate * 1.5, "property": police_rate}.get(
            kind, police_rate / 3
        )
        v[f"adult_police_{kind}"] = float(rng.poisson(rate))
    ambulant_rate = 1.0 * math.exp(0.35 * cp) * math.exp(AMBULANT_LOG_RATE * share)
    v.update(
        {
            "child_ggz_basic_eur": euros(0.18, 400),
            "child_ggz_specialised_eur": euros(0.30 + 0.05 * cp, 2500),
            "child_youth_care_ambulant": float(min(rng.poisson(ambulant_rate), 20)),
            "child_youth_care_day_treatment": persons(0.12),
            "child_youth_care_residential_days": float(rng.integers(30, 366))
            if rng.random() < 0.05
            else 0.0,
            "child_youth_probation": persons(0.06),
            "child_awbz_psychosocial": persons(0.04),
            "child_awbz_intellectual": persons(0.02),
            "child_awbz_physical": persons(0.02),
            "child_police_offences": float(rng.poisson(0.15 * math.exp(0.3 * cp))),
            "child_ots": persons(0.16 + 0.06 * cp, min(n_children, 2)),
            "child_guardianship": persons(0.02),
            "child_foster_care_days": float(rng.integers(60, 366)) if rng.random() < 0.07 else 0.0,
        }
    )
    return v


def _survey(rng: np.random.Generator, fam: DemoFamily, index: int) -> dict[str, Any]:
    """The wave's survey; T0 is the intake visit, before the approach starts (untreated)."""
    treated = fam.arm == "intervention" and index >= 1
    level = float(np.mean(fam.problems[index]))
    survey: dict[str, Any] = {
        "satisfaction": _clip(
            rng.normal(5.5 - 0.4 * level + (SATISFACTION_SHIFT if treated else 0), 1.3), 0, 10
        ),
        "qol_instrument": "Cantril ladder",
        "qol_rating": _clip(rng.normal(6.0 - 0.5 * level, 1.3), 0, 10),
        "participation_step": _clip(rng.normal(2.8 - 0.3 * level + 0.1 * index, 0.9), 1, 6),
        "reachability": _clip(
            rng.normal(5.2 - 0.2 * level + (REACHABILITY_SHIFT if treated else 0), 1.4), 0, 10
        ),
        "missing_codes": {},
    }
    survey["qol_score"] = survey["qol_rating"] * 10
    if rng.random() < 0.05:
        survey["participation_step"] = None
        survey["missing_codes"] = {"participation_step": "refused"}
    return survey


def _involvements(rng: np.random.Generator, fam: DemoFamily) -> list[dict[str, Any]]:
    """Care workers over time, driven by the problem level; the approach sheds about two."""
    rows: list[dict[str, Any]] = []
    open_rows: list[dict[str, Any]] = []
    last_day = fam.last_day
    for index in range(-PRE_YEARS, N_WAVES + 1):
        year = fam.intake.year + index
        if year > last_day.year:
            break
        level = float(np.mean(fam.problems[index]))
        share = treated_share(fam.arm, fam.intake, index)
        target = max(
            1, int(round(3.8 + 0.8 * level + rng.normal(0, 0.6) + CARE_WORKERS_SHIFT * share))
        )
        jan1 = date(year, 1, 1)
        while len(open_rows) > target:
            row = open_rows.pop(int(rng.integers(len(open_rows))))
            end = min(jan1 + timedelta(days=int(rng.integers(0, 60))), last_day)
            row["end_date"] = max(end, row["start_date"])
        while len(open_rows) < target:
            org, discipline = ORGANISATIONS[int(rng.integers(len(ORGANISATIONS)))]
            start = jan1 + timedelta(days=int(rng.integers(0, 60)))
            row = {
                "organisation": org,
                "discipline": discipline,
                "start_date": min(start, last_day),
                "end_date": None,
            }
            rows.append(row)
            open_rows.append(row)
    return rows


def _contacts(rng: np.random.Generator, fam: DemoFamily) -> list[dict[str, Any]]:
    rows = []
    day = fam.intake
    while day <= fam.last_day:
        first_year = (day - fam.intake).days < 365
        per_month = (3.0 if first_year else 1.6) if fam.arm == "intervention" else 0.8
        day += timedelta(days=max(1, int(rng.exponential(30 / per_month))))
        if day > fam.last_day:
            break
        kind = CONTACT_KINDS[int(rng.choice(4, p=[0.5, 0.3, 0.1, 0.1]))]
        at = datetime(
            day.year,
            day.month,
            day.day,
            int(rng.integers(8, 18)),
            int(rng.integers(0, 4)) * 15,
            tzinfo=TZ,
        )
        family_asked = rng.random() < 0.3
        wait_hours = rng.exponential(20 if fam.arm == "intervention" else 60)
        rows.append(
            {
                "occurred_at": at,
                "kind": kind,
                "duration_minutes": int(rng.choice([15, 30, 45, 60, 90]))
                if kind != "phone"
                else 15,
                "initiated_by": "family" if family_asked else "coach",
                "requested_at": at - timedelta(hours=float(wait_hours)) if family_asked else None,
            }
        )
    return rows


def _members(rng: np.random.Generator, intake_year: int) -> list[tuple[str, int, str]]:
    adults = [("adult", int(rng.integers(1975, 1996)), "parent")]
    if rng.random() < 0.45:
        adults.append(("adult", int(rng.integers(1972, 1998)), "partner"))
    children = [
        ("child", int(rng.integers(intake_year - 16, intake_year)), "child")
        for _ in range(int(rng.integers(1, 5)))
    ]
    return adults + children


def _families(rng: np.random.Generator) -> list[DemoFamily]:
    z, intake_idx = enrol_domains(2 * N_PER_ARM, CRISIS, rng)
    weights = np.array(list(ALMELO_WIJKEN.values()), dtype=float)
    wijken = list(ALMELO_WIJKEN)
    # Every wijk has at least one family, the rest in proportion to its households with a child.
    n = 2 * N_PER_ARM
    drawn = rng.choice(len(wijken), size=n - len(wijken), p=weights / weights.sum())
    wijk_of = rng.permutation(np.r_[np.arange(len(wijken)), drawn])
    families = []
    # 15 % attrition (12 of 80 families), completely at random, after T0, T1 or T2.
    leaving = set(rng.choice(2 * N_PER_ARM, size=round(0.15 * 2 * N_PER_ARM), replace=False))
    for i in range(2 * N_PER_ARM):
        arm = "intervention" if i < N_PER_ARM else "comparison"
        k = i if i < N_PER_ARM else i - N_PER_ARM
        year = FIRST_YEAR + int(intake_idx[i])
        intake = date(year, 1, 1) + timedelta(days=int(rng.integers(0, 365 if year % 4 else 366)))
        dropout_after, status = None, ""
        if i in leaving:
            dropout_after = int(rng.integers(0, 3))
            status = str(rng.choice(["dropped_out", "moved_away"]))
        coach = f"coach{k % 4 + 1}" if arm == "intervention" else f"coach{5 + k % 2}"
        fam = DemoFamily(
            arm=arm,
            intake=intake,
            wijk=wijken[int(wijk_of[i])],
            members=_members(rng, year),
            coach=coach,
            dropout_after=dropout_after,
            dropout_status=status,
            benefit_propensity=float(rng.normal(0, 1)),
        )
        for index in range(-PRE_YEARS, N_WAVES + 1):
            col = int(intake_idx[i]) + index
            fam.problems[index] = tuple(float(x) for x in z[i, :, col])  # type: ignore[assignment]
        families.append(fam)
    return families


def _fill_family(rng: np.random.Generator, fam: DemoFamily, today: date) -> None:
    if fam.dropout_after is not None:
        fam.last_day = min(today, fam.intake + timedelta(days=365 * fam.dropout_after + 180))
    else:
        fam.last_day = today
    n_children = sum(1 for m in fam.members if m[0] == "child")
    for index in range(-PRE_YEARS, N_WAVES + 1):
        due = fam.intake + relativedelta(months=12 * index) if index >= 0 else None
        observed = index < 0 or (due is not None and due <= today)
        dropped = fam.dropout_after is not None and index > fam.dropout_after
        if index >= 0:
            if dropped and observed:
                fam.wave_status[index] = "missed"
            elif observed and due is not None:
                fam.wave_status[index] = "completed"
                fam.completed[index] = due + timedelta(days=int(rng.integers(0, 40)))
            else:
                fam.wave_status[index] = "planned"
        if not observed or dropped:
            continue
        values: dict[str, float | None] = {}
        for code, number in _indicator_values(rng, fam, index, n_children).items():
            values[code] = None if rng.random() < 0.015 else round(number, 2)
        fam.indicators[index] = values
        if index >= 0:
            fam.surveys[index] = _survey(rng, fam, index)
    fam.involvements = _involvements(rng, fam)
    fam.contacts = _contacts(rng, fam)


def _professionals(rng: np.random.Generator, today: date) -> list[DemoProfessional]:
    pros = []
    for i in range(24):
        pro = DemoProfessional(
            approach="new" if i < 12 else "usual",
            organisation="Gemeente Almelo" if i % 2 else "Sociaal Wijkteam",
            coach=f"coach{i + 1}" if i < 6 else None,
        )
        base = rng.normal(0, 0.8)
        for year in range(2020, today.year + 1):
            running = pro.approach == "new" and year >= 2021  # effects: SMALL_EFFECTS too
            pro.surveys[year] = {
                "job_satisfaction": _clip(
                    5.5 + base + (JOB_SATISFACTION_SHIFT if running else 0) + rng.normal(0, 0.6),
                    0,
                    10,
                ),
                "autonomy": _clip(
                    3.0 + 0.4 * base + (0.6 if running else 0) + rng.normal(0, 0.5), 1, 5
                ),
                "pride": _clip(
                    3.2 + 0.4 * base + (0.5 if running else 0) + rng.normal(0, 0.5), 1, 5
                ),
                "competence": _clip(3.5 + 0.3 * base + rng.normal(0, 0.5), 1, 5),
                "cooperation": _clip(2.8 + (0.7 if running else 0) + rng.normal(0, 0.6), 1, 5),
            }
        pros.append(pro)
    return pros


#: The demo's multi-item instrument at every completed wave from T0: MANSA-12 (instruments/
#: definitions/mansa12.v1.yaml; its item codes, checked against the file in the tests). Quality of
#: life is a documented null: the items follow the family's problem level, never the arm.
DEMO_INSTRUMENT = ("mansa12", 1)
MANSA_ITEMS = (
    "life", "work", "finances", "friends", "leisure", "housing", "safety", "household",
    "sex_life", "family", "physical_health", "mental_health",
)  # fmt: skip


def _instrument_answers(rng: np.random.Generator, fam: DemoFamily, index: int) -> dict:
    """MANSA-12 at one wave: a family level from the problems (no arm effect), item noise, and
    now and then a refused item (sex life most often), so the 10-of-12 rule leaves a few
    administrations unscored."""
    level = float(np.mean(fam.problems[index]))
    latent = 4.3 - 0.35 * level + rng.normal(0, 0.6)
    answers: dict[str, int | None] = {
        item: _clip(latent + rng.normal(0, 0.9), 1, 7) for item in MANSA_ITEMS
    }
    if rng.random() < 0.15:
        answers["sex_life"] = None
    if rng.random() < 0.03:
        for item in rng.choice(MANSA_ITEMS, size=3, replace=False):
            answers[str(item)] = None
    return answers


def generate_demo(seed: int = DEMO_SEED, today: date = DEMO_AS_OF) -> DemoData:
    """The demo study's families and professionals for ``seed`` (pure: no database)."""
    rng = np.random.default_rng(seed)
    families = _families(rng)
    for fam in families:
        _fill_family(rng, fam, today)
    data = DemoData(seed, today, families, _professionals(rng, today))
    # The instruments draw from their own stream, so adding them changed no other demo value.
    instrument_rng = np.random.default_rng([seed, 22])
    for fam in families:
        for index in sorted(fam.surveys):
            fam.instruments[index] = {
                DEMO_INSTRUMENT[0]: _instrument_answers(instrument_rng, fam, index)
            }
    return data


def demo_frames(data: DemoData) -> dict[str, Any]:
    """The frames an analysis run reads (study/panels.py's columns), straight from ``data``.

    Family ids are 1 ... n in generation order; the professionals' ids 1 ... 24. Costs are not
    computed here (they need the price catalogue in the database).
    """
    import pandas as pd

    fam_rows, wide_rows, survey_rows, inv_rows, contact_rows = [], [], [], [], []
    instrument_rows: list[dict[str, Any]] = []
    for fid, fam in enumerate(data.families, start=1):
        fam_rows.append(
            {
                "family_id": fid,
                "arm": fam.arm,
                "intake_date": fam.intake,
                "intake_year": fam.intake.year,
                "status": fam.dropout_status or "active",
                "n_adult": sum(m[0] == "adult" for m in fam.members),
                "n_child": sum(m[0] == "child" for m in fam.members),
            }
        )
        for index, values in fam.indicators.items():
            wide_rows.append(
                {
                    "family_id": fid,
                    "wave": index,
                    "year": fam.intake.year + index,
                    **{k: (np.nan if v is None else v) for k, v in values.items()},
                }
            )
        for index, survey in fam.surveys.items():
            survey_rows.append(
                {
                    "family_id": fid,
                    "wave": index,
                    "year": fam.intake.year + index,
                    **{k: v for k, v in survey.items() if k != "missing_codes"},
                }
            )
        instrument_rows += [
            {
                "family_id": fid,
                "wave": index,
                "year": fam.intake.year + index,
                "instrument": code,
                "version": DEMO_INSTRUMENT[1],
                "answers": {k: v for k, v in answers.items() if v is not None},
            }
            for index, by_code in fam.instruments.items()
            for code, answers in by_code.items()
        ]
        inv_rows += [{"family_id": fid, **row} for row in fam.involvements]
        contact_rows += [{"family_id": fid, **row} for row in fam.contacts]
    pro_rows = [
        {"professional_id": pid, "approach": pro.approach, "year": year, **scores}
        for pid, pro in enumerate(data.professionals, start=1)
        for year, scores in pro.surveys.items()
    ]
    surveys = pd.DataFrame(survey_rows)
    for col in ("satisfaction", "qol_score", "qol_rating", "participation_step", "reachability"):
        surveys[col] = pd.to_numeric(surveys[col], errors="coerce").astype(float)
    contacts = pd.DataFrame(contact_rows)
    for col in ("occurred_at", "requested_at"):
        contacts[col] = pd.to_datetime(contacts[col], utc=True)
    return {
        "families": pd.DataFrame(fam_rows),
        "wide": pd.DataFrame(wide_rows),
        "surveys": surveys,
        "involvements": pd.DataFrame(
            inv_rows, columns=["family_id", "organisation", "discipline", "start_date", "end_date"]
        ),
        "contacts": contacts,
        "professionals": pd.DataFrame(pro_rows),
        # Item answers only: scoring is the instruments' (instruments/scoring.py, pure).
        "instrument_answers": pd.DataFrame(
            instrument_rows,
            columns=["family_id", "wave", "year", "instrument", "version", "answers"],
        ),
    }
