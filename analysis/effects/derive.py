"""Outcome derivation: from recorded frames to the family-year and professional-year panels.

Pure pandas (no Django). Unit = family, time = calendar year (the wave's registry year), cohort =
the first treated year of an intervention family (intake year + 1; T0, the intake year, is the
baseline) and 0 for the comparison arm. Missing stays missing: a missing-data code is NaN here,
never zero.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from instruments.definition import text_in
from instruments.frames import break_text_nl, score_outcome, version_breaks, versions_in_group
from study.catalogue import codes_in_group

# The code lists come from the indicator catalogue's group column: an indicator added to a group
# joins every outcome derived from that group.
POLICE_CODES = codes_in_group("police")
YOUTH_CARE_CODES = codes_in_group("youth_care")
PROTECTION_CODES = codes_in_group("child_protection")
ADULT_GGZ_CODES = codes_in_group("ggz", level="adult")
ADDICTION_CODES = codes_in_group("addiction_care")
# Care types whose renewed start after a year without counts as a repeated call on care (F2).
CARE_TYPES = {
    "youth_care": YOUTH_CARE_CODES,
    "child_protection": PROTECTION_CODES,
    "adult_ggz": ADULT_GGZ_CODES,
    "child_ggz": codes_in_group("ggz", level="child"),
    "addiction": ADDICTION_CODES,
}
#: Outcome column -> the survey column it is read from (WaveSurvey, study/panels.py).
SURVEY_OUTCOMES = {
    "satisfaction": "satisfaction",
    "quality_of_life": "qol_rating",
    "participation_step": "participation_step",
    "reachability": "reachability",
}
#: Outcome column -> (instrument, score, comparability group): an instrument's score as an
#: outcome, from the versions declared score-comparable with the group's first version only
#: (instruments/frames.py); a version outside the group is a break, never pooled into it.
INSTRUMENT_OUTCOMES: dict[str, tuple[str, str, int]] = {
    "qol_mansa12": ("mansa12", "mean", 1),
}
CONTACT_OUTCOMES = ("contacts", "contact_hours", "response_hours")
CARE_WORKERS_OUTCOME = "n_care_workers"
COST_OUTCOME = "cost_per_family"
#: Columns of the professional-year panel (the professionals' survey, study/panels.py).
PROFESSIONAL_OUTCOMES = ("job_satisfaction", "autonomy", "pride", "competence", "cooperation")


def _col(frame: pd.DataFrame, code: str) -> pd.Series:
    return frame[code] if code in frame else pd.Series(np.nan, index=frame.index)


def _sum_strict(frame: pd.DataFrame, codes: list[str]) -> pd.Series:
    """Sum that is NaN when any part is missing (an unknown part could be anything)."""
    return pd.concat([_col(frame, c) for c in codes], axis=1).sum(axis=1, min_count=len(codes))


def _flag(series: pd.Series) -> pd.Series:
    return (series > 0).astype(float).where(series.notna())


def repeated_care(wide: pd.DataFrame) -> pd.Series:
    """1 when a care type starts again this year after at least one year without it (F2)."""
    result = pd.Series(np.nan, index=wide.index)
    ordered = wide.sort_values(["family_id", "year"])
    any_known = pd.Series(False, index=wide.index)
    restarted = pd.Series(False, index=wide.index)
    for codes in CARE_TYPES.values():
        active = _flag(_sum_strict(ordered, codes))
        grouped = active.groupby(ordered["family_id"])
        seen_before = grouped.transform(lambda s: s.fillna(0).cummax().shift(1, fill_value=0)) > 0
        gap_before = grouped.transform(lambda s: (s == 0).astype(int).shift(1, fill_value=0)) > 0
        restarted |= (active == 1) & seen_before & gap_before
        any_known |= active.notna()
    result.loc[ordered.index] = restarted.astype(float).where(any_known)
    return result


def _police_offences(wide: pd.DataFrame) -> pd.Series:
    return _sum_strict(wide, POLICE_CODES)


def _parent_mental_health_care(wide: pd.DataFrame) -> pd.Series:
    return _flag(_sum_strict(wide, ADULT_GGZ_CODES) + _sum_strict(wide, ADDICTION_CODES))


#: Outcome column -> how it is derived from the registry indicators (one row per family and year).
REGISTRY_DERIVATIONS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "receives_bijstand": lambda wide: _flag(_col(wide, "bijstand")),
    "below_low_income": lambda wide: _flag(_col(wide, "low_income")),
    "police_offences": _police_offences,
    "any_police": lambda wide: _flag(_police_offences(wide)),
    "parent_mental_health_care": _parent_mental_health_care,
    "youth_care_ambulant": lambda wide: _col(wide, "child_youth_care_ambulant"),
    "child_youth_care": lambda wide: _flag(_sum_strict(wide, YOUTH_CARE_CODES)),
    "child_protection": lambda wide: _flag(_sum_strict(wide, PROTECTION_CODES)),
    "repeated_care": repeated_care,
}
#: Every outcome column of the family-year panel, in the order the registry lists them: the one
#: list questions may name (analysis/effects/questions.py validates against it).
FAMILY_OUTCOMES: tuple[str, ...] = (
    *REGISTRY_DERIVATIONS,
    *SURVEY_OUTCOMES,
    *INSTRUMENT_OUTCOMES,
    CARE_WORKERS_OUTCOME,
    *CONTACT_OUTCOMES,
    COST_OUTCOME,
)


def registry_outcomes(wide: pd.DataFrame) -> pd.DataFrame:
    """Outcomes derived from the registry indicators, one row per family and year."""
    out = wide[["family_id", "year", "wave"]].copy()
    for column, derive in REGISTRY_DERIVATIONS.items():
        out[column] = derive(wide)
    return out


def _care_name_key(inv: pd.DataFrame, text: str, entry: str) -> pd.Series:
    """One key per organisation or discipline: its entry of the study's coded list, or else
    the typed name with spaces collapsed and case folded ("anders")."""
    if text not in inv.columns:
        return pd.Series([f"row:{i}" for i in range(len(inv))], index=inv.index)
    typed = "t:" + inv[text].fillna("").astype(str).str.split().str.join(" ").str.casefold()
    if entry not in inv.columns:
        return typed
    coded = "#" + inv[entry].astype("Int64").astype(str)
    return coded.where(inv[entry].notna(), typed)


def care_workers_per_year(involvements: pd.DataFrame, family_years: pd.DataFrame) -> pd.Series:
    """Care workers involved with the family during each calendar year (derived, not typed):
    distinct (organisation, discipline) pairs, so one worker recorded twice counts once."""
    if involvements.empty:
        return pd.Series(0.0, index=family_years.index)
    inv = involvements.copy()
    inv["start_year"] = pd.to_datetime(inv["start_date"]).dt.year
    inv["end_year"] = pd.to_datetime(inv["end_date"]).dt.year.fillna(9999)
    inv["worker"] = (
        _care_name_key(inv, "organisation", "organisation_entry_id")
        + "|"
        + _care_name_key(inv, "discipline", "discipline_entry_id")
    )
    inv = inv[["family_id", "start_year", "end_year", "worker"]]
    merged = (
        family_years[["family_id", "year"]].reset_index().merge(inv, on="family_id", how="left")
    )
    active = (merged["start_year"] <= merged["year"]) & (merged["end_year"] >= merged["year"])
    counts = merged[active].groupby("index")["worker"].nunique()
    return counts.reindex(family_years.index, fill_value=0).astype(float)


def contact_outcomes(contacts: pd.DataFrame) -> pd.DataFrame:
    """Per family and year: contacts, hours of contact (dose) and median response time."""
    columns = ["family_id", "year", *CONTACT_OUTCOMES]
    if contacts.empty:
        return pd.DataFrame(columns=columns)
    c = contacts.copy()
    occurred = pd.to_datetime(c["occurred_at"], utc=True)
    c["year"] = occurred.dt.year
    requested = pd.to_datetime(c["requested_at"], utc=True)
    c["response"] = (occurred - requested).dt.total_seconds() / 3600
    grouped = c.groupby(["family_id", "year"])
    return pd.DataFrame(
        {
            "contacts": grouped.size(),
            "contact_hours": grouped["duration_minutes"].sum() / 60,
            "response_hours": grouped["response"].median(),
        }
    ).reset_index()[columns]


#: A threshold outcome's column: THRESHOLD_PREFIX + the instrument's code (one per instrument
#: whose definition has a `threshold`); a version segment's column: the outcome's + "__v<group>".
THRESHOLD_PREFIX = "threshold__"
SEGMENT_MARK = "__v"


def instrument_column(code: str) -> bool:
    """Whether a panel column is an instrument score (an outcome, a threshold or a segment)."""
    base = code.split(SEGMENT_MARK)[0]
    return base in INSTRUMENT_OUTCOMES or base.startswith(THRESHOLD_PREFIX)


def _groups_of(scores: pd.DataFrame | None, instrument: str, score: str) -> list[int]:
    if scores is None or scores.empty:
        return []
    rows = scores[
        (scores["instrument"] == instrument) & (scores["score"] == score) & scores["value"].notna()
    ]
    return sorted({int(g) for g in rows["group"]})


def _label(definitions: list, instrument: str, group: int) -> str:
    """ "<instrument> v<version>" for the versions of one comparability group."""
    defs = [d for d in definitions if d.code == instrument]
    versions = versions_in_group(defs, instrument, group) or [group]
    named = [d for d in defs if d.version == versions[0]] or defs
    name = text_in(named[0].name) if named else instrument
    return f"{name} " + " en ".join(f"v{v}" for v in versions)


def threshold_outcomes(scores: pd.DataFrame | None, definitions: list | None) -> list[dict]:
    """The threshold outcomes of the ordinal instruments the study recorded (a definition with
    a `threshold`, instruments/definition.py): one per instrument, on its earliest
    comparability group with data (later non-comparable groups are its version segments)."""
    out = []
    for instrument in sorted({d.code for d in definitions or [] if d.threshold is not None}):
        defs = [d for d in definitions or [] if d.code == instrument and d.threshold]
        threshold = defs[-1].threshold
        groups = _groups_of(scores, instrument, threshold.code)
        if not groups:
            continue
        out.append(
            {
                "column": THRESHOLD_PREFIX + instrument,
                "instrument": instrument,
                "score": threshold.code,
                "group": groups[0],
                "max_score": threshold.max_score,
                "threshold_label": text_in(threshold.label),
                "label": f"{_label(defs, instrument, groups[0])}: aandeel domeinen "
                f"'{text_in(threshold.label)}' ({threshold.range_text})",
            }
        )
    return out


def instrument_outcomes(
    panel: pd.DataFrame, scores: pd.DataFrame | None, definitions: list | None = None
) -> pd.DataFrame:
    """The panel with one column per instrument outcome and per threshold outcome, from the
    versions declared score-comparable with the outcome's group only (NaN where not scored),
    and one column per other comparability group recorded (a version segment, estimated on its
    own: a family measured under both versions contributes to both). ``panel.attrs``:
    "instrument_breaks" (outcome -> versions outside its group), "instrument_segments"
    (outcome -> its segments: column, group, label, break sentence) and "threshold_outcomes"."""
    definitions = list(definitions or [])
    outcomes = {c: (i, s, g) for c, (i, s, g) in INSTRUMENT_OUTCOMES.items()}
    thresholds = threshold_outcomes(scores, definitions)
    outcomes |= {t["column"]: (t["instrument"], t["score"], t["group"]) for t in thresholds}
    breaks: dict[str, list[int]] = {}
    segments: dict[str, list[dict]] = {}

    def add(column: str, instrument: str, score: str, group: int) -> pd.DataFrame:
        values = score_outcome(scores, instrument, score, group)
        values = values.rename(columns={"value": column})
        merged = panel.merge(values, on=["family_id", "year"], how="left")
        merged[column] = merged[column].astype(float)
        return merged

    for column, (instrument, score, group) in outcomes.items():
        panel = add(column, instrument, score, group)
        left_out = version_breaks(scores, instrument, group)
        if left_out:
            breaks[column] = left_out
        for other in (g for g in _groups_of(scores, instrument, score) if g != group):
            seg = f"{column}{SEGMENT_MARK}{other}"
            panel = add(seg, instrument, score, other)
            segments.setdefault(column, []).append(
                {
                    "column": seg,
                    "group": other,
                    "label": _label(definitions, instrument, other),
                    "break": break_text_nl(definitions, scores, instrument, group, other)
                    if definitions
                    else f"Versiebreuk: v{other} is niet score-vergelijkbaar verklaard met "
                    f"v{group}, dus apart geschat.",
                }
            )
    panel.attrs.update(
        instrument_breaks=breaks, instrument_segments=segments, threshold_outcomes=thresholds
    )
    return panel


def instrument_break_warning(panel: pd.DataFrame, code: str, label: str) -> str:
    """The report's sentence naming a version break of an instrument outcome ("" without one)."""
    left_out = panel.attrs.get("instrument_breaks", {}).get(code)
    if not left_out:
        return ""
    versions = ", ".join(f"v{v}" for v in left_out)
    return (
        f"versiebreuk: {label} is geschat op de versies die score-vergelijkbaar zijn verklaard; "
        f"{versions} niet vergelijkbaar verklaard en daarom per versie apart geschat (hieronder)"
    )


def family_year_panel(
    families: pd.DataFrame,
    wide: pd.DataFrame,
    surveys: pd.DataFrame,
    involvements: pd.DataFrame,
    contacts: pd.DataFrame,
    costs: pd.DataFrame | None = None,
    instrument_scores: pd.DataFrame | None = None,
    instrument_definitions: list | None = None,
) -> pd.DataFrame:
    """The analysis panel: one row per family and year with every derived outcome (the
    instrument definitions name version breaks and threshold outcomes)."""
    panel = registry_outcomes(wide)
    fam = families[["family_id", "arm", "intake_year", "status"]]
    panel = panel.merge(fam, on="family_id", how="inner")
    panel["cohort"] = np.where(panel["arm"] == "intervention", panel["intake_year"] + 1, 0)
    survey = surveys.rename(columns={v: k for k, v in SURVEY_OUTCOMES.items()})
    keep = ["family_id", "year", *SURVEY_OUTCOMES]
    panel = (
        panel.merge(survey[keep], on=["family_id", "year"], how="left")
        if not surveys.empty
        else panel.assign(**dict.fromkeys(SURVEY_OUTCOMES, np.nan))
    )
    panel[CARE_WORKERS_OUTCOME] = care_workers_per_year(involvements, panel)
    panel = panel.merge(contact_outcomes(contacts), on=["family_id", "year"], how="left")
    panel[["contacts", "contact_hours"]] = panel[["contacts", "contact_hours"]].fillna(0.0)
    if costs is not None and not costs.empty:
        totals = costs.rename(columns={"family": "family_id", "period": "year"})
        totals = totals.assign(**{COST_OUTCOME: totals["total_eur"].where(totals["complete"])})
        panel = panel.merge(
            totals[["family_id", "year", COST_OUTCOME]], on=["family_id", "year"], how="left"
        )
    else:
        panel[COST_OUTCOME] = np.nan
    panel = instrument_outcomes(panel, instrument_scores, instrument_definitions)
    attrs = dict(panel.attrs)
    panel = panel.sort_values(["family_id", "year"]).reset_index(drop=True)
    panel.attrs.update(attrs)
    return panel


def professional_panel(surveys: pd.DataFrame, *, start_year: int) -> pd.DataFrame:
    """Professional-year panel; the new approach is 'treated' from the year after the study start."""
    panel = surveys.rename(columns={"professional_id": "unit"}).copy()
    panel["cohort"] = np.where(panel["approach"] == "new", start_year + 1, 0)
    return panel
