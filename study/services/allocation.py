"""Enrolment in a randomised study: the arm is drawn by the app at the moment of enrolment
(concealed permuted blocks, or minimisation over the stratification factors; both in the pure
`study.allocation`), and the allocation is logged (append-only)."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from study import allocation
from study.models import AllocationRecord, AllocationStratum, Family, Member, Study
from study.services.families import MemberSpec, family_enrol


def _draw(
    *, study: Study, stratum: str, rng: random.Random | None
) -> tuple[str, int, int | None, int | None]:
    """The next arm of the stratum, its number in the stratum, and its block's number and size
    (the stratum row is locked for the rest of the transaction, so two enrolments never take
    the same place). A new block gets the next number of the stratum; an allocation from the
    current block gets the block of the stratum's previous allocation (None when that one's
    block is not known: made before blocks were recorded and not reconstructed)."""
    state, _created = AllocationStratum.objects.select_for_update().get_or_create(
        study=study, stratum=stratum
    )
    arm, new = allocation.next_allocation(
        allocation.StratumState(pending=list(state.pending), blocks_drawn=state.blocks_drawn),
        rng=rng,
    )
    started = new.blocks_drawn != state.blocks_drawn
    state.pending, state.blocks_drawn = new.pending, new.blocks_drawn
    state.save(update_fields=["pending", "blocks_drawn"])
    earlier = AllocationRecord.objects.filter(study=study, stratum=stratum)
    number = earlier.count() + 1
    if started:
        top = earlier.aggregate(top=Max("block_number"))["top"] or 0
        return arm, number, top + 1, 1 + len(new.pending)
    previous = earlier.order_by("-sequence_number").values("block_number", "block_size").first()
    if previous is None:
        return arm, number, None, None
    return arm, number, previous["block_number"], previous["block_size"]


def _minimise(*, study: Study, stratum: str, rng: random.Random | None) -> tuple[str, int]:
    """The next arm by minimisation over the margins of the revealed allocations (the study
    row is locked by the caller, so two enrolments never count the same margins)."""
    counts: dict[str, dict[str, dict[str, int]]] = {}
    number = 1
    for key, arm in AllocationRecord.objects.filter(study=study).values_list("stratum", "arm_kind"):
        allocation.add_to_counts(
            counts, allocation.levels_of(key, strata=study.allocation_strata), arm
        )
        if key == stratum:
            number += 1
    levels = allocation.levels_of(stratum, strata=study.allocation_strata)
    return allocation.minimise(levels, counts, rng=rng), number


@transaction.atomic
def family_enrol_randomised(
    *,
    study: Study,
    intake_date: date,
    eligibility: Mapping[str, bool],
    members: Iterable[MemberSpec],
    wijk: str = "",
    identifier: str | None = None,
    linkage_key: str = "",
    eligibility_override_reason: str = "",
    user=None,
    rng: random.Random | None = None,
) -> Family:
    """Enrol a family in a randomised study: everything is checked, then its arm is drawn and
    revealed (returned on the family) and logged. Nothing is drawn when a check fails."""
    study = Study.objects.select_for_update().get(pk=study.pk)
    if study.allocation_method != Study.AllocationMethod.RANDOMISED:
        raise ValidationError({"arm": _("This study is not randomised: choose the arm.")})
    specs = list(members)
    adults = sum(1 for spec in specs if spec.role == Member.Role.ADULT)
    levels = allocation.profile(strata=study.allocation_strata, wijk=wijk, adults=adults)
    if "wijk" in levels and not levels["wijk"]:
        raise ValidationError(
            {"wijk": _("Allocation is stratified by district: give the district.")}
        )
    stratum = allocation.key_of(levels)
    if study.randomisation == Study.Randomisation.MINIMISATION:
        method = allocation.METHOD_MINIMISATION
        arm_kind, number = _minimise(study=study, stratum=stratum, rng=rng)
        block_number = block_size = None  # minimisation has no blocks
    else:
        method = allocation.METHOD
        arm_kind, number, block_number, block_size = _draw(study=study, stratum=stratum, rng=rng)
    family = family_enrol(
        study=study,
        arm_kind=arm_kind,
        intake_date=intake_date,
        allocation=Family.Allocation.RANDOMISED,
        eligibility=eligibility,
        members=specs,
        wijk=wijk,
        identifier=identifier,
        linkage_key=linkage_key,
        allocation_date=timezone.localdate(),
        eligibility_override_reason=eligibility_override_reason,
        user=user,
    )
    AllocationRecord.objects.create(
        study=study,
        family=family,
        stratum=stratum,
        sequence_number=number,
        block_number=block_number,
        block_size=block_size,
        arm_kind=arm_kind,
        method=method,
        allocated_by=user,
    )
    return family
