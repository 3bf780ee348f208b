"""Setting up a study through the services: the municipality by its CBS code, arms with names,
the design checks, changes with a reason (frozen once families are enrolled), randomised
enrolment with its log, the eligibility override."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from study.models import AllocationRecord, AllocationStratum, Arm, Family, Study
from study.models.allocation import AllocationRecordError
from study.roles import Role
from study.services.allocation import family_enrol_randomised
from study.services.families import MemberSpec
from study.services.studies import study_update
from tests.factories import ELIGIBLE, make_family, make_member, make_study
from tracker.setup import study_set_up

pytestmark = pytest.mark.django_db
MEMBERS = [MemberSpec("adult", 1985), MemberSpec("child", 2014)]


def _randomised(**options):
    return make_study(
        municipality="",
        municipality_code="GM0164",
        allocation_method=Study.AllocationMethod.RANDOMISED,
        enrolment_target=options.pop("enrolment_target", 60),
        **options,
    )


def test_a_study_is_set_up_with_its_municipality_code_named_arms_and_questions():
    study = study_set_up(
        name="Hengelo gezinnen",
        municipality_code="gm0164",
        start_date=date(2026, 1, 1),
        intervention_name="Gezin Centraal",
        comparison_name="Gebruikelijke zorg",
    )
    assert (study.municipality_code, study.municipality) == ("GM0164", "Hengelo")
    arms = {a.kind: a.name for a in Arm.objects.filter(study=study)}
    assert arms == {"intervention": "Gezin Centraal", "comparison": "Gebruikelijke zorg"}
    assert study.questions.exists()  # the research questions come with it
    assert study.history.first().history_change_reason == "study created"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"municipality_code": "GM9999"}, "municipality_code"),
        ({"municipality_code": "Hengelo"}, "municipality_code"),
        ({"municipality_code": "GM0164", "allocation_method": "randomised"}, "enrolment_target"),
        ({"municipality_code": "GM0164", "allocation_strata": "wijk"}, "allocation_strata"),
        (
            {"municipality_code": "GM0164", "pre_intake_years": 1, "acknowledge_warnings": False},
            "pre_intake_years",
        ),
    ],
)
def test_a_wrong_set_up_is_refused_with_nothing_saved(options, field):
    with pytest.raises(ValidationError) as caught:
        study_set_up(name="X", start_date=date(2026, 1, 1), **options)
    assert field in caught.value.message_dict
    assert not Study.objects.filter(name="X").exists()


def test_one_registry_year_only_with_the_warning_acknowledged():
    study = study_set_up(
        name="Kort",
        municipality_code="GM0141",
        start_date=date(2026, 1, 1),
        pre_intake_years=1,
        acknowledge_warnings=True,
    )
    assert study.pre_intake_years == 1


def test_changes_need_a_reason_and_freeze_what_recorded_data_depends_on(researcher, study):
    with pytest.raises(ValidationError):
        study_update(study=study, changes={"n_waves": 3}, reason=" ", user=researcher)
    study_update(study=study, changes={"n_waves": 3}, reason="design", user=researcher)
    study.refresh_from_db()
    assert study.n_waves == 3
    assert study.history.first().history_change_reason == "set-up changed: design"
    make_family(study, user=researcher)
    with pytest.raises(ValidationError) as caught:
        study_update(study=study, changes={"n_waves": 4}, reason="more", user=researcher)
    assert "n_waves" in caught.value.message_dict
    study_update(
        study=study,
        changes={"price_year": 2020, "intervention_name": "Nieuw"},
        reason="prices of 2020",
        user=researcher,
    )
    study.refresh_from_db()
    assert study.price_year == 2020
    assert Arm.objects.get(study=study, kind="intervention").name == "Nieuw"


def test_only_researchers_and_data_managers_change_the_set_up(study, gemeente_user):
    coordinator = make_member(study, Role.COORDINATOR)
    for user in (coordinator, gemeente_user):
        with pytest.raises(PermissionDenied):
            study_update(study=study, changes={"price_year": 2020}, reason="x", user=user)


def test_a_study_without_arms_refuses_enrolment_readably(researcher):
    """A study saved around the services (as the admin once did) has no arms: enrolment says
    so instead of a server error."""
    bare = Study.objects.create(name="Bare", municipality="Hengelo", start_date=date(2026, 1, 1))
    with pytest.raises(ValidationError) as caught:
        make_family(bare, "comparison", user=researcher)
    assert "arm" in caught.value.message_dict


# --- randomised enrolment ----------------------------------------------------------------------


def test_randomised_enrolment_draws_the_arm_and_logs_it(researcher):
    study = _randomised()
    families = [
        family_enrol_randomised(
            study=study,
            intake_date=date(2026, 2, 1),
            eligibility=ELIGIBLE,
            members=MEMBERS,
            user=researcher,
        )
        for _ in range(12)
    ]
    log = list(AllocationRecord.objects.filter(study=study).order_by("sequence_number"))
    assert [r.family_id for r in log] == [f.pk for f in families]
    assert [r.arm_kind for r in log] == [f.arm.kind for f in families]
    assert all(f.allocation == Family.Allocation.RANDOMISED for f in families)
    kinds = [f.arm.kind for f in families]
    assert abs(kinds.count("intervention") - kinds.count("comparison")) <= 3
    with pytest.raises(AllocationRecordError):
        log[0].save()
    with pytest.raises(AllocationRecordError):
        log[0].delete()


def test_a_randomised_study_refuses_a_chosen_arm(researcher):
    study = _randomised()
    with pytest.raises(ValidationError):
        make_family(study, user=researcher)


def test_the_target_closes_enrolment_for_both_arms_and_nothing_is_drawn(researcher):
    study = _randomised(enrolment_target=2)
    for _ in range(2):
        family_enrol_randomised(
            study=study, intake_date=date(2026, 2, 1), eligibility=ELIGIBLE, members=MEMBERS
        )
    state = AllocationStratum.objects.get(study=study)
    before = (list(state.pending), state.blocks_drawn)
    with pytest.raises(ValidationError):
        family_enrol_randomised(
            study=study, intake_date=date(2026, 2, 1), eligibility=ELIGIBLE, members=MEMBERS
        )
    state.refresh_from_db()
    assert (state.pending, state.blocks_drawn) == before
    assert AllocationRecord.objects.filter(study=study).count() == 2


def test_a_failed_check_draws_nothing(researcher):
    study = _randomised()
    with pytest.raises(ValidationError):
        family_enrol_randomised(
            study=study,
            intake_date=date(2026, 2, 1),
            eligibility={**ELIGIBLE, "elig_chronic": False},
            members=MEMBERS,
        )
    assert not AllocationStratum.objects.filter(study=study).exists()
    assert not AllocationRecord.objects.exists()


def test_stratified_allocation_needs_the_district_and_keeps_strata_apart(researcher):
    study = _randomised(allocation_strata="wijk")
    with pytest.raises(ValidationError):
        family_enrol_randomised(
            study=study, intake_date=date(2026, 2, 1), eligibility=ELIGIBLE, members=MEMBERS
        )
    for wijk in ("Noord", "Zuid", "noord"):
        family_enrol_randomised(
            study=study,
            intake_date=date(2026, 2, 1),
            eligibility=ELIGIBLE,
            members=MEMBERS,
            wijk=wijk,
        )
    assert sorted(
        AllocationStratum.objects.filter(study=study).values_list("stratum", flat=True)
    ) == [
        "noord",
        "zuid",
    ]
    numbers = sorted(
        AllocationRecord.objects.filter(study=study).values_list("stratum", "sequence_number")
    )
    assert numbers == [("noord", 1), ("noord", 2), ("zuid", 1)]


def test_the_log_number_is_unique_per_stratum(researcher):
    study = _randomised()
    family = family_enrol_randomised(
        study=study, intake_date=date(2026, 2, 1), eligibility=ELIGIBLE, members=MEMBERS
    )
    other = make_family(make_study(), user=researcher)
    with pytest.raises(IntegrityError), transaction.atomic():
        AllocationRecord.objects.create(
            study=study, family=other, stratum="", sequence_number=1, arm_kind="x", method="x"
        )
    assert family.allocation_record.sequence_number == 1


# --- eligibility override ------------------------------------------------------------------------


def test_the_override_needs_a_reason_and_a_researcher(researcher, study):
    not_eligible = {**ELIGIBLE, "elig_chronic": False}
    with pytest.raises(ValidationError):
        make_family(study, user=researcher, eligibility=not_eligible)
    coordinator = make_member(study, Role.COORDINATOR)
    with pytest.raises(PermissionDenied):
        make_family(
            study,
            user=coordinator,
            eligibility=not_eligible,
            eligibility_override_reason="case file shows support in 2019 and 2020",
        )
    family = make_family(
        study,
        user=researcher,
        eligibility=not_eligible,
        eligibility_override_reason="case file shows support in 2019 and 2020",
    )
    assert family.eligibility_override_reason == "case file shows support in 2019 and 2020"
    assert "despite the indicators" in family.history.first().history_change_reason


def test_an_eligible_family_records_no_override(researcher, study):
    family = make_family(study, user=researcher, eligibility_override_reason="not needed")
    assert family.eligibility_override_reason == ""


def test_the_mvp_rule_does_not_require_chronicity(researcher):
    study = make_study(eligibility_rule=Study.EligibilityRule.MVP)
    family = make_family(study, user=researcher, eligibility={**ELIGIBLE, "elig_chronic": False})
    assert family.eligibility_override_reason == ""


def test_on_postgresql_the_database_refuses_to_change_the_allocation_log(researcher):
    from django.db import DatabaseError, connection

    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    study = _randomised()
    family_enrol_randomised(
        study=study, intake_date=date(2026, 2, 1), eligibility=ELIGIBLE, members=MEMBERS
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        AllocationRecord.objects.filter(study=study).update(arm_kind="intervention")
    with pytest.raises(DatabaseError), transaction.atomic():
        AllocationRecord.objects.filter(study=study).delete()


def test_a_matched_study_records_its_variables_and_each_familys_set(researcher):
    study = make_study(match_variables="wijk, household size, bijstand at intake")
    family = make_family(study, user=researcher, match_set="P-07")
    partner = make_family(study, "comparison", user=researcher, match_set="P-07")
    assert family.match_set == partner.match_set == "P-07"
    assert study.match_variables == "wijk, household size, bijstand at intake"
    with pytest.raises(ValidationError):
        _randomised(match_variables="wijk")
