"""Summaries a run reports next to the effects (pure): the flow of families per arm and status,
the dose of the approach, minimum detectable effects and the costs per domain."""

from __future__ import annotations

import math

import pandas as pd

from analysis import did
from analysis.did.panel import json_safe


def attrition_summary(families: pd.DataFrame) -> list[dict]:
    """Families per arm and status (the flow table of the methods section)."""
    table = families.groupby(["arm", "status"]).size().rename("n").reset_index()
    return [{"arm": r.arm, "status": r.status, "n": int(r.n)} for r in table.itertuples()]


def dose_summary(panel: pd.DataFrame) -> list[dict]:
    """Contacts and hours per family per year after intake, by arm (the dose of the approach)."""
    post = panel.loc[panel["year"] >= panel["intake_year"]]
    grouped = post.groupby("arm")
    return [
        {
            "arm": arm,
            "families": int(g["family_id"].nunique()),
            "contacts_per_year": json_safe(float(g["contacts"].mean())),
            "hours_per_year": json_safe(float(g["contact_hours"].mean())),
        }
        for arm, g in grouped
    ]


def mde_for(panel: pd.DataFrame, code: str) -> dict | None:
    """Minimum detectable effect (80% power, 5%) from the observed spread of an outcome."""
    data = panel[["family_id", "arm", "year", "intake_year", code]].dropna()
    if data.empty:
        return None
    sd = float(data[code].std(ddof=1))
    if not sd or math.isnan(sd):
        return None
    fam_means = data.groupby("family_id")[code].mean()
    icc = (
        float(min(max(fam_means.var(ddof=1) / (sd * sd), 0.0), 0.95)) if len(fam_means) > 2 else 0.3
    )
    n_t = int(data.loc[data["arm"] == "intervention", "family_id"].nunique())
    n_c = int(data.loc[data["arm"] != "intervention", "family_id"].nunique())
    n_pre = max(
        1, int((data["year"] <= data["intake_year"]).groupby(data["family_id"]).sum().median())
    )
    n_post = max(
        1, int((data["year"] > data["intake_year"]).groupby(data["family_id"]).sum().median())
    )
    try:
        res = did.mde_analytic(n_t, n_c, n_pre, n_post, icc, sd)
    except (ValueError, did.PanelError):
        return None
    return {
        "outcome": code,
        "mde": json_safe(float(res.mde)),
        "sd": json_safe(sd),
        "icc": json_safe(icc),
        "n_treated": n_t,
        "n_control": n_c,
    }


def mde_summary(panel: pd.DataFrame, outcomes: list[dict]) -> list[dict]:
    """Minimum detectable effects of the given outcomes (dicts with a code) the panel holds."""
    found = (mde_for(panel, o["code"]) for o in outcomes if o["code"] in panel)
    return [m for m in found if m]


def cost_summary(
    domains: pd.DataFrame | None,
    families: pd.DataFrame,
    *,
    price_year: int,
    baseline: dict | None,
) -> dict:
    """Mean costs per family by arm and cost domain (complete years only), next to the baseline
    report's cost per family (``baseline``: point, low, high; None when it cannot be indexed)."""
    summary: dict = {"price_year": price_year, "baseline": baseline}
    if domains is None or domains.empty:
        return summary
    arms = families[["family_id", "arm"]].rename(columns={"family_id": "family"})
    d = domains.merge(arms, on="family").rename(columns={"period": "year"})
    d = d.loc[d["complete"]]
    grouped = d.groupby(["arm", "domain"]).agg(
        mean_eur=("total_eur", "mean"), n=("family", "nunique")
    )
    summary["by_domain"] = [
        {"arm": a, "domain": dom, "mean_eur": float(r.mean_eur), "n": int(r.n)}
        for (a, dom), r in grouped.iterrows()
    ]
    return summary
