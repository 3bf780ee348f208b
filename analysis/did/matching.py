"""Balance of the household characteristics and the diagnostics of a matched design (pure).

* :func:`household_balance`: one balance row per household characteristic at intake (the same
  rows as the registry outcomes' balance, period ``"intake"``): number of adults, number of
  children, a single adult, the intake year.
* :func:`matching_diagnostics`: how the pairs or sets were formed (the variables the set-up
  recorded, number and sizes of the sets, families outside a set, sets whose families entered
  in different intake years) and the balance after matching: the SMD over the families in
  complete sets (both arms present) and the mean within-set difference of each variable,
  standardised by the pooled SD of all families. Balance before matching needs the candidate
  pool the matches were drawn from (recorded per study as matching candidates): the SMD of
  every matching variable between the intervention families and the whole pool (selected or
  not), beside the balance after matching (``smd_before`` on each row after matching); without
  a recorded pool ``before`` is not computed and says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from analysis.did.diagnostics_parts import _balance_row, mark
from analysis.did.panel import json_safe

#: Household characteristics at intake (columns of the family frame, or derived from them).
HOUSEHOLD = ("n_adult", "n_child", "single_adult", "intake_year")
NO_POOL = "geen kandidatenpool vastgelegd: balans vóór het matchen is niet te tonen"
#: Columns of a candidate frame that are not matching variables.
CANDIDATE_COLUMNS = ("candidate_key", "selected", "match_set")


def household_frame(families: pd.DataFrame) -> pd.DataFrame:
    """Per family: arm01 and the household characteristics present in ``families``."""
    out = pd.DataFrame({"family_id": families["family_id"]})
    out["arm01"] = (families["arm"] == "intervention").astype(float).to_numpy()
    for col in ("n_adult", "n_child", "intake_year"):
        if col in families:
            out[col] = pd.to_numeric(families[col], errors="coerce").to_numpy(dtype=float)
    if "n_adult" in out:
        out["single_adult"] = (out["n_adult"] == 1).astype(float)
    for col in ("match_set",):
        if col in families:
            out[col] = families[col].fillna("").astype(str).to_numpy()
    return out


def household_balance(
    families: pd.DataFrame, variables: Sequence[str] = HOUSEHOLD
) -> list[dict[str, Any]]:
    """Balance rows (``period: "intake"``) of the household characteristics (see module)."""
    frame = household_frame(families).set_index("family_id")
    arms = frame["arm01"]
    rows = [
        _balance_row(v, "intake", frame[v], arms)
        for v in variables
        if v in frame and frame[v].notna().any()
    ]
    return json_safe(rows)


def _within_set_difference(frame: pd.DataFrame, v: str, sd: float) -> float | None:
    """Mean over complete sets of (intervention mean - comparison mean), divided by ``sd``."""
    g = frame.pivot_table(index="match_set", columns="arm01", values=v, aggfunc="mean")
    if 0.0 not in g or 1.0 not in g:
        return None
    diff = (g[1.0] - g[0.0]).dropna()
    if diff.empty or not sd or not math.isfinite(sd):
        return None
    return float(diff.mean() / sd)


def matching_diagnostics(
    families: pd.DataFrame,
    *,
    match_variables: str = "",
    outcomes: pd.DataFrame | None = None,
    candidates: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The matched design's diagnostics (see the module docstring).

    ``families``: family_id, arm, intake_year, n_adult, n_child, match_set ("" outside a set).
    ``outcomes``: optional per-family pre-intake values (family_id and one column per registry
    outcome, e.g. the T-1 level) balanced after matching too. ``candidates``: the recorded
    candidate pool (candidate_key, selected, match_set and one column per matching variable:
    household characteristics by their family column's name, registry outcomes by their code
    for the level at T-1, intake_year), for balance before matching.
    """
    frame = household_frame(families)
    if "match_set" not in frame or not (frame["match_set"] != "").any():
        return {"computed": False, "reason": "geen gematchte paren of sets vastgelegd"}
    if outcomes is not None and not outcomes.empty:
        frame = frame.merge(outcomes, on="family_id", how="left")
    in_set = frame.loc[frame["match_set"] != ""]
    arms_per_set = in_set.groupby("match_set")["arm01"].agg(["min", "max", "size"])
    complete = arms_per_set.index[(arms_per_set["min"] == 0) & (arms_per_set["max"] == 1)]
    matched = in_set.loc[in_set["match_set"].isin(complete)]
    sizes = in_set.groupby("match_set").apply(
        lambda g: f"{int(g.arm01.sum())}:{int((g.arm01 == 0).sum())}", include_groups=False
    )
    split = 0
    if "intake_year" in in_set:
        years = in_set.groupby("match_set")["intake_year"].agg(["min", "max"])
        split = int((years["min"] != years["max"]).sum())
    variables = [c for c in frame.columns if c not in ("family_id", "arm01", "match_set")]
    after = []
    for v in variables:
        values = matched.set_index("family_id")[v]
        if values.notna().sum() == 0:
            continue
        row = _balance_row(v, "after matching", values, matched.set_index("family_id")["arm01"])
        pooled = float(pd.to_numeric(frame[v], errors="coerce").std(ddof=1))
        within = _within_set_difference(matched, v, pooled)
        row["within_set_smd"] = within
        row["within_set_mark"] = mark(within) if within is not None else None
        after.append(row)
    out: dict[str, Any] = {
        "computed": True,
        "variables": match_variables or "niet vastgelegd",
        "n_sets": int(arms_per_set.shape[0]),
        "n_complete_sets": int(len(complete)),
        "set_sizes": {k: int(n) for k, n in sizes.value_counts().sort_index().items()},
        "families_in_complete_sets": int(len(matched)),
        "families_outside_sets": int((frame["match_set"] == "").sum())
        + int(len(in_set) - len(matched)),
        "sets_across_intake_years": split,
        "after": after,
    }
    if candidates is None or candidates.empty:
        out["before"] = {"computed": False, "reason": NO_POOL}
    else:
        out["before"] = balance_before_matching(frame, candidates)
        out["pool"] = {
            "n_candidates": int(len(candidates)),
            "n_selected": int(candidates["selected"].astype(bool).sum())
            if "selected" in candidates
            else None,
        }
        before = {r["variable"]: r for r in out["before"]}
        for row in after:
            b = before.get(row["variable"])
            if b is not None:
                row["smd_before"], row["mark_before"] = b["smd"], b["mark"]
                row["n_candidates"] = b["n_comparison"]
    return json_safe(out)


def balance_before_matching(frame: pd.DataFrame, candidates: pd.DataFrame) -> list[dict]:
    """SMD of each matching variable of the pool: the intervention families (``frame``, as
    household_frame with the T-1 registry levels) against every candidate. A candidate value
    named like a registry outcome is its level at T-1 (the family column ``<code> T-1``)."""
    treated = frame.loc[frame["arm01"] == 1]
    rows = []
    for v in [c for c in candidates.columns if c not in CANDIDATE_COLUMNS]:
        column = v if v in treated else f"{v} T-1" if f"{v} T-1" in treated else None
        pool = pd.to_numeric(candidates[v], errors="coerce")
        if column is None or pool.notna().sum() == 0:
            continue
        values = pd.concat(
            [pd.to_numeric(treated[column], errors="coerce"), pool], ignore_index=True
        )
        arms = pd.Series([1.0] * len(treated) + [0.0] * len(pool))
        rows.append(_balance_row(column, "before matching", values, arms))
    return rows
