"""Instrument versions and administrations through the services: never edited in place, scores
stored with the version, the wave survey seen as one-item instruments, access per study."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from instruments import selectors
from instruments.definition import parse_definition, read_definition_file
from instruments.models import Administration, InstrumentVersion
from instruments.services import (
    VersionRefused,
    administration_record,
    administration_remove,
    instrument_version_add,
    instruments_ensure_shipped,
)
from study import access
from study.roles import Role
from study.services.care import caseload_assign
from study.services.surveys import wave_survey_record
from tests.factories import make_family, make_member, make_study

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"


def _version(code: str, version: int = 1) -> InstrumentVersion:
    instruments_ensure_shipped()
    return InstrumentVersion.objects.get(code=code, version=version, study__isnull=True)


@pytest.fixture
def world():
    study = make_study()
    researcher = make_member(study, Role.RESEARCHER)
    family = make_family(study, user=researcher)
    return study, researcher, family, family.waves.get(index=0)


def test_an_administration_stores_its_version_answers_missing_codes_and_scores(world):
    _, researcher, _, wave = world
    mansa = _version("mansa12")
    answers = dict.fromkeys(mansa.parsed.item_codes, 5) | {"sex_life": None, "work": 2}
    admin = administration_record(
        wave=wave,
        instrument_version=mansa,
        answers=answers,
        missing_codes={"sex_life": "refused"},
        user=researcher,
    )
    admin.refresh_from_db()
    assert admin.instrument_version == mansa and admin.instrument_code == "mansa12"
    assert admin.missing_codes == {"sex_life": "refused"} and "sex_life" not in admin.answers
    assert admin.scores == {"mean": pytest.approx((5 * 10 + 2) / 11, abs=1e-4)}
    assert admin.history.first().history_user == researcher


def test_a_second_entry_changes_the_same_administration_and_keeps_the_history(world):
    _, researcher, _, wave = world
    ladder = _version("participatieladder")
    administration_record(
        wave=wave, instrument_version=ladder, answers={"step": 2}, user=researcher
    )
    again = administration_record(
        wave=wave, instrument_version=ladder, answers={"step": 4}, user=researcher, reason="typo"
    )
    assert Administration.objects.alive().count() == 1 and again.scores == {"step": 4.0}
    assert [h.scores for h in again.history.order_by("history_id")] == [
        {"step": 2.0},
        {"step": 4.0},
    ]


def test_an_answer_off_the_scale_is_refused_per_item(world):
    _, researcher, _, wave = world
    with pytest.raises(ValidationError) as error:
        administration_record(
            wave=wave,
            instrument_version=_version("participatieladder"),
            answers={"step": 7},
            user=researcher,
        )
    assert "step" in error.value.message_dict


def test_pre_intake_waves_and_locked_waves_take_no_instrument(world):
    _, researcher, family, wave = world
    with pytest.raises(ValidationError):
        administration_record(
            wave=family.waves.get(index=-1),
            instrument_version=_version("participatieladder"),
            answers={"step": 2},
            user=researcher,
        )
    wave.locked = True
    wave.save(update_fields=["locked"])
    with pytest.raises(ValidationError):
        administration_record(
            wave=wave,
            instrument_version=_version("participatieladder"),
            answers={"step": 2},
            user=researcher,
        )


def test_a_record_keeps_its_version_a_second_version_at_the_same_wave_is_refused(world):
    study, researcher, _, wave = world
    v1 = _version("mansa12")
    v2_def = parse_definition({**v1.definition, "version": 2, "comparable_with": [1]})
    v2, created = instrument_version_add(definition=v2_def, study=study, user=researcher)
    assert created
    administration_record(
        wave=wave, instrument_version=v1, answers=dict.fromkeys(v1.parsed.item_codes, 3)
    )
    with pytest.raises(ValidationError, match="version 1"):
        administration_record(
            wave=wave, instrument_version=v2, answers=dict.fromkeys(v1.parsed.item_codes, 3)
        )


def test_a_stored_version_is_never_edited_in_place():
    mansa = _version("mansa12")
    edited = parse_definition({**mansa.definition, "changes": "edited"})
    with pytest.raises(VersionRefused, match="in place"):
        instrument_version_add(definition=edited)
    same, created = instrument_version_add(definition=mansa.parsed)
    assert same == mansa and not created


def test_a_new_version_that_makes_recorded_answers_unreadable_is_refused(world):
    study, *_ = world
    v1 = _version("participatieladder")
    raw = {**v1.definition, "version": 2}
    raw["scales"] = {"step6": {"values": {1: "a", 2: "b", 3: "c", 4: "d", 5: "e", 6: "f"}}}
    with pytest.raises(VersionRefused, match="new code"):
        instrument_version_add(definition=parse_definition(raw), study=study)


def test_a_study_loads_its_own_licensed_file_which_only_it_sees(world):
    study, researcher, _, _ = world
    other = make_study()
    zrm = read_definition_file(DATA / "zrm_fixture.v2.yaml")
    instrument_version_add(definition=zrm, study=study, user=researcher, source_file="zrm.yaml")
    assert "zrm_fixture" in {v.code for v in selectors.instrument_version_list(study=study)}
    assert "zrm_fixture" not in {v.code for v in selectors.instrument_version_list(study=other)}
    own = InstrumentVersion.objects.get(code="zrm_fixture")
    wave = make_family(other).waves.get(index=0)
    with pytest.raises(ValidationError, match="another study"):
        administration_record(
            wave=wave, instrument_version=own, answers={"parenting": 3}, user=researcher
        )


def test_the_wave_survey_questions_read_as_one_item_administrations(world):
    _, researcher, family, wave = world
    wave_survey_record(
        wave=wave,
        data={
            "satisfaction": 7,
            "participation_step": None,
            "missing_codes": {"participation_step": "refused"},
        },
        user=researcher,
    )
    rows = selectors.administration_rows(family.study.families.all())
    by = {r.instrument: r for r in rows}
    assert by["survey_satisfaction"].scores == {"satisfaction": 7.0}
    assert by["survey_satisfaction"].origin == "wave_survey"
    assert by["participatieladder"].missing_codes == {"step": "refused"}
    assert by["participatieladder"].scores == {"step": None}
    assert "survey_reachability" not in by  # neither answered nor coded


def test_removal_needs_a_reason_and_keeps_the_history(world):
    _, researcher, _, wave = world
    admin = administration_record(
        wave=wave,
        instrument_version=_version("participatieladder"),
        answers={"step": 3},
        user=researcher,
    )
    with pytest.raises(ValidationError):
        administration_remove(administration=admin, user=researcher, reason=" ")
    administration_remove(administration=admin, user=researcher, reason="wrong family")
    assert not Administration.objects.alive().exists()
    assert admin.history.count() == 2


def test_a_wijkcoach_enters_and_reads_only_their_caseload(world):
    study, researcher, family, wave = world
    coach = make_member(study, Role.WIJKCOACH)
    other_family = make_family(study)
    caseload_assign(family=family, coach=coach, start_date=date(2021, 3, 1), user=researcher)
    assert list(access.instrument_families(coach, write=True)) == [family]
    administration_record(
        wave=wave, instrument_version=_version("participatieladder"), answers={"step": 3},
        user=researcher,
    )  # fmt: skip
    administration_record(
        wave=other_family.waves.get(index=0),
        instrument_version=_version("participatieladder"),
        answers={"step": 5},
    )
    assert [a.wave.family for a in selectors.administration_list(coach)] == [family]
    assert len(selectors.administration_list(researcher)) == 2
    gemeente = make_member(study, Role.GEMEENTE)
    assert not selectors.administration_list(gemeente).exists()


def test_load_instruments_adds_a_studys_own_file_and_refuses_an_edit(world, tmp_path):
    from django.core.management import CommandError, call_command

    study, *_ = world
    call_command("load_instruments", study_id=study.pk, file=str(DATA / "zrm_fixture.v1.yaml"))
    assert InstrumentVersion.objects.filter(code="zrm_fixture", study=study).count() == 1
    edited = tmp_path / "zrm.yaml"
    edited.write_text((DATA / "zrm_fixture.v1.yaml").read_text().replace("Verzonnen", "Anders"))
    with pytest.raises(CommandError, match="in place"):
        call_command("load_instruments", study_id=study.pk, file=str(edited))
