"""Calibration steps of the synthetic population: domain flags, indicators, support (pure NumPy).

The targets are the Almelo 2014 tables and the domain brief's overlap and support figures; see
analysis/monitor/synthetic.py for how a municipality is assembled from these steps:

1. Households with a child get the three domain flags. The joint 2x2x2 distribution starts from
   the Almelo overlap table (domain brief) and is fitted per wijk to the wijk's domain counts by
   iterative proportional fitting; domain counts per wijk are then realised exactly.
2. Within each domain every indicator reaches its table count exactly: each household with a
   problem first gets one indicator (so the domain count holds), the rest of each indicator's
   count is spread over the other households of that domain. Indicators the report does not show
   (AWBZ, addiction and outreach care) fill the gap between the shown indicators and the domain.
3. Support in Y-1 and Y-2 follows the brief's counts (2012: 2,046 / 181 MVP; 2013: 2,097 / 199;
   both 1,975 / 174), so the MPG count is designed, not left to chance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.monitor.catalogue import Catalogue
from analysis.monitor.report_columns import REPORT_COLUMNS, column_codes

#: Overlap of the domains among Almelo's households with a child (domain brief). The number with
#: all three (MVP) is not published; 230 is our assumption, consistent with 199 MVP having support
#: in 2013 and 174 MPG.
ALMELO_OVERLAP = {"1": 3719, "2": 1289, "3": 1139, "12": 947, "13": 602, "23": 301, "123": 230}

#: Support in the two preceding years, MVP and other households with a child (domain brief):
#: (both years, Y-1 only, Y-2 only).
ALMELO_SUPPORT_MVP = (174, 199 - 174, 181 - 174)
ALMELO_SUPPORT_OTHER = (1975 - 174, 2097 - 1975 - (199 - 174), 2046 - 1975 - (181 - 174))
ALMELO_HOUSEHOLDS_WITH_CHILD = 8555

#: Indicators the report does not show, as a share of the domain's households (assumption).
FILLER_RATES: dict[int, dict[str, float]] = {
    2: {
        "adult_awbz_psychosocial": 0.08,
        "adult_awbz_intellectual": 0.04,
        "adult_awbz_physical": 0.06,
        "adult_addiction_care": 0.07,
        "adult_outreach_care": 0.03,
    },
    3: {
        "child_awbz_psychosocial": 0.03,
        "child_awbz_intellectual": 0.02,
        "child_awbz_physical": 0.02,
    },
}

#: Offence type of an adult police suspect (shares of suspects; assumption). The codes come from
#: the catalogue's police group; one without a share here is never drawn.
POLICE_TYPE_SHARES: dict[str, float] = {
    "adult_police_murder": 0.005,
    "adult_police_sexual": 0.015,
    "adult_police_property": 0.35,
    "adult_police_assault": 0.2,
    "adult_police_threat": 0.08,
    "adult_police_vandalism": 0.15,
    "adult_police_traffic": 0.06,
    "adult_police_economic": 0.02,
    "adult_police_drugs": 0.08,
    "adult_police_other": 0.04,
}


@dataclass
class UnitTarget:
    """Calibration targets of one unit (a wijk, or a whole municipality split into wijken)."""

    name: str
    households_with_child: int
    domain_counts: dict[int, int]
    indicator_counts: dict[str, int]  # report column -> households


# --- step 1: domain flags -------------------------------------------------------------------


def _overlap_seed() -> np.ndarray:
    """2x2x2 counts (d1, d2, d3) implied by the Almelo overlap figures."""
    o = ALMELO_OVERLAP
    t = np.zeros((2, 2, 2))
    t[1, 1, 1] = o["123"]
    t[1, 1, 0] = o["12"] - o["123"]
    t[1, 0, 1] = o["13"] - o["123"]
    t[0, 1, 1] = o["23"] - o["123"]
    t[1, 0, 0] = o["1"] - o["12"] - o["13"] + o["123"]
    t[0, 1, 0] = o["2"] - o["12"] - o["23"] + o["123"]
    t[0, 0, 1] = o["3"] - o["13"] - o["23"] + o["123"]
    t[0, 0, 0] = ALMELO_HOUSEHOLDS_WITH_CHILD - t.sum()
    return t


def fit_margins(
    seed: np.ndarray, n: int, margins: dict[int, int], iterations: int = 50
) -> np.ndarray:
    """Iterative proportional fitting of a 2x2x2 table to n and the three 'yes' margins."""
    table = seed / seed.sum() * n
    for _ in range(iterations):
        for axis, d in enumerate((1, 2, 3)):
            target = np.array([n - margins[d], margins[d]], dtype=float)
            current = table.sum(axis=tuple(a for a in range(3) if a != axis))
            factor = np.divide(target, current, out=np.zeros(2), where=current > 0)
            shape = [1, 1, 1]
            shape[axis] = 2
            table = table * factor.reshape(shape)
    return table


def fitted_domain_tables(units: list[UnitTarget], rounds: int = 30) -> list[np.ndarray]:
    """Expected 2x2x2 tables per unit whose sum over units matches the Almelo overlap figures."""
    seed = _overlap_seed()
    target = _overlap_seed()
    for _ in range(rounds):
        tables = [fit_margins(seed, u.households_with_child, u.domain_counts) for u in units]
        total = np.sum(tables, axis=0)
        # Nudge the interactions: pairs and the triple towards the brief's overlap figures.
        for cells in (((1, 1, 0),), ((1, 0, 1),), ((0, 1, 1),), ((1, 1, 1),)):
            idx = cells[0]
            if total[idx] > 0:
                seed[idx] *= target[idx] / total[idx]
    return [fit_margins(seed, u.households_with_child, u.domain_counts) for u in units]


def largest_remainder(weights: np.ndarray, total: int, caps: np.ndarray) -> np.ndarray:
    """Integers summing to ``total`` (when caps allow), proportional to weights, each <= cap."""
    weights = np.maximum(np.asarray(weights, dtype=float), 0)
    caps = np.asarray(caps, dtype=np.int64)
    total = int(min(total, caps.sum()))
    if total <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    if weights.sum() <= 0:
        weights = caps.astype(float)
    raw = weights / weights.sum() * total
    out = np.minimum(np.floor(raw).astype(np.int64), caps)
    while out.sum() < total:
        room = caps - out
        score = np.where(room > 0, raw - out, -np.inf)
        out[int(np.argmax(score))] += 1
    return out


def assign_domains(
    rng: np.random.Generator, n: int, margins: dict[int, int], expected: np.ndarray
) -> np.ndarray:
    """(n, 3) boolean domain flags with exactly the given margins and about the expected overlaps."""
    flags = np.zeros((n, 3), dtype=bool)
    m1, m2, m3 = (min(margins[d], n) for d in (1, 2, 3))
    flags[rng.choice(n, m1, replace=False), 0] = True
    k12 = int(round(expected[1, 1, :].sum()))
    k12 = min(max(k12, m1 + m2 - n, 0), m1, m2)
    in1 = np.flatnonzero(flags[:, 0])
    out1 = np.flatnonzero(~flags[:, 0])
    flags[rng.choice(in1, k12, replace=False), 1] = True
    flags[rng.choice(out1, m2 - k12, replace=False), 1] = True
    groups = [
        np.flatnonzero((flags[:, 0] == a) & (flags[:, 1] == b)) for a in (0, 1) for b in (0, 1)
    ]
    weights = np.array([expected[a, b, 1] for a in (0, 1) for b in (0, 1)])
    counts = largest_remainder(weights, m3, np.array([len(g) for g in groups]))
    for members, k in zip(groups, counts, strict=True):
        flags[rng.choice(members, int(k), replace=False), 2] = True
    return flags


# --- step 2: indicators ---------------------------------------------------------------------


def _domain_targets(domain: int, n_domain: int, counts: dict[str, int]) -> dict[str, int]:
    """Households per report column (plus fillers) among the domain's n households; sum >= n."""
    targets = {
        col: min(counts.get(col, 0), n_domain)
        for col, (d, _) in REPORT_COLUMNS.items()
        if d == domain
    }
    fillers = FILLER_RATES.get(domain, {})
    if fillers:
        shown = sum(targets.values())
        scale = max(1.0, (n_domain * 1.05 - shown) / max(sum(fillers.values()) * n_domain, 1e-9))
        for code, rate in fillers.items():
            targets[code] = min(int(round(rate * scale * n_domain)), n_domain)
    short = n_domain - sum(targets.values())
    if short > 0 and targets:
        biggest = max(targets, key=lambda c: targets[c])
        targets[biggest] = min(targets[biggest] + short, n_domain)
    return targets


def _spread_indicators(
    rng: np.random.Generator, members: np.ndarray, targets: dict[str, int]
) -> dict[str, np.ndarray]:
    """For each target, the positions (subset of members) that have it; every member gets one."""
    n = len(members)
    names = list(targets)
    if n == 0 or not names:
        return dict.fromkeys(names, members[:0])
    wanted = np.array([targets[c] for c in names], dtype=np.int64)
    primary = largest_remainder(wanted.astype(float), n, wanted)
    owner = np.repeat(np.arange(len(names)), primary)
    order = rng.permutation(n)[: len(owner)]
    has = np.zeros((n, len(names)), dtype=bool)
    has[order, owner] = True
    for k in range(len(names)):
        extra = int(wanted[k] - primary[k])
        if extra > 0:
            free = np.flatnonzero(~has[:, k])
            has[rng.choice(free, min(extra, len(free)), replace=False), k] = True
    return {name: members[has[:, k]] for k, name in enumerate(names)}


def indicator_values(rng: np.random.Generator, kind: str, size: int) -> np.ndarray:
    """Plausible positive values of an indicator of this kind."""
    if kind == "flag":
        return np.ones(size, dtype=np.int32)
    if kind in ("count_persons", "count_trajectories"):
        return 1 + (rng.random(size) < 0.15).astype(np.int32)
    if kind == "count_offences":
        return 1 + rng.poisson(0.5, size).astype(np.int32)
    if kind == "days":
        return rng.integers(14, 366, size, dtype=np.int32)
    if kind == "euros":
        return np.maximum(50, rng.lognormal(7.0, 1.0, size)).astype(np.int32)
    return np.ones(size, dtype=np.int32)


def _set_column(
    rng, values: dict[str, np.ndarray], code: str, rows: np.ndarray, catalogue: Catalogue
) -> None:
    if code not in values or len(rows) == 0:
        return
    indicator = catalogue.get(code)
    if code == "moves":
        values[code][rows] = rng.integers(2, 5, len(rows), dtype=np.int32)
    else:
        values[code][rows] = indicator_values(rng, indicator.kind, len(rows))


def fill_domain_indicators(rng, values, positions, domain, counts, catalogue) -> None:
    targets = _domain_targets(domain, len(positions), counts)
    for name, rows in _spread_indicators(rng, positions, targets).items():
        if name == "adult_police_suspect":
            codes = column_codes(catalogue, name)
            shares = np.array([POLICE_TYPE_SHARES.get(code, 0.0) for code in codes])
            kinds = rng.choice(len(codes), size=len(rows), p=shares / shares.sum())
            for k, code in enumerate(codes):
                _set_column(rng, values, code, rows[kinds == k], catalogue)
        elif name in REPORT_COLUMNS:
            for code in column_codes(catalogue, name):
                _set_column(rng, values, code, rows, catalogue)
        else:
            _set_column(rng, values, name, rows, catalogue)


# --- step 3: support in the preceding years -------------------------------------------------


def support_plan(rng, mvp: np.ndarray, other_weight: np.ndarray, n_child: int, mpg: int | None):
    """Booleans (support in Y-1, support in Y-2) for households with a child."""
    y1 = np.zeros(len(mvp), dtype=bool)
    y2 = np.zeros(len(mvp), dtype=bool)
    mvp_rows = rng.permutation(np.flatnonzero(mvp))
    n_mvp = len(mvp_rows)
    both, only1, only2 = ALMELO_SUPPORT_MVP
    if mpg is None:
        share = np.array([both, only1, only2]) / ALMELO_OVERLAP["123"]
        k = np.floor(share * n_mvp + 0.5).astype(int)
    else:
        rest = max(n_mvp - mpg, 0)
        k = np.array(
            [min(mpg, n_mvp), *np.floor(np.array([only1, only2]) / 56 * rest + 0.5).astype(int)]
        )
    k = np.minimum(k, n_mvp)
    cut = np.cumsum(k)
    y1[mvp_rows[: cut[1]]] = True
    y2[mvp_rows[: cut[0]]] = True
    y2[mvp_rows[cut[1] : cut[2]]] = True
    # Other households with a child: weighted sampling without replacement (Efraimidis-Spirakis),
    # households with a psychosocial problem about ten times as likely to have support.
    others = np.flatnonzero(~mvp)
    scale = n_child / ALMELO_HOUSEHOLDS_WITH_CHILD
    m = np.floor(np.array(ALMELO_SUPPORT_OTHER) * scale + 0.5).astype(int)
    keys = rng.random(len(others)) ** (1.0 / other_weight[others])
    chosen = others[np.argsort(-keys)[: m.sum()]]
    cut = np.cumsum(m)
    y1[chosen[: cut[1]]] = True
    y2[chosen[: cut[0]]] = True
    y2[chosen[cut[1] : cut[2]]] = True
    return y1, y2
