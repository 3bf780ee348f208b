"""The world the access matrix walks: a victim family in study A (Almelo) with data of every kind,
another study B (Hengelo), and a user for every role, including a dual-role user (wijkcoach of
the victim family in A, researcher of B) and users of the other study.

Every object is made through the services (or, for analysis results, as the rows they are), so
the ids below are real ids of real rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from analysis.models import AnalysisRun, PlanFreezeJob, Report
from analysis.monitor.models import MonitorJob, MonitorReport
from instruments.models import InstrumentVersion
from instruments.services import administration_record, instruments_ensure_shipped
from study.imports import workflow
from study.models import Contact, DataQuery, Professional, QualityRule
from study.roles import Role
from study.services import api_keys
from study.services.care import care_involvement_add, caseload_assign
from study.services.contacts import contact_log
from study.services.professionals import professional_survey_record
from study.services.studies import membership_grant
from study.services.surveys import wave_survey_record
from study.services.values import indicator_values_record
from tests.factories import make_family, make_member, make_study, make_user

#: What a user may see of the victim's data, by kind (see KINDS in checks.py).
FAMILY, RESEARCH, ANALYSIS, MONITOR, STUDY, MANAGE, CASELOAD = (
    "family",
    "research",
    "analysis",
    "monitor",
    "study",
    "manage",
    "caseload",  # the coordinator's caseload page: pseudonyms and coaches, no family data
)


@dataclass
class Actor:
    name: str
    user: object | None  # None: anonymous
    may: set[str]  # the kinds of the victim's data this actor may see
    api_key: str = ""  # a service account signs in with its key
    pages: bool = True  # service accounts have no pages


@dataclass
class World:
    ids: dict[str, int]
    pseudonym: str
    linkage_key: str
    actors: list[Actor] = field(default_factory=list)
    insiders: dict[str, object] = field(default_factory=dict)


def _family_data(family, coach, researcher) -> dict[str, int]:
    wave = family.waves.get(index=0)
    indicator_values_record(wave=wave, values={"bijstand": 1}, user=researcher)
    survey = wave_survey_record(wave=wave, data={"satisfaction": 7}, user=researcher)
    contact = contact_log(
        family=family,
        coach=coach,
        occurred_at=datetime(2022, 5, 1, 10, tzinfo=UTC),
        kind=Contact.Kind.PHONE,
        duration_minutes=15,
        initiated_by=Contact.Initiator.COACH,
    )
    involvement = care_involvement_add(
        family=family,
        organisation="GGZ",
        discipline="behandelaar",
        start_date=date(2021, 2, 1),
        user=coach,
    )
    instruments_ensure_shipped()
    ladder = InstrumentVersion.objects.get(code="participatieladder", version=1)
    administration = administration_record(
        wave=wave, instrument_version=ladder, answers={"step": 3}, user=researcher
    )
    rule = QualityRule.objects.create(study=family.study, kind=QualityRule.Kind.RANGE)
    query = DataQuery.objects.create(
        rule=rule, wave=wave, indicator=wave.values.get().indicator, message="check"
    )
    return {
        "families": family.pk,
        "family": family.pk,
        "contact": contact.pk,
        "query": query.pk,
        "waves": wave.pk,
        "wave": wave.pk,
        "contacts": contact.pk,
        "care-involvements": involvement.pk,
        "involvement": involvement.pk,
        "indicator-values": wave.values.get().pk,
        "members": family.members.order_by("pk").first().pk,
        "wave-surveys": survey.pk,
        "version": ladder.pk,
        "administration": administration.pk,
        "administrations": administration.pk,
        "instrument-versions": ladder.pk,
    }


def _study_data(study, researcher) -> dict[str, int]:
    professional = Professional.objects.create(
        study=study, organisation="Wijkteam", approach=Professional.Approach.NEW
    )
    professional_survey = professional_survey_record(
        professional=professional, year=2022, answers={"job_satisfaction": 8}, user=researcher
    )
    batch = workflow.registry_import_upload(
        study=study, user=researcher, filename="x.csv", content=b"pseudonym,year,bijstand\n"
    )
    run = AnalysisRun.objects.create(study=study, started_by=researcher, status="succeeded")
    report = Report.objects.create(run=run, study=study, version=1, html="<p>draft</p>")
    monitor_report = MonitorReport.objects.create(
        municipality=study.municipality, year=2025, summary={"mpg": 40}, tables={}, cost={}
    )
    job = MonitorJob.objects.create(params={"year": 2025}, created_by=researcher)
    freeze = PlanFreezeJob.objects.create(
        study=study, requested_by=researcher, status="failed", error="not frozen"
    )
    return {
        "studies": study.pk,
        "study": study.pk,
        "professionals": professional.pk,
        "professional": professional.pk,
        "professional-surveys": professional_survey.pk,
        "imports": batch.pk,
        "batch": batch.pk,
        "analysis-runs": run.pk,
        "run": run.pk,
        "reports": report.pk,
        "report": report.pk,
        "monitor/reports": monitor_report.pk,
        "monitor/jobs": job.pk,
        "monitor": monitor_report.pk,
        "plan-freezes": freeze.pk,
        "job": freeze.pk,
    }


def build_world() -> World:
    study = make_study(municipality="Almelo")
    other_study = make_study(municipality="Hengelo")
    researcher = make_member(study, Role.RESEARCHER)
    manager = make_member(study, Role.DATA_MANAGER)
    coach = make_user(Role.WIJKCOACH)
    victim = make_family(study, user=researcher, identifier="111222333")
    caseload_assign(family=victim, coach=coach, start_date=date(2021, 1, 1))
    ids = {**_family_data(victim, coach, researcher), **_study_data(study, researcher)}

    other_coach = make_user(Role.WIJKCOACH)
    caseload_assign(
        family=make_family(study, "comparison"), coach=other_coach, start_date=date(2021, 1, 1)
    )
    dual = make_user(Role.WIJKCOACH)
    caseload_assign(family=victim, coach=dual, start_date=date(2021, 1, 1))
    membership_grant(study=other_study, user=dual, role=Role.RESEARCHER)
    other_researcher = make_member(other_study, Role.RESEARCHER)
    other_manager = make_member(other_study, Role.DATA_MANAGER)
    make_family(other_study, user=other_researcher)
    _key, other_key = api_keys.api_key_issue(
        study=other_study,
        name="Hengelo system",
        scopes=list(api_keys.access.SCOPES),
        days=30,
        user=other_manager,
        second_factor=True,
    )
    _key, families_key = api_keys.api_key_issue(
        study=study,
        name="Almelo caseload system",
        scopes=["families:read"],
        days=30,
        user=manager,
        second_factor=True,
    )
    key_id = _key.pk
    ids["key"] = key_id
    ids["membership"] = researcher.study_memberships.get(study=study).pk
    ids["memberships"] = ids["membership"]
    ids["caseloads"] = victim.assignments.get(coach=coach).pk
    coordinator = make_member(study, Role.COORDINATOR)
    actors = [
        Actor("anonymous", None, set()),
        Actor("gemeente of A", make_member(study, Role.GEMEENTE), {STUDY}),
        Actor("coordinator of A", coordinator, {STUDY, CASELOAD}),
        Actor("coach of the victim", coach, {STUDY, FAMILY}),
        Actor("coach of another family of A", other_coach, {STUDY}),
        Actor("dual: coach of the victim in A, researcher of B", dual, {STUDY, FAMILY}),
        Actor("researcher of B", other_researcher, set()),
        Actor("data manager of B", other_manager, set()),
        Actor("API key of B, every scope", None, set(), api_key=other_key, pages=False),
        Actor(
            "API key of A, families:read",
            None,
            {STUDY, FAMILY},
            api_key=families_key,
            pages=False,
        ),
    ]
    return World(
        ids=ids,
        pseudonym=victim.pseudonym,
        linkage_key=victim.linkage_key,
        actors=actors,
        # The coordinator last: the read-logging walk opens each page as the first who may.
        insiders={
            "researcher": researcher,
            "coach": coach,
            "data manager": manager,
            "coordinator": coordinator,
        },
    )
