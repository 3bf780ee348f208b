"""Summaries a run reports next to the effects (pure): the flow of families per arm and status,
the dose of the approach and the costs per domain (the minimum detectable effect is the plan's
pre-registered one: analysis/effects/planned_mde.py)."""

from __future__ import annotations

import pandas as pd

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
