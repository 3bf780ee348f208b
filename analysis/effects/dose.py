"""Dose-response: do effects grow with the dose of the approach? Anchored on the comparison arm.

Pure pandas/statsmodels (no Django). The dose of a family is its mean contact hours per year
from the intake year on (contact logs, analysis/effects/derive.py). Every post-intake year of a
family in either arm gives the outcome's change from the family's own baseline (mean of the
years up to and including intake). The change is regressed, over both arms, on the dose of
intervention families (0 for the comparison arm), the arm, the family's outcome in each
pre-intake year (its path into the crisis), and calendar-year and years-since-intake effects; standard errors are clustered by family (CR1, t
with G - 1 degrees of freedom, G all families).

Why anchored: families enter at a crisis, so those with the worst baseline recover most by
themselves (regression to the mean), and they also tend to get the most contact. Within the
intervention arm alone that recovery passes for a dose effect. Here the comparison arm fixes
how much a family with the same pre-intake path, the same years since intake and the same
calendar year changes without the approach (the path terms and the time effects are common to
both arms), so the dose slope is only what the intervention families changed beyond that.

The dose is still not randomised: families with heavier problems tend to get more contact for
reasons the baseline does not capture, so the slope is an association, not an effect. The
report says so next to the numbers.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from statsmodels.tools.sm_exceptions import SingularMatrixWarning

#: The slope is reported per this many contact hours per year.
PER_HOURS = 10.0
MIN_FAMILIES = 10
CAVEAT_NL = (
    "De dosis is niet door loting bepaald: gezinnen met zwaardere problemen krijgen vaak meer "
    "contact. Een verband tussen dosis en verandering is daarom geen oorzakelijk effect van "
    "meer contact."
)


ANCHOR_NL = (
    "Verankerd aan de vergelijkingsgroep: de verandering na de intake is vergeleken met die van "
    "vergelijkingsgezinnen met hetzelfde verloop vóór de intake, hetzelfde aantal jaren erna en "
    "hetzelfde kalenderjaar, zodat het vanzelf herstellen van gezinnen die het zwaarst "
    "begonnen (terugkeer naar het gemiddelde) niet als dosiseffect telt."
)


def _num(x) -> float | None:
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def family_dose(panel: pd.DataFrame, dose_col: str = "contact_hours") -> pd.Series:
    """Mean dose per year of each intervention family, from its intake year on."""
    treated = panel.loc[(panel["arm"] == "intervention") & (panel["year"] >= panel["intake_year"])]
    return treated.groupby("family_id")[dose_col].mean()


def pre_intake_path(data: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Per family its outcome in each pre-intake year (columns ``pre_T-2`` ... ``pre_T0``): the
    event times at least half the families have; families missing one of them are left out."""
    at = data.loc[data["year"] <= data["intake_year"]]
    event = (at["year"] - at["intake_year"]).astype(int)
    wide = at.assign(event=event).pivot_table(
        index="family_id", columns="event", values=outcome, aggfunc="first"
    )
    keep = [e for e in wide.columns if wide[e].notna().mean() >= 0.5]
    wide = wide[keep].dropna()
    wide.columns = [f"pre_T{e}" for e in keep]
    return wide.astype(float)


def dose_slope(
    panel: pd.DataFrame, outcome: str, *, dose_col: str = "contact_hours", scale: float = 1.0
) -> dict:
    """Change in ``outcome`` per PER_HOURS of yearly dose, anchored on the comparison arm
    (see the module docstring)."""
    import statsmodels.api as sm

    row: dict = {"outcome": outcome, "dose": dose_col, "per": PER_HOURS, "anchor": ANCHOR_NL}
    data = panel[["family_id", "arm", "year", "intake_year", outcome]].dropna(subset=[outcome])
    pre = pre_intake_path(data, outcome) * scale
    post = data.loc[data["year"] > data["intake_year"]].copy()
    post = post.join(pre, on="family_id", how="inner")
    post["change"] = post[outcome] * scale - pre.mean(axis=1).reindex(post["family_id"]).to_numpy()
    treated = post["arm"] == "intervention"
    post["dose"] = np.where(treated, post["family_id"].map(family_dose(panel, dose_col)), 0.0)
    post["dose"] = post["dose"] / PER_HOURS
    post["arm01"] = treated.astype(float)
    post = post.dropna(subset=["change", "dose"])
    n_families = int(post.loc[post["arm01"] == 1, "family_id"].nunique())
    n_comparison = int(post.loc[post["arm01"] == 0, "family_id"].nunique())
    row.update(n_families=n_families, n_comparison=n_comparison, n_obs=len(post))
    if n_families < MIN_FAMILIES:
        return {**row, "slope": None, "note": "te weinig gezinnen met voor- en nameting"}
    if n_comparison < MIN_FAMILIES:
        return {
            **row,
            "slope": None,
            "note": "te weinig vergelijkingsgezinnen met voor- en nameting om de dosis aan te "
            "verankeren",
        }
    if post.loc[post["arm01"] == 1].groupby("family_id")["dose"].first().std(ddof=0) == 0:
        return {**row, "slope": None, "note": "de dosis verschilt niet tussen gezinnen"}
    years = pd.get_dummies(post["year"].astype(int), prefix="y", drop_first=True, dtype=float)
    event = (post["year"] - post["intake_year"]).astype(int)
    events = pd.get_dummies(event, prefix="e", drop_first=True, dtype=float)
    X = pd.concat([post[["dose", "arm01", *pre.columns]].astype(float), years, events], axis=1)
    X = sm.add_constant(X, has_constant="add")  # collinear time effects: OLS uses the pinv
    groups = post["family_id"].to_numpy()
    with warnings.catch_warnings():
        # Years since intake and calendar years are collinear within one intake year; the
        # dose term is identified all the same (statsmodels solves with the pseudo-inverse).
        warnings.simplefilter("ignore", SingularMatrixWarning)
        fit = sm.OLS(post["change"].astype(float), X).fit(
            cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
        )
    low, high = fit.conf_int().loc["dose"]
    return {
        **row,
        "slope": _num(fit.params["dose"]),
        "ci_low": _num(low),
        "ci_high": _num(high),
        "p": _num(fit.pvalues["dose"]),
        "df": int(np.unique(groups).size) - 1,
        "baseline_terms": {c: _num(fit.params[c]) for c in pre.columns},
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
    return {"per_hours": PER_HOURS, "caveat": f"{ANCHOR_NL} {CAVEAT_NL}", "outcomes": rows}


def primary_family_outcomes(questions: list[dict]) -> list[dict]:
    """The primary, non-count outcomes of the answered questions (the dose-response set)."""
    return [
        o
        for q in questions
        for o in q.get("outcomes", [])
        if o.get("primary") and o.get("kind") != "count" and q.get("group") != "professional"
    ]
