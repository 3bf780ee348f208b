"""Outcome derivation on hand-made frames: each derived outcome, from registry indicators,
surveys, care involvements, contacts and costs. Missing stays missing."""

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analysis.effects import derive
from analysis.effects.questions import QUESTIONS, validate_outcomes
from study.catalogue import catalogue_specs, codes_in_group

ALL_CODES = [s.code for s in catalogue_specs()]
NAN = float("nan")


def wide(*rows: dict) -> pd.DataFrame:
    """One row per family and year; every catalogue indicator 0 unless given (None = missing)."""
    records = []
    for row in rows:
        record = dict.fromkeys(ALL_CODES, 0.0)
        record.update({"wave": 0, **row})
        records.append({k: (NAN if v is None else v) for k, v in record.items()})
    return pd.DataFrame(records)


def families(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["family_id", "arm", "intake_year", "status"])


NO_SURVEYS = pd.DataFrame(columns=["family_id", "year", "satisfaction", "qol_rating"])
NO_INVOLVEMENTS = pd.DataFrame(columns=["family_id", "start_date", "end_date"])
NO_CONTACTS = pd.DataFrame(columns=["family_id", "occurred_at", "requested_at", "duration_minutes"])


def test_code_lists_come_from_the_catalogue_groups():
    assert derive.POLICE_CODES == codes_in_group("police")
    assert "child_police_offences" in derive.POLICE_CODES and len(derive.POLICE_CODES) == 11
    assert derive.YOUTH_CARE_CODES == codes_in_group("youth_care")
    assert derive.PROTECTION_CODES == ["child_ots", "child_guardianship", "child_foster_care_days"]
    assert derive.CARE_TYPES["adult_ggz"] == ["adult_ggz_basic_eur", "adult_ggz_specialised_eur"]
    assert derive.CARE_TYPES["child_ggz"] == ["child_ggz_basic_eur", "child_ggz_specialised_eur"]


def test_registry_outcomes_flag_and_count():
    out = derive.registry_outcomes(
        wide(
            {"family_id": 1, "year": 2021, "bijstand": 2, "low_income": 0},
            {"family_id": 2, "year": 2021, "adult_police_assault": 2, "child_police_offences": 1},
            {"family_id": 3, "year": 2021, "adult_ggz_basic_eur": 350.0},
            {"family_id": 4, "year": 2021, "adult_addiction_care": 1},
            {"family_id": 5, "year": 2021, "child_youth_care_ambulant": 2, "child_ots": 1},
            {"family_id": 6, "year": 2021, "child_foster_care_days": 30},
        )
    ).set_index("family_id")
    assert out.loc[1, ["receives_bijstand", "below_low_income"]].tolist() == [1.0, 0.0]
    assert out.loc[2, ["police_offences", "any_police"]].tolist() == [3.0, 1.0]
    assert out.loc[1, ["police_offences", "any_police"]].tolist() == [0.0, 0.0]
    assert out.loc[3, "parent_mental_health_care"] == 1.0
    assert out.loc[4, "parent_mental_health_care"] == 1.0
    assert out.loc[1, "parent_mental_health_care"] == 0.0
    assert out.loc[5, ["youth_care_ambulant", "child_youth_care", "child_protection"]].tolist() == [
        2.0,
        1.0,
        1.0,
    ]
    assert out.loc[6, ["child_youth_care", "child_protection"]].tolist() == [0.0, 1.0]


def test_missing_stays_missing_in_the_registry_outcomes():
    out = derive.registry_outcomes(
        wide(
            {"family_id": 1, "year": 2021, "bijstand": None, "adult_police_drugs": None},
            {"family_id": 2, "year": 2021, "adult_police_drugs": 4, "adult_police_other": None},
            {"family_id": 3, "year": 2021, "adult_addiction_care": None},
        )
    ).set_index("family_id")
    assert math.isnan(out.loc[1, "receives_bijstand"])  # never 0
    assert math.isnan(out.loc[1, "police_offences"]) and math.isnan(out.loc[1, "any_police"])
    # 4 known offences and one part unknown: the sum could be anything from 4 up, so unknown
    assert math.isnan(out.loc[2, "police_offences"]) and math.isnan(out.loc[2, "any_police"])
    assert math.isnan(out.loc[3, "parent_mental_health_care"])
    assert out.loc[3, "receives_bijstand"] == 0.0


def test_repeated_care_is_a_care_type_starting_again_after_a_year_without():
    frame = wide(
        {"family_id": 1, "year": 2019, "child_youth_care_ambulant": 1},
        {"family_id": 1, "year": 2020},
        {"family_id": 1, "year": 2021, "child_youth_care_ambulant": 2},
        {"family_id": 2, "year": 2019, "child_ots": 1},
        {"family_id": 2, "year": 2020, "child_ots": 1},  # continues: not a new call
        {"family_id": 2, "year": 2021, "adult_ggz_basic_eur": 100.0},  # first ggz: not repeated
        {"family_id": 3, "year": 2020},
        {"family_id": 3, "year": 2021, "child_youth_care_day_treatment": 1},  # first time
    )
    out = derive.registry_outcomes(frame)
    got = dict(
        zip(zip(out["family_id"], out["year"], strict=True), out["repeated_care"], strict=True)
    )
    assert got[(1, 2019)] == 0.0 and got[(1, 2020)] == 0.0 and got[(1, 2021)] == 1.0
    assert got[(2, 2019)] == got[(2, 2020)] == got[(2, 2021)] == 0.0
    assert got[(3, 2021)] == 0.0


def test_repeated_care_is_missing_when_no_care_type_is_known():
    unknown = dict.fromkeys([c for codes in derive.CARE_TYPES.values() for c in codes], None)
    out = derive.registry_outcomes(wide({"family_id": 1, "year": 2021, **unknown}))
    assert math.isnan(out["repeated_care"].iloc[0])


def test_care_workers_per_year_counts_the_involvements_active_in_each_year():
    years = pd.DataFrame({"family_id": [1, 1, 1, 2], "year": [2020, 2021, 2022, 2021]})
    involvements = pd.DataFrame(
        {
            "family_id": [1, 1, 1],
            "start_date": pd.to_datetime(["2020-03-01", "2021-06-01", "2019-01-01"]),
            "end_date": pd.to_datetime(["2021-02-01", None, "2019-12-31"]),
        }
    )
    counts = derive.care_workers_per_year(involvements, years)
    assert counts.tolist() == [1.0, 2.0, 1.0, 0.0]  # open-ended counts on; family 2 has none
    assert derive.care_workers_per_year(NO_INVOLVEMENTS, years).tolist() == [0.0] * 4


def test_a_care_worker_recorded_twice_counts_once_per_family_year():
    years = pd.DataFrame({"family_id": [1, 1, 2], "year": [2020, 2021, 2021]})
    involvements = pd.DataFrame(
        {
            "family_id": [1, 1, 1, 1, 2],
            "organisation": [
                "Jeugdbescherming Overijssel",
                "Jeugdbescherming Overijssel",
                "jeugdbescherming  overijssel",  # typed as "anders": same name, other spelling
                "Jeugdbescherming Overijssel",
                "Jeugdbescherming Overijssel",
            ],
            "discipline": ["jeugdbeschermer", "jeugdbeschermer", "Jeugdbeschermer", "GGZ", "x"],
            "organisation_entry_id": [7, 7, None, 7, 7],
            "discipline_entry_id": [3, 3, None, 4, None],
            "start_date": pd.to_datetime(
                ["2020-01-01", "2020-06-01", "2021-01-01"] * 1 + ["2021-01-01", "2021-01-01"]
            ),
            "end_date": pd.to_datetime([None] * 5),
        }
    )
    counts = derive.care_workers_per_year(involvements, years)
    # 2020: entry pair (7, 3) twice -> 1; 2021: (7, 3), the typed spelling, and (7, 4) -> 3
    assert counts.tolist() == [1.0, 3.0, 1.0]
    typed_only = involvements.drop(columns=["organisation_entry_id", "discipline_entry_id"])
    # without codes the typed names alone: (jb ov, jeugdbeschermer) x3 and (jb ov, ggz)
    assert derive.care_workers_per_year(typed_only, years).tolist() == [1.0, 2.0, 1.0]


def test_contact_outcomes_per_family_and_year():
    contacts = pd.DataFrame(
        {
            "family_id": [1, 1, 1, 2],
            "occurred_at": pd.to_datetime(
                ["2021-03-01 10:00", "2021-04-01 10:00", "2022-01-05 09:00", "2021-05-01 12:00"],
                utc=True,
            ),
            "requested_at": pd.to_datetime(
                ["2021-02-28 10:00", "2021-03-31 22:00", None, None], utc=True
            ),
            "duration_minutes": [60, 30, 90, 45],
        }
    )
    out = derive.contact_outcomes(contacts).set_index(["family_id", "year"])
    assert out.loc[(1, 2021)].tolist() == [2, 1.5, 18.0]  # median of 24 and 12 hours
    assert out.loc[(1, 2022), ["contacts", "contact_hours"]].tolist() == [1, 1.5]
    assert math.isnan(out.loc[(1, 2022), "response_hours"])  # no request: no response time
    assert out.loc[(2, 2021), "contacts"] == 1
    assert list(derive.contact_outcomes(NO_CONTACTS).columns) == ["family_id", "year"] + list(
        derive.CONTACT_OUTCOMES
    )


def _panel(**frames) -> pd.DataFrame:
    return derive.family_year_panel(
        frames.get(
            "families",
            families((1, "intervention", 2021, "active"), (2, "comparison", 2021, "active")),
        ),
        frames.get(
            "wide",
            wide(
                {"family_id": 1, "year": 2020},
                {"family_id": 1, "year": 2021},
                {"family_id": 2, "year": 2021},
            ),
        ),
        frames.get("surveys", NO_SURVEYS),
        frames.get("involvements", NO_INVOLVEMENTS),
        frames.get("contacts", NO_CONTACTS),
        frames.get("costs"),
    )


def test_the_panel_holds_every_family_outcome_and_only_those():
    panel = _panel()
    ids = {"family_id", "year", "wave", "arm", "intake_year", "status", "cohort"}
    assert set(panel.columns) == ids | set(derive.FAMILY_OUTCOMES)
    assert len(derive.FAMILY_OUTCOMES) == len(set(derive.FAMILY_OUTCOMES))


def test_cohort_is_the_year_after_intake_for_the_intervention_arm_only():
    panel = _panel().set_index(["family_id", "year"])
    assert panel.loc[(1, 2020), "cohort"] == panel.loc[(1, 2021), "cohort"] == 2022
    assert panel.loc[(2, 2021), "cohort"] == 0


def test_surveys_contacts_and_costs_join_by_family_and_year_and_missing_stays_missing():
    surveys = pd.DataFrame(
        {"family_id": [1], "year": [2021], "satisfaction": [8.0], "qol_rating": [6.0]}
        | {"participation_step": [NAN], "reachability": [7.0]}
    )
    contacts = pd.DataFrame(
        {
            "family_id": [1],
            "occurred_at": pd.to_datetime(["2021-06-01 10:00"], utc=True),
            "requested_at": pd.to_datetime(["2021-06-01 08:00"], utc=True),
            "duration_minutes": [120],
        }
    )
    costs = pd.DataFrame(
        {
            "family": [1, 2],
            "period": [2021, 2021],
            "total_eur": [5000.0, 7000.0],
            "complete": [True, False],
        }
    )
    panel = _panel(surveys=surveys, contacts=contacts, costs=costs).set_index(["family_id", "year"])
    row = panel.loc[(1, 2021)]
    assert (row["satisfaction"], row["quality_of_life"], row["reachability"]) == (8.0, 6.0, 7.0)
    assert math.isnan(row["participation_step"])
    assert (row["contacts"], row["contact_hours"], row["response_hours"]) == (1.0, 2.0, 2.0)
    assert row["cost_per_family"] == 5000.0
    other = panel.loc[(2, 2021)]
    assert math.isnan(other["cost_per_family"])  # incomplete year: unknown, not a low cost
    assert math.isnan(other["satisfaction"])  # no survey: missing
    assert (other["contacts"], other["contact_hours"]) == (0.0, 0.0)  # no contact logged: none
    assert math.isnan(other["response_hours"])
    assert np.isnan(_panel()["cost_per_family"]).all()  # no cost model: missing


def test_the_professional_panel_is_treated_from_the_year_after_the_study_start():
    surveys = pd.DataFrame(
        {"professional_id": [7, 8], "year": [2021, 2021], "approach": ["new", "usual"]}
        | {code: [3.0, 4.0] for code in derive.PROFESSIONAL_OUTCOMES}
    )
    panel = derive.professional_panel(surveys, start_year=2020)
    assert panel["cohort"].tolist() == [2021, 0] and panel["unit"].tolist() == [7, 8]
    assert set(derive.PROFESSIONAL_OUTCOMES) <= set(panel.columns)


# --- derivation and registry agree ---------------------------------------------------------------


def test_every_registry_outcome_is_a_derived_column_of_its_unit():
    for question in QUESTIONS:
        for outcome in question.outcomes:
            outcomes = (
                derive.PROFESSIONAL_OUTCOMES
                if outcome.unit == "professional"
                else derive.FAMILY_OUTCOMES
            )
            assert outcome.code in outcomes, (question.code, outcome.code)


def test_every_derived_outcome_may_be_named_by_a_question():
    outcomes = [{"code": c} for c in (*derive.FAMILY_OUTCOMES, *derive.PROFESSIONAL_OUTCOMES)]
    assert [o["code"] for o in validate_outcomes(outcomes)] == [o["code"] for o in outcomes]
    with pytest.raises(ValueError, match="not a derived outcome"):
        validate_outcomes([{"code": "happiness"}])


def test_the_effects_modules_do_not_import_django():
    code = (
        "import sys, analysis.effects.derive, analysis.effects.questions, "
        "analysis.effects.estimate, analysis.effects.adjustment, analysis.effects.summaries, "
        "analysis.effects.plan, analysis.effects.dose, analysis.effects.disclosure; "
        "assert not [m for m in sys.modules if m.startswith('django')], 'django imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
