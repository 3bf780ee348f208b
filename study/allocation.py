"""Concealed randomisation, pure (no Django): permuted blocks of varying size per stratum, or
minimisation over the stratification factors with a random element.

Each stratum draws a block at random from `BLOCK_SIZES` (every size a multiple of the number of
arms), fills it with each arm equally often and shuffles it; allocations are taken from the front
of the block, and a new block is drawn when it is used up. So within a stratum the two arms never
differ by more than half the largest block, at every point of the sequence, and the size of the
next block cannot be known (the next allocation cannot be guessed from the running totals).

Minimisation (`minimise`) balances each factor's levels (the margins) instead of each
stratum (their crossing), which stays balanced with many small strata where blocks would leave
each stratum's last block open; see its docstring for the rule and the bound.

The random source is `secrets.SystemRandom` by default (not reproducible from a seed that someone
could read); tests pass a seeded `random.Random`.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping, Sequence
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


def stratum_key(*, strata: str, wijk: str = "", adults: int = 1) -> str:
    """The stratum a family falls in: '' when the study does not stratify, else its levels of
    the study's factors (normalised so 'Noord ' and 'noord' are one stratum), crossed."""
    return key_of(profile(strata=strata, wijk=wijk, adults=adults))


# --- Stratification factors -------------------------------------------------------------------

#: The baseline characteristics a randomised study can stratify (or minimise) on, each known at
#: enrolment: the family's district and its household (one adult, or two or more).
FACTORS: tuple[str, ...] = ("wijk", "household")
STRATA_CHOICES: tuple[str, ...] = ("", "wijk", "household", "wijk,household")


def factors_of(strata: str) -> tuple[str, ...]:
    """The factors of a study's `allocation_strata` ('' none, 'wijk', 'wijk,household', ...)."""
    names = tuple(part.strip() for part in strata.split(",") if part.strip())
    unknown = [name for name in names if name not in FACTORS]
    if unknown:
        raise ValueError(f"unknown stratification {unknown[0]!r}")
    return names


def household_level(adults: int) -> str:
    return "1" if adults <= 1 else "2+"


def profile(*, strata: str, wijk: str = "", adults: int = 1) -> dict[str, str]:
    """The family's level of each factor of the study (factor -> level)."""
    levels = {}
    for name in factors_of(strata):
        if name == "wijk":
            # '|' separates the levels in a stratum key, so it never stands in one.
            levels[name] = " ".join(wijk.replace("|", " ").split()).casefold()
        else:
            levels[name] = household_level(adults)
    return levels


def key_of(levels: Mapping[str, str]) -> str:
    """The stratum key of a profile: the levels in the factors' order, joined by ' | '."""
    return " | ".join(levels[name] for name in FACTORS if name in levels)


def levels_of(key: str, *, strata: str) -> dict[str, str]:
    """The inverse of `key_of` for a study's factors."""
    names = factors_of(strata)
    if not names:
        return {}
    parts = key.split(" | ")
    if len(parts) != len(names):
        raise ValueError(f"stratum {key!r} does not hold the factors {names}")
    ordered = [name for name in FACTORS if name in names]
    return dict(zip(ordered, parts, strict=True))


# --- Minimisation (Pocock-Simon) ---------------------------------------------------------------

#: The probability that minimisation gives the arm that lowers the imbalance (the random element:
#: with 0.8 the next arm can never be known for certain, Pocock & Simon 1975; Altman & Bland 2005).
MINIMISATION_P = 0.8
#: Minimisation takes the arm that lowers the imbalance for certain once one of the family's
#: levels has an arm ahead by this many (below it, the random element decides with `p`).
FORCE_AT = 2
#: The marginal bound the randomisation test holds minimisation to with two factors (wijk and
#: household): within every level of every factor the arms never differ by more than this, at
#: every point of 10,000 draws (a target the rule keeps, not a theorem: a family whose two levels
#: stand at +3 and -3 at once could push one to 4).
MARGINAL_BOUND = 3
METHOD_MINIMISATION = "minimisation (Pocock-Simon, p 0.8)"


def marginal_imbalance(
    counts: Mapping[str, Mapping[str, Mapping[str, int]]],
    levels: Mapping[str, str],
    arms: Sequence[str] = ARMS,
) -> dict[str, int]:
    """factor -> (first arm minus second arm) in the family's level of that factor; without
    factors the totals ('' -> difference)."""
    first, second = arms
    items = levels.items() if levels else [("", "")]
    result = {}
    for factor, level in items:
        cell = counts.get(factor, {}).get(level, {})
        result[factor] = cell.get(first, 0) - cell.get(second, 0)
    return result


def minimise(
    levels: Mapping[str, str],
    counts: Mapping[str, Mapping[str, Mapping[str, int]]],
    *,
    arms: Sequence[str] = ARMS,
    p: float = MINIMISATION_P,
    force_at: int = FORCE_AT,
    rng: random.Random | None = None,
) -> str:
    """The arm of the next family by minimisation over the marginal counts (factor -> level ->
    arm -> families so far: the revealed allocations, so there is nothing to conceal).

    For each arm the imbalance after giving it is, over the family's levels, the largest
    absolute difference between the arms and then their sum (Pocock-Simon with the range; the
    largest first so that no single margin runs away). Equal imbalances: a fair coin. Else the
    arm with the lower imbalance with probability `p`, or for certain when one of the family's
    levels already has an arm `force_at` ahead. Without factors it is a biased coin on the
    totals (Efron's)."""
    if len(arms) != 2:
        raise ValueError("minimisation here is for two arms")
    if not 0.5 <= p <= 1:
        raise ValueError("p lies between 0.5 and 1")
    source = _rng(rng)
    diffs = list(marginal_imbalance(counts, levels, arms).values())
    after = {arms[0]: [d + 1 for d in diffs], arms[1]: [d - 1 for d in diffs]}
    score = {
        arm: (max(abs(d) for d in after[arm]), sum(abs(d) for d in after[arm])) for arm in arms
    }
    if score[arms[0]] == score[arms[1]]:
        return source.choice(list(arms))
    best = min(arms, key=lambda arm: score[arm])
    other = arms[1] if best == arms[0] else arms[0]
    if max(abs(d) for d in diffs) >= force_at:
        return best
    return best if source.random() < p else other


def add_to_counts(
    counts: dict[str, dict[str, dict[str, int]]], levels: Mapping[str, str], arm: str
) -> None:
    """Count an allocation in its levels (and, without factors, in the totals)."""
    for factor, level in levels.items() if levels else [("", "")]:
        cell = counts.setdefault(factor, {}).setdefault(level, {})
        cell[arm] = cell.get(arm, 0) + 1


# --- Blocks of allocations made before their blocks were recorded -------------------------------


def reconstruct_blocks(
    revealed: Sequence[str],
    *,
    blocks_drawn: int,
    pending: Sequence[str],
    arms: Sequence[str] = ARMS,
    sizes: Sequence[int] = BLOCK_SIZES,
) -> list[tuple[int, int]] | None:
    """(block number, block size) of each revealed allocation of a stratum, in order, when the
    stored sequence allows only one reading; else None.

    The stratum's ``revealed`` arms must split into exactly ``blocks_drawn`` consecutive blocks,
    each of an allowed size holding every arm equally often, the last one completed by the
    concealed ``pending`` rest. A sequence that balances part-way through a block (I C | C I
    could be one block of four or two of two) usually has more than one such split: then
    nothing is guessed."""
    n, k = len(revealed), blocks_drawn
    if n == 0 or k < 1 or k > n:
        return None

    def balanced(block: Sequence[str]) -> bool:
        share, rest = divmod(len(block), len(arms))
        return len(block) in sizes and not rest and all(block.count(a) == share for a in arms)

    # ways[j][i]: readings of revealed[i:] as j blocks, the last with `pending` (capped at 2).
    ways = [[0] * (n + 1) for _ in range(k + 1)]
    for i in range(n):
        ways[1][i] = int(balanced([*revealed[i:], *pending]))
    for j in range(2, k + 1):
        for i in range(n):
            ways[j][i] = min(
                2,
                sum(
                    ways[j - 1][i + s] for s in sizes if i + s < n and balanced(revealed[i : i + s])
                ),
            )
    if ways[k][0] != 1:
        return None
    out: list[tuple[int, int]] = []
    i = 0
    for j in range(k, 1, -1):
        s = next(
            s
            for s in sizes
            if i + s < n and balanced(revealed[i : i + s]) and ways[j - 1][i + s] == 1
        )
        out.extend([(k - j + 1, s)] * s)
        i += s
    out.extend([(k, n - i + len(pending))] * (n - i))
    return out
