"""The permuted blocks of the allocation log: enrolment writes each allocation's block number
and size as the generator drew them, earlier allocations get theirs back where the stored
sequence allows only one reading, and the analysis reads them (or says why not)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from analysis.runs import selectors
from study import allocation
from study.models import AllocationRecord, AllocationStratum, Study
from study.roles import Role
from study.services.allocation import family_enrol_randomised
from study.services.families import MemberSpec
from tests.factories import ELIGIBLE, make_member, make_study
from tests.study.append_only import allocation_log_guard_lifted

I, C = allocation.ARMS  # noqa: E741 (I and C read as the sequences are written)


def test_a_unique_reading_of_the_sequence_gives_its_blocks():
    # Two blocks: I I C C (it cannot split: I I is no block) and then C I with nothing pending.
    assert allocation.reconstruct_blocks([I, I, C, C, C, I], blocks_drawn=2, pending=[]) == [
        (1, 4),
        (1, 4),
        (1, 4),
        (1, 4),
        (2, 2),
        (2, 2),
    ]
    # The open last block: I, with C C I still to come (a block of four).
    assert allocation.reconstruct_blocks([C, I, I], blocks_drawn=2, pending=[C, C, I]) == [
        (1, 2),
        (1, 2),
        (2, 4),
    ]


def test_an_ambiguous_sequence_is_not_guessed():
    # Two blocks: (I C)(C I I C) or (I C C I)(I C); and I I cannot be two blocks at all.
    assert allocation.reconstruct_blocks([I, C, C, I, I, C], blocks_drawn=2, pending=[]) is None
    assert allocation.reconstruct_blocks([I, I], blocks_drawn=2, pending=[]) is None
    assert allocation.reconstruct_blocks([], blocks_drawn=0, pending=[]) is None


def test_reconstruction_finds_generated_blocks_whenever_they_are_the_only_reading():
    rng = random.Random(11)
    found = 0
    for _ in range(300):
        state, arms, truth = allocation.StratumState(), [], []
        for _ in range(rng.randint(1, 14)):
            arm, state = allocation.next_allocation(state, rng=rng)
            arms.append(arm)
            truth.append((state.blocks_drawn, None))
        got = allocation.reconstruct_blocks(
            arms, blocks_drawn=state.blocks_drawn, pending=state.pending
        )
        if got is not None:
            found += 1
            assert [b for b, _s in got] == [b for b, _s in truth]
    assert 30 < found < 300  # some sequences are ambiguous, many are not


def _study(**options):
    return make_study(
        allocation_method=Study.AllocationMethod.RANDOMISED,
        allocation_strata="wijk",
        enrolment_target=200,
        **options,
    )


def _enrol(study, wijk, rng, user):
    return family_enrol_randomised(
        study=study,
        intake_date=date(2026, 2, 1),
        eligibility=ELIGIBLE,
        members=[MemberSpec("adult", 1985), MemberSpec("child", 2016)],
        wijk=wijk,
        user=user,
        rng=rng,
    )


@pytest.mark.django_db
def test_enrolment_writes_the_block_numbers_of_the_generated_blocks():
    study = _study()
    user = make_member(study, Role.RESEARCHER)
    pick = random.Random(3)
    order = [pick.choice(["Noord", "Zuid"]) for _ in range(31)]
    rng = random.Random(5)
    for wijk in order:
        _enrol(study, wijk, rng, user)
    # The same draws replayed with the pure generator: block of each allocation and its size.
    replay, states, sizes = random.Random(5), defaultdict(allocation.StratumState), {}
    expected = defaultdict(list)
    for wijk in order:
        key = wijk.casefold()
        before = states[key].blocks_drawn
        arm, states[key] = allocation.next_allocation(states[key], rng=replay)
        if states[key].blocks_drawn != before:
            sizes[key, states[key].blocks_drawn] = 1 + len(states[key].pending)
        number = states[key].blocks_drawn
        expected[key].append((arm, number, sizes[key, number]))
    for key, rows in expected.items():
        log = AllocationRecord.objects.filter(study=study, stratum=key).order_by("sequence_number")
        assert [(r.arm_kind, r.block_number, r.block_size) for r in log] == rows
        state = AllocationStratum.objects.get(study=study, stratum=key)
        assert state.blocks_drawn == rows[-1][1]
    # Every closed block holds each arm equally often and as many allocations as its size.
    by_block = defaultdict(list)
    for r in AllocationRecord.objects.filter(study=study):
        by_block[r.stratum, r.block_number].append(r)
    closed = 0
    for (stratum, number), members in by_block.items():
        state = AllocationStratum.objects.get(study=study, stratum=stratum)
        if number < state.blocks_drawn or not state.pending:
            closed += 1
            assert len(members) == members[0].block_size
            arms = [r.arm_kind for r in members]
            assert arms.count(I) == arms.count(C)
    assert closed >= 5
    strata, blocks, note = selectors.allocation_cells(study)
    assert note is None and len(set(blocks.values())) == len(by_block)
    assert set(strata.values()) == {"noord", "zuid"}


@pytest.mark.django_db
def test_the_migration_gives_earlier_allocations_their_blocks_where_the_sequence_allows():
    from importlib import import_module

    migration = import_module("study.migrations.0024_allocation_blocks")
    study = _study()
    user = make_member(study, Role.RESEARCHER)
    rng = random.Random(8)
    for wijk in ["Noord"] * 9 + ["Zuid"] * 7:
        _enrol(study, wijk, rng, user)
    truth = dict(AllocationRecord.objects.filter(study=study).values_list("pk", "block_number"))
    with allocation_log_guard_lifted():
        AllocationRecord.objects.filter(study=study).update(block_number=None, block_size=None)
    assert selectors.allocation_cells(study)[2] == selectors.NOTE_BLOCKS_UNKNOWN

    def execute(sql, params=None):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    # On PostgreSQL the migration lifts the append-only trigger for its update and restores it.
    editor = SimpleNamespace(connection=connection, execute=execute)
    migration.blocks_from_the_sequence(apps, editor)
    for stratum in ("noord", "zuid"):
        log = AllocationRecord.objects.filter(study=study, stratum=stratum)
        state = AllocationStratum.objects.get(study=study, stratum=stratum)
        reading = allocation.reconstruct_blocks(
            list(log.order_by("sequence_number").values_list("arm_kind", flat=True)),
            blocks_drawn=state.blocks_drawn,
            pending=state.pending,
        )
        got = [r.block_number for r in log.order_by("sequence_number")]
        if reading is None:
            assert got == [None] * len(got)
        else:
            assert got == [truth[r.pk] for r in log.order_by("sequence_number")]


@pytest.mark.django_db
def test_minimisation_has_no_blocks_and_the_analysis_says_so():
    study = _study(randomisation=Study.Randomisation.MINIMISATION)
    user = make_member(study, Role.RESEARCHER)
    rng = random.Random(2)
    for wijk in ["Noord", "Zuid", "Noord", "Zuid"]:
        _enrol(study, wijk, rng, user)
    assert set(AllocationRecord.objects.values_list("block_number", "block_size")) == {(None, None)}
    strata, blocks, note = selectors.allocation_cells(study)
    assert blocks is None and note == selectors.NOTE_MINIMISATION and len(strata) == 4


@pytest.mark.django_db
def test_a_backup_keeps_closed_blocks_and_leaves_out_the_open_one():
    from study.backup import study_backup

    study = _study()
    user = make_member(study, Role.RESEARCHER)
    rng = random.Random(4)
    for _ in range(9):
        _enrol(study, "Noord", rng, user)
    state = AllocationStratum.objects.get(study=study, stratum="noord")
    rows = {
        o["pk"]: o["fields"]
        for o in study_backup(study=study)["objects"]
        if o["model"] == "study.allocationrecord"
    }
    for record in AllocationRecord.objects.filter(study=study):
        still_open = bool(state.pending) and record.block_number == state.blocks_drawn
        expected = None if still_open else record.block_number
        assert rows[record.pk]["block_number"] == expected
        assert rows[record.pk]["block_size"] == (None if still_open else record.block_size)


@pytest.mark.django_db
def test_the_log_stays_append_only_after_the_migration_on_postgresql():
    from study.models.allocation import AllocationRecordError

    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    from importlib import import_module

    from django.db import DatabaseError, transaction

    migration = import_module("study.migrations.0024_allocation_blocks")
    study = _study()
    user = make_member(study, Role.RESEARCHER)
    _enrol(study, "Noord", random.Random(1), user)

    def execute(sql, params=None):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    migration.blocks_from_the_sequence(
        apps, SimpleNamespace(connection=connection, execute=execute)
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        AllocationRecord.objects.filter(study=study).update(block_number=5)
    with pytest.raises(AllocationRecordError):
        AllocationRecord.objects.get(study=study).delete()


@pytest.mark.django_db
def test_the_run_hands_the_blocks_of_the_log_to_the_analysis():
    import pandas as pd

    from analysis.effects import run_diagnostics as rd
    from analysis.runs.services import _with_strata

    study = _study()
    user = make_member(study, Role.RESEARCHER)
    rng = random.Random(6)
    families = [_enrol(study, wijk, rng, user) for wijk in ["Noord", "Zuid"] * 4]
    panel = pd.DataFrame({"family_id": [f.pk for f in families] + [999_999], "year": 2026})
    got, note = _with_strata(panel, study)
    assert note is None
    log = {r.family_id: r for r in AllocationRecord.objects.filter(study=study)}
    for family_id, label in zip(got["family_id"], got[rd.ALLOCATION_BLOCK], strict=True):
        if family_id in log:
            assert label == f"{log[family_id].stratum}#{log[family_id].block_number}"
        else:  # no allocation record: a cell of its own
            assert label == "unallocated-999999"
    assert set(got[rd.STRATUM]) == {"noord", "zuid", ""}
