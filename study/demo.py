"""The demo study in the database: a realistic, seeded Almelo study with a documented truth.

The data come from the pure generator study/demo_data.py (no Django; tests and
benchmarks/demo_verdicts.py call it directly): 40 intervention and 40 comparison families
selected at a crisis by the study's own eligibility rule (AR(1) problems; three domains at T0,
support in T-2 and T-1), in the 12 Almelo wijken, intakes over 2020-2022, waves T0-T4 plus two
pre-intake registry years, about 15 % attrition, six wijkcoaches, care-worker involvements,
contact logs and professional surveys, and one demo user per role. This module writes them
through the study's services and bulk inserts.

`DEMO_TRUE_EFFECTS` and `DEMO_NULL_OUTCOMES` are the truth the analysis tests check against
(study/demo_data.py documents each effect).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from study.catalogue import catalogue_specs, ensure_global_catalogue
from study.demo_data import (
    DEMO_AS_OF,
    DEMO_SEED,
    NULL_OUTCOMES,
    TRUE_EFFECTS,
    DemoData,
    DemoFamily,
    generate_demo,
)
from study.models import (
    CareCatalogueEntry,
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
# DEMO_SEED (study/demo_data.py) is the default seed: with 40+40 families and 18 primary outcomes
# each true effect has some chance of being missed and each null a small chance of a false
# verdict; the shipped seed is one where the analysis shows the documented truth (checked in
# tests/analysis/runs/test_analysis_runs.py and tests/analysis/effects/test_demo_verdicts.py;
# benchmarks/demo_verdicts.py measures the shares over 100 seeds). DEMO_AS_OF: the data are
# generated as of this day, so the same seed gives the same study on every machine and day.
DEMO_PASSWORD = "demo"
DEMO_USERS = {
    "onderzoeker": Role.RESEARCHER,
    "gemeente": Role.GEMEENTE,
    "beheerder": Role.DATA_MANAGER,
    **{f"coach{i}": Role.WIJKCOACH for i in range(1, 7)},
}
DEMO_TRUE_EFFECTS = TRUE_EFFECTS
DEMO_NULL_OUTCOMES = NULL_OUTCOMES
__all__ = ["DEMO_AS_OF", "DEMO_SEED", "seed_demo"]


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


def _wave_rows(fam: DemoFamily, waves: list[Wave], catalogue: dict, today: date):
    """Indicator values, surveys and wave status of one family (rows to bulk-create)."""
    values, surveys = [], []
    for wave in waves:
        status = fam.wave_status.get(wave.index)
        if status == "missed":
            wave.status = Wave.Status.MISSED
            wave.missed_reason = str(Family.Status(fam.dropout_status).label)
        elif status == "completed":
            wave.status, wave.completed_date = Wave.Status.COMPLETED, fam.completed[wave.index]
            wave.locked = wave.year <= today.year - 3
        for code, number in fam.indicators.get(wave.index, {}).items():
            if number is None:
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
        survey = fam.surveys.get(wave.index)
        if survey is not None:
            fields = dict(survey)
            fields["qol_score"] = Decimal(fields["qol_score"])
            codes = fields.pop("missing_codes") or {}
            surveys.append(
                WaveSurvey(
                    wave=wave,
                    source=Source.DEMO,
                    missing_codes={k: MissingCode(v).value for k, v in codes.items()},
                    **fields,
                )
            )
    return values, surveys


def _care_catalogue(
    study: Study, families: list[DemoFamily], user
) -> dict[tuple[str, str], CareCatalogueEntry]:
    """The demo study's coded list of the organisations and disciplines its care workers name
    (audited, "demo seed")."""
    rows = [row for fam in families for row in fam.involvements]
    kinds = CareCatalogueEntry.Kind
    entries = [
        CareCatalogueEntry(study=study, kind=kind, name=name)
        for kind in (kinds.ORGANISATION, kinds.DISCIPLINE)
        for name in sorted({row[kind.value] for row in rows})
    ]
    created = bulk_create_with_history(
        entries, CareCatalogueEntry, default_user=user, default_change_reason="demo seed"
    )
    return {(e.kind, e.name): e for e in created}


def _involvement_rows(
    fam: DemoFamily, family: Family, user, catalogue: dict
) -> list[CareInvolvement]:
    kinds = CareCatalogueEntry.Kind
    return [
        CareInvolvement(
            family=family,
            recorded_by=user,
            organisation_entry=catalogue.get((kinds.ORGANISATION, row["organisation"])),
            discipline_entry=catalogue.get((kinds.DISCIPLINE, row["discipline"])),
            **row,
        )
        for row in fam.involvements
    ]


def _contact_rows(fam: DemoFamily, family: Family, coach) -> list[Contact]:
    tz = timezone.get_current_timezone()
    return [
        Contact(
            family=family,
            coach=coach,
            occurred_at=row["occurred_at"].astimezone(tz),
            kind=Contact.Kind(row["kind"]),
            duration_minutes=row["duration_minutes"],
            initiated_by=Contact.Initiator(row["initiated_by"]),
            requested_at=row["requested_at"],
            note="",
            note_private=False,
        )
        for row in fam.contacts
    ]


def _professionals(data: DemoData, study: Study, users: dict) -> None:
    pros = [
        Professional(
            study=study,
            organisation=p.organisation,
            approach=Professional.Approach(p.approach),
            user=users.get(p.coach) if p.coach else None,
        )
        for p in data.professionals
    ]
    pros = bulk_create_with_history(pros, Professional, default_change_reason="demo seed")
    stored = list(Professional.objects.filter(study=study).order_by("pk"))
    surveys = [
        ProfessionalSurvey(professional=pro, year=year, **scores)
        for pro, spec in zip(stored, data.professionals, strict=True)
        for year, scores in spec.surveys.items()
    ]
    bulk_create_with_history(surveys, ProfessionalSurvey, default_change_reason="demo seed")


@transaction.atomic
def seed_demo(
    *,
    seed: int = DEMO_SEED,
    today: date | None = None,
    create_study: Callable[..., Study] = study_create,
    extend: Callable[..., object] | None = None,
) -> tuple[Study, bool]:
    """Create the demo study unless it exists; returns (study, created). ``create_study`` makes
    the study (tracker.setup passes its set-up service, which also seeds the research questions);
    ``extend(study=..., data=..., users=...)`` records what other apps add to the demo (the
    instruments: study never imports them)."""
    ensure_global_catalogue()
    users = _users()
    existing = Study.objects.filter(name=DEMO_STUDY_NAME).first()
    if existing:
        return existing, False
    today = today or DEMO_AS_OF
    study = create_study(
        name=DEMO_STUDY_NAME,
        municipality_code="GM0141",  # Almelo: the monitor scopes by the CBS gemeentecode
        start_date=date(2020, 1, 1),
        description=(
            "Demo: de andere werkwijze (een gezin, een plan, een regisserende wijkcoach) tegenover "
            "zorg zoals gebruikelijk. Gegenereerde gegevens met een bekend waar effect; beide "
            "groepen komen op een crisispunt de studie in."
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
    data = generate_demo(seed, today)
    care_catalogue = _care_catalogue(study, data.families, users["beheerder"])
    all_values, all_surveys, all_involvements, all_contacts, touched_waves = [], [], [], [], []
    for fam in data.families:
        family = family_enrol(
            study=study,
            arm_kind=fam.arm,
            # Both arms: the date the family first met the eligibility rule (its T0).
            intake_date=fam.intake,
            allocation="matched",
            wijk=fam.wijk,
            eligibility={
                "elig_socio_economic": True,
                "elig_adult_psychosocial": True,
                "elig_child_psychosocial": True,
                "elig_chronic": True,
            },
            members=[MemberSpec(role, year, relation) for role, year, relation in fam.members],
            user=users["onderzoeker"],
        )
        coach = users[fam.coach]
        caseload_assign(family=family, coach=coach, start_date=fam.intake, user=users["beheerder"])
        if fam.dropout_after is not None:
            family.status, family.status_date = fam.dropout_status, fam.last_day
            family.status_reason = "demo: " + str(Family.Status(fam.dropout_status).label)
            family.save(update_fields=["status", "status_date", "status_reason"])
        waves = list(family.waves.order_by("index"))
        values, surveys = _wave_rows(fam, waves, catalogue, today)
        all_values += values
        all_surveys += surveys
        touched_waves += waves
        all_involvements += _involvement_rows(fam, family, coach, care_catalogue)
        all_contacts += _contact_rows(fam, family, coach)
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
    _professionals(data, study, users)
    if extend is not None:
        extend(study=study, data=data, users=users)
    return study, True
