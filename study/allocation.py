"""Concealed randomisation, pure (no Django): permuted blocks of varying size, per stratum.

Each stratum draws a block at random from `BLOCK_SIZES` (every size a multiple of the number of
arms), fills it with each arm equally often and shuffles it; allocations are taken from the front
of the block, and a new block is drawn when it is used up. So within a stratum the two arms never
differ by more than half the largest block, at every point of the sequence, and the size of the
next block cannot be known (the next allocation cannot be guessed from the running totals).

The random source is `secrets.SystemRandom` by default (not reproducible from a seed that someone
could read); tests pass a seeded `random.Random`.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

ARMS: tuple[str, str] = ("intervention", "comparison")
BLOCK_SIZES: tuple[int, ...] = (2, 4, 6)
METHOD = "permuted blocks (2, 4, 6)"


def _rng(rng: random.Random | None) -> random.Random:
    return rng if rng is not None else secrets.SystemRandom()


def new_block(
    *,
    arms: Sequence[str] = ARMS,
    sizes: Sequence[int] = BLOCK_SIZES,
    rng: random.Random | None = None,
) -> list[str]:
    """One shuffled block: a size drawn from `sizes`, each arm equally often."""
    if not arms or any(size % len(arms) for size in sizes):
        raise ValueError("every block size must be a multiple of the number of arms")
    source = _rng(rng)
    size = source.choice(list(sizes))
    block = [arm for arm in arms for _ in range(size // len(arms))]
    source.shuffle(block)
    return block


@dataclass
class StratumState:
    """What a stratum holds between allocations: the rest of its current block."""

    pending: list[str] = field(default_factory=list)
    blocks_drawn: int = 0


def next_allocation(
    state: StratumState,
    *,
    arms: Sequence[str] = ARMS,
    sizes: Sequence[int] = BLOCK_SIZES,
    rng: random.Random | None = None,
) -> tuple[str, StratumState]:
    """The arm of the next family in this stratum, and the stratum's new state."""
    pending = list(state.pending)
    drawn = state.blocks_drawn
    if not pending:
        pending = new_block(arms=arms, sizes=sizes, rng=rng)
        drawn += 1
    arm, rest = pending[0], pending[1:]
    return arm, StratumState(pending=rest, blocks_drawn=drawn)


def stratum_key(*, strata: str, wijk: str = "") -> str:
    """The stratum a family falls in: '' when the study does not stratify, else the value of
    the baseline characteristic (normalised so 'Noord ' and 'noord' are one stratum)."""
    if not strata:
        return ""
    if strata == "wijk":
        return " ".join(wijk.split()).casefold()
    raise ValueError(f"unknown stratification {strata!r}")
