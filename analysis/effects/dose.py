"""Dose-response within the intervention arm: do effects grow with the dose of the approach?

Pure pandas/statsmodels (no Django). The dose of a family is its mean contact hours per year
from the intake year on (contact logs, analysis/effects/derive.py). For every post-intake year of an
intervention family the outcome's change from the family's own baseline (mean of the years up
to and including intake) is regressed on the family's dose with calendar-year effects; standard
errors are clustered by family (CR1, t with G - 1 degrees of freedom).

The dose is not randomised: families with heavier problems tend to get more contact, so the
slope is an association, not an effect. The report says so next to the numbers.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: The slope is reported per this many contact hours per year.
PER_HOURS = 10.0
MIN_FAMILIES = 10
CAVEAT_NL = (
    "De dosis is niet door loting bepaald: gezinnen met zwaardere problemen krijgen vaak meer "
    "contact. Een verband tussen dosis en verandering is daarom geen oorzakelijk effect van "
    "meer contact."
)


def _num(x) -> float | None:
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def family_dose(panel: pd.DataFrame, dose_col: str = "contact_hours") -> pd.Series:
    """Mean dose per year of each intervention family, from its intake year on."""
    treated = panel.loc[(panel["arm"] == "intervention") & (panel["year"] >= panel["intake_year"])]
    return treated.groupby("family_id")[dose_col].mean()


def dose_slope(
    panel: pd.DataFrame, outcome: str, *, dose_col: str = "contact_hours", scale: float = 1.0
) -> dict:
    """Change in ``outcome`` per PER_HOURS of yearly dose, within the intervention arm."""
    import statsmodels.api as sm

    row: dict = {"outcome": outcome, "dose": dose_col, "per": PER_HOURS}
    data = panel.loc[panel["arm"] == "intervention", ["family_id", "year", "intake_year", outcome]]
    data = data.dropna(subset=[outcome])
    base = data.loc[data["year"] <= data["intake_year"]].groupby("family_id")[outcome].mean()
    post = data.loc[data["year"] > data["intake_year"]].copy()
    post["change"] = (post[outcome] - post["family_id"].map(base)) * scale
    post["dose"] = post["family_id"].map(family_dose(panel, dose_col)) / PER_HOURS
    post = post.dropna(subset=["change", "dose"])
    n_families = int(post["family_id"].nunique())
    row.update(n_families=n_families, n_obs=len(post))
    if n_families < MIN_FAMILIES:
        return {**row, "slope": None, "note": "te weinig gezinnen met voor- en nameting"}
    if post.groupby("family_id")["dose"].first().std(ddof=0) == 0:
        return {**row, "slope": None, "note": "de dosis verschilt niet tussen gezinnen"}
    years = pd.get_dummies(post["year"].astype(int), prefix="y", drop_first=True, dtype=float)
    X = sm.add_constant(pd.concat([post[["dose"]].astype(float), years], axis=1))
    fit = sm.OLS(post["change"].astype(float), X).fit(
        cov_type="cluster", cov_kwds={"groups": post["family_id"].to_numpy()}, use_t=True
    )
    low, high = fit.conf_int().loc["dose"]
    return {
        **row,
        "slope": _num(fit.params["dose"]),
        "ci_low": _num(low),
        "ci_high": _num(high),
        "p": _num(fit.pvalues["dose"]),
        "df": n_families - 1,
    }


def dose_response(panel: pd.DataFrame, outcomes: list[dict]) -> dict:
    """Dose slopes for the given outcomes (dicts with code, label, kind), with the caveat."""
    rows = []
    for o in outcomes:
        if o["code"] not in panel or panel[o["code"]].notna().sum() == 0:
            continue
        scale = 100.0 if o.get("kind") == "binary" else 1.0
        try:
            res = dose_slope(panel, o["code"], scale=scale)
        except (ValueError, np.linalg.LinAlgError) as exc:
            res = {"outcome": o["code"], "slope": None, "note": str(exc)}
        res["label"] = o.get("label", o["code"])
        res["unit"] = "procentpunten" if scale == 100.0 else "eenheden van de uitkomst"
        rows.append(res)
    return {"per_hours": PER_HOURS, "caveat": CAVEAT_NL, "outcomes": rows}


def primary_family_outcomes(questions: list[dict]) -> list[dict]:
    """The primary, non-count outcomes of the answered questions (the dose-response set)."""
    return [
        o
        for q in questions
        for o in q.get("outcomes", [])
        if o.get("primary") and o.get("kind") != "count" and q.get("group") != "professional"
    ]
