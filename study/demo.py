"""The demo study: a realistic, seeded Almelo study with a documented true effect.

40 intervention and 40 comparison families in the 12 Almelo wijken, staggered intakes over
2020-2022, waves T0-T4 plus two pre-intake registry years, 10-20 % attrition, six wijkcoaches,
care-worker involvements, contact logs and professional surveys, and one demo user per role.

`DEMO_TRUE_EFFECTS` is the truth the analysis tests check against: the new approach has an
effect on some outcomes from the first year after intake (T1 on) and none on the others.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from study.catalogue import catalogue_specs, ensure_global_catalogue
from study.models import (
    CareInvolvement,
    Contact,
    Family,
    Indicator,
    IndicatorValue,
    MissingCode,
    Professional,
    ProfessionalSurvey,
    Source,
    Study,
    Wave,
    WaveSurvey,
)
from study.roles import Role
from study.services.care import caseload_assign
from study.services.families import MemberSpec, family_enrol
from study.services.studies import membership_grant, study_create

DEMO_STUDY_NAME = "Andere werkwijze multiprobleemgezinnen Almelo"
# The default seed. With 40+40 families each null outcome still has a 5 % chance of a false
# positive and each true effect some chance of being missed; this seed is one where the analysis
# shows the documented truth (checked in tests/analysis/test_analysis_runs.py). Other seeds are
# realistic too, and may show chance findings, as a real study can.
DEMO_SEED = 1
# The demo's data are generated as of this day, so the same seed gives the same study (and the
# same analysis) on every machine and every later day.
DEMO_AS_OF = date(2026, 11, 22)
DEMO_PASSWORD = "demo"
DEMO_USERS = {
    "onderzoeker": Role.RESEARCHER,
    "gemeente": Role.GEMEENTE,
    "beheerder": Role.DATA_MANAGER,
    **{f"coach{i}": Role.WIJKCOACH for i in range(1, 7)},
}

# The documented truth of the demo (effect of the new approach from T1 on, intervention arm).
# Outcomes not listed here have no effect. The analysis tests check the report against this.
DEMO_TRUE_EFFECTS = {
    "receives_bijstand": {"effect": -0.25, "unit": "probability", "direction": "decrease"},
    "youth_care_ambulant": {
        "effect": -0.45,
        "unit": "relative (log-rate)",
        "direction": "decrease",
    },
    "n_care_workers": {"effect": -2.0, "unit": "care workers", "direction": "decrease"},
    "satisfaction": {"effect": 1.6, "unit": "points (0-10)", "direction": "increase"},
    "reachability": {"effect": 1.5, "unit": "points (0-10)", "direction": "increase"},
    "job_satisfaction": {"effect": 1.2, "unit": "points (0-10)", "direction": "increase"},
}
DEMO_NULL_OUTCOMES = [
    "any_police",
    "police_offences",
    "below_low_income",
    "quality_of_life",
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


@dataclass
class FamilyPlan:
    arm: str
    intake: date
    severity: float
    dropout_after: int | None  # last completed wave index, None = stays
    dropout_status: str = ""


def _users() -> dict[str, object]:
    user_model = get_user_model()
    users = {}
    for username, role in DEMO_USERS.items():
        user, created = user_model.objects.get_or_create(username=username)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.is_staff = role == Role.DATA_MANAGER
            user.is_superuser = role == Role.DATA_MANAGER
            user.save()
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        users[username] = user
    return users


def _plans(rng: np.random.Generator) -> list[FamilyPlan]:
    plans = []
    for arm in ("intervention", "comparison"):
        for i in range(40):
            year = 2020 + i % 3
            intake = date(year, 1, 1) + timedelta(days=int(rng.integers(20, 340)))
            dropout_after = None
            status = ""
            if rng.random() < 0.15:
                dropout_after = int(rng.integers(0, 3))
                status = str(rng.choice([Family.Status.DROPPED_OUT, Family.Status.MOVED_AWAY]))
            plans.append(FamilyPlan(arm, intake, float(rng.normal()), dropout_after, status))
    return plans


def _p(x: float) -> float:
    return min(max(x, 0.001), 0.999)


def _indicator_values(
    rng, plan: FamilyPlan, wave_index: int, n_adults: int, n_children: int
) -> dict[str, float]:
    """Registry values of one family-year, with the documented effect for treated years."""
    s = plan.severity
    treated = plan.arm == "intervention" and wave_index >= 1
    trend = -0.02 * (plan.intake.year + wave_index - 2018)  # common secular trend, both arms

    def persons(p: float, k: int) -> float:
        return float(rng.binomial(k, _p(p)))

    def euros(p: float, mean: float) -> float:
        if rng.random() < _p(p):
            return float(round(rng.lognormal(math.log(mean), 0.6), 2))
        return 0.0

    bijstand_p = 0.60 + 0.08 * s + trend - (0.25 if treated else 0.0)
    v = {
        "bijstand": float(rng.random() < _p(bijstand_p)) * (2.0 if rng.random() < 0.1 else 1.0),
        "ww": persons(0.10, 1),
        "disability_benefit": persons(0.25 + 0.05 * s, 1),
        "other_benefit": persons(0.10, 1),
        "low_income": float(rng.random() < _p(0.45 + 0.08 * s)),
        "moves": float(rng.poisson(0.35)),
        "debt_help": float(rng.random() < _p(0.35 + 0.05 * s)),
        "adult_ggz_basic_eur": euros(0.2, 450),
        "adult_ggz_specialised_eur": euros(0.32 + 0.05 * s, 3200),
        "adult_awbz_psychosocial": persons(0.06, 1),
        "adult_awbz_intellectual": persons(0.03, 1),
        "adult_awbz_physical": persons(0.04, 1),
        "adult_addiction_care": float(rng.random() < _p(0.10 + 0.03 * s)),
        "adult_outreach_care": float(rng.random() < 0.07),
    }
    police_rate = 0.12 * math.exp(0.4 * s)
    for kind in (
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
    ):
        rate = {"murder": 0.002, "assault": police_rate * 1.5, "property": police_rate}.get(
            kind, police_rate / 3
        )
        v[f"adult_police_{kind}"] = float(rng.poisson(rate))
    ambulant_rate = 1.3 * math.exp(0.35 * s) * (math.exp(-0.8) if treated else 1.0)
    v.update(
        {
            "child_ggz_basic_eur": euros(0.18, 400),
            "child_ggz_specialised_eur": euros(0.35, 2500),
            "child_youth_care_ambulant": float(min(rng.poisson(ambulant_rate), 20)),
            "child_youth_care_day_treatment": persons(0.12, 1),
            "child_youth_care_residential_days": float(rng.integers(30, 366))
            if rng.random() < 0.05
            else 0.0,
            "child_youth_probation": persons(0.06, 1),
            "child_awbz_psychosocial": persons(0.04, 1),
            "child_awbz_intellectual": persons(0.02, 1),
            "child_awbz_physical": persons(0.02, 1),
            "child_police_offences": float(rng.poisson(0.15 * math.exp(0.3 * s))),
            "child_ots": persons(0.20 + 0.05 * s, min(n_children, 2)),
            "child_guardianship": persons(0.02, 1),
            "child_foster_care_days": float(rng.integers(60, 366)) if rng.random() < 0.07 else 0.0,
        }
    )
    return v


def _survey(rng, plan: FamilyPlan, wave_index: int) -> dict:
    treated = plan.arm == "intervention" and wave_index >= 1
    clip = lambda x, lo, hi: int(min(max(round(x), lo), hi))  # noqa: E731
    survey = {
        "satisfaction": clip(
            rng.normal(5.3 - 0.4 * plan.severity + (1.6 if treated else 0), 1.4), 0, 10
        ),
        "qol_instrument": "Cantril ladder",
        "qol_rating": clip(rng.normal(5.6 - 0.5 * plan.severity, 1.3), 0, 10),
        "participation_step": clip(
            rng.normal(2.6 - 0.3 * plan.severity + 0.1 * wave_index, 0.9), 1, 6
        ),
        "reachability": clip(rng.normal(5.0 + (1.5 if treated else 0), 1.5), 0, 10),
    }
    survey["qol_score"] = Decimal(survey["qol_rating"]) * 10
    if rng.random() < 0.05:
        survey["participation_step"] = None
        survey["missing_codes"] = {"participation_step": MissingCode.REFUSED.value}
    return survey


def _involvements(
    rng, plan: FamilyPlan, family: Family, last_day: date, user
) -> list[CareInvolvement]:
    """Care workers over time; the intervention arm sheds about two of them from T1 on."""
    rows, open_rows = [], []
    start_year = plan.intake.year - 2
    for year in range(start_year, last_day.year + 1):
        wave_index = year - plan.intake.year
        treated = plan.arm == "intervention" and wave_index >= 1
        target = max(
            1, int(round(4.6 + 0.6 * plan.severity + rng.normal(0, 0.7) - (2.0 if treated else 0)))
        )
        jan1 = date(year, 1, 1)
        while len(open_rows) > target:
            row = open_rows.pop(int(rng.integers(len(open_rows))))
            row.end_date = min(jan1 + timedelta(days=int(rng.integers(0, 60))), last_day)
            if row.end_date < row.start_date:
                row.end_date = row.start_date
        while len(open_rows) < target:
            org, discipline = ORGANISATIONS[int(rng.integers(len(ORGANISATIONS)))]
            start = jan1 + timedelta(days=int(rng.integers(0, 60)))
            row = CareInvolvement(
                family=family,
                organisation=org,
                discipline=discipline,
                start_date=min(start, last_day),
                recorded_by=user,
            )
            rows.append(row)
            open_rows.append(row)
    return rows


def _contacts(rng, plan: FamilyPlan, family: Family, coach, last_day: date) -> list[Contact]:
    rows = []
    day = plan.intake
    tz = timezone.get_current_timezone()
    kinds = [Contact.Kind.HOME_VISIT, Contact.Kind.PHONE, Contact.Kind.VIDEO, Contact.Kind.MDO]
    while day <= last_day:
        first_year = (day - plan.intake).days < 365
        per_month = (3.0 if first_year else 1.6) if plan.arm == "intervention" else 0.8
        day += timedelta(days=max(1, int(rng.exponential(30 / per_month))))
        if day > last_day:
            break
        kind = kinds[int(rng.choice(4, p=[0.5, 0.3, 0.1, 0.1]))]
        at = datetime(
            day.year,
            day.month,
            day.day,
            int(rng.integers(8, 18)),
            int(rng.integers(0, 4)) * 15,
            tzinfo=tz,
        )
        family_asked = rng.random() < 0.3
        wait_hours = rng.exponential(20 if plan.arm == "intervention" else 60)
        rows.append(
            Contact(
                family=family,
                coach=coach,
                occurred_at=at,
                kind=kind,
                duration_minutes=int(rng.choice([15, 30, 45, 60, 90]))
                if kind != Contact.Kind.PHONE
                else 15,
                initiated_by=Contact.Initiator.FAMILY if family_asked else Contact.Initiator.COACH,
                requested_at=at - timedelta(hours=float(wait_hours)) if family_asked else None,
                note="",
                note_private=False,
            )
        )
    return rows


def _members(rng, intake_year: int) -> list[MemberSpec]:
    adults = [MemberSpec("adult", int(rng.integers(1975, 1996)), "parent")]
    if rng.random() < 0.45:
        adults.append(MemberSpec("adult", int(rng.integers(1972, 1998)), "partner"))
    children = [
        MemberSpec("child", int(rng.integers(intake_year - 16, intake_year)), "child")
        for _ in range(int(rng.integers(1, 5)))
    ]
    return adults + children


def _wave_rows(rng, plan, family, waves, today, catalogue):
    """Indicator values, surveys and wave status of one family (rows to bulk-create)."""
    values, surveys = [], []
    n_adults = family.members.filter(role="adult").count()
    n_children = family.members.filter(role="child").count()
    for wave in waves:
        observed = wave.index < 0 or (wave.due_date and wave.due_date <= today)
        dropped = plan.dropout_after is not None and wave.index > plan.dropout_after
        if wave.index >= 0:
            if dropped and observed:
                wave.status, wave.missed_reason = (
                    Wave.Status.MISSED,
                    str(Family.Status(plan.dropout_status).label),
                )
            elif observed:
                wave.status, wave.completed_date = (
                    Wave.Status.COMPLETED,
                    wave.due_date + timedelta(days=int(rng.integers(0, 40))),
                )
                wave.locked = wave.year <= today.year - 3
        if not observed or dropped:
            continue
        for code, number in _indicator_values(rng, plan, wave.index, n_adults, n_children).items():
            if rng.random() < 0.015:
                values.append(
                    IndicatorValue(
                        wave=wave,
                        indicator=catalogue[code],
                        value=None,
                        missing_code=MissingCode.NOT_DELIVERED,
                        source=Source.DEMO,
                    )
                )
            else:
                values.append(
                    IndicatorValue(
                        wave=wave,
                        indicator=catalogue[code],
                        value=Decimal(str(number)).quantize(Decimal("0.01")),
                        source=Source.DEMO,
                    )
                )
        if wave.index >= 0:
            surveys.append(
                WaveSurvey(wave=wave, source=Source.DEMO, **_survey(rng, plan, wave.index))
            )
    return values, surveys


def _professionals(rng, study: Study, users: dict, today: date) -> None:
    pros, surveys = [], []
    for i in range(24):
        approach = Professional.Approach.NEW if i < 12 else Professional.Approach.USUAL
        coach = users.get(f"coach{i + 1}") if i < 6 else None
        pros.append(
            Professional(
                study=study,
                organisation="Gemeente Almelo" if i % 2 else "Sociaal Wijkteam",
                approach=approach,
                user=coach,
            )
        )
    pros = bulk_create_with_history(pros, Professional, default_change_reason="demo seed")
    for pro in Professional.objects.filter(study=study):
        base = rng.normal(0, 0.8)
        for year in range(2020, today.year + 1):
            new_and_running = pro.approach == Professional.Approach.NEW and year >= 2021
            clip = lambda x, lo, hi: int(min(max(round(x), lo), hi))  # noqa: E731
            surveys.append(
                ProfessionalSurvey(
                    professional=pro,
                    year=year,
                    job_satisfaction=clip(
                        6.0 + base + (1.2 if new_and_running else 0) + rng.normal(0, 0.8), 0, 10
                    ),
                    autonomy=clip(
                        3.0 + 0.4 * base + (0.6 if new_and_running else 0) + rng.normal(0, 0.5),
                        1,
                        5,
                    ),
                    pride=clip(
                        3.2 + 0.4 * base + (0.5 if new_and_running else 0) + rng.normal(0, 0.5),
                        1,
                        5,
                    ),
                    competence=clip(3.5 + 0.3 * base + rng.normal(0, 0.5), 1, 5),
                    cooperation=clip(
                        2.8 + (0.7 if new_and_running else 0) + rng.normal(0, 0.6), 1, 5
                    ),
                )
            )
    bulk_create_with_history(surveys, ProfessionalSurvey, default_change_reason="demo seed")


@transaction.atomic
def seed_demo(
    *,
    seed: int = DEMO_SEED,
    today: date | None = None,
    create_study: Callable[..., Study] = study_create,
) -> tuple[Study, bool]:
    """Create the demo study unless it exists; returns (study, created). ``create_study`` makes
    the study (tracker.setup passes its set-up service, which also seeds the research questions)."""
    ensure_global_catalogue()
    users = _users()
    existing = Study.objects.filter(name=DEMO_STUDY_NAME).first()
    if existing:
        return existing, False
    today = today or DEMO_AS_OF
    rng = np.random.default_rng(seed)
    study = create_study(
        name=DEMO_STUDY_NAME,
        municipality="Almelo",
        start_date=date(2020, 1, 1),
        description=(
            "Demo: de andere werkwijze (een gezin, een plan, een regisserende wijkcoach) tegenover "
            "zorg zoals gebruikelijk. Gegenereerde gegevens met een bekend waar effect."
        ),
        n_waves=4,
        pre_intake_years=2,
        price_year=2024,
        user=users["beheerder"],
    )
    membership_grant(study=study, user=users["onderzoeker"], role=Role.RESEARCHER)
    membership_grant(study=study, user=users["gemeente"], role=Role.GEMEENTE)
    catalogue = {i.code: i for i in Indicator.objects.filter(study__isnull=True)}
    assert set(catalogue) == {s.code for s in catalogue_specs()}
    wijken, weights = zip(*ALMELO_WIJKEN.items(), strict=True)
    weights = np.array(weights) / sum(weights)
    all_values, all_surveys, all_involvements, all_contacts, touched_waves = [], [], [], [], []
    coach_counter = {"intervention": 0, "comparison": 0}
    for plan in _plans(rng):
        family = family_enrol(
            study=study,
            arm_kind=plan.arm,
            intake_date=plan.intake,
            allocation="matched",
            wijk=str(rng.choice(wijken, p=weights)),
            eligibility={
                "elig_socio_economic": True,
                "elig_adult_psychosocial": True,
                "elig_child_psychosocial": True,
                "elig_chronic": True,
            },
            members=_members(rng, plan.intake.year),
            user=users["onderzoeker"],
        )
        k = coach_counter[plan.arm]
        coach_counter[plan.arm] += 1
        coach = (
            users[f"coach{k % 4 + 1}"] if plan.arm == "intervention" else users[f"coach{5 + k % 2}"]
        )
        caseload_assign(family=family, coach=coach, start_date=plan.intake, user=users["beheerder"])
        last_day = today
        if plan.dropout_after is not None:
            last_day = min(today, plan.intake + timedelta(days=365 * plan.dropout_after + 180))
            family.status, family.status_date = plan.dropout_status, last_day
            family.status_reason = "demo: " + str(Family.Status(plan.dropout_status).label)
            family.save(update_fields=["status", "status_date", "status_reason"])
        waves = list(family.waves.order_by("index"))
        values, surveys = _wave_rows(rng, plan, family, waves, today, catalogue)
        all_values += values
        all_surveys += surveys
        touched_waves += waves
        all_involvements += _involvements(rng, plan, family, last_day, coach)
        all_contacts += _contacts(rng, plan, family, coach, last_day)
    Wave.objects.bulk_update(touched_waves, ["status", "completed_date", "missed_reason", "locked"])
    bulk_create_with_history(
        all_values, IndicatorValue, default_change_reason="demo seed", batch_size=2000
    )
    bulk_create_with_history(
        all_surveys, WaveSurvey, default_change_reason="demo seed", batch_size=2000
    )
    bulk_create_with_history(
        all_involvements, CareInvolvement, default_change_reason="demo seed", batch_size=2000
    )
    bulk_create_with_history(
        all_contacts, Contact, default_change_reason="demo seed", batch_size=2000
    )
    _professionals(rng, study, users, today)
    return study, True
