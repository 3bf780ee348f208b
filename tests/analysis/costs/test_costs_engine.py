"""The cost engine: a family costed by hand, missing values, scenarios and the baseline."""

from pathlib import Path

import pandas as pd
import pytest

from analysis.costs.engine import (
    baseline_per_family,
    breakdown,
    cost_range,
    domain_totals,
    family_costs,
    family_days_from_child_days,
    family_totals,
)
from analysis.costs.pricing import (
    MissingCpiYearError,
    indexed_catalogue,
    load_catalogue_csv,
    load_cpi_csv,
)
from analysis.costs.scenarios import (
    REPORT_SCENARIOS,
    Scenario,
    apply_scenario,
    trajectories_per_person,
)

INDICATORS_CSV = Path(__file__).resolve().parents[3] / "study" / "data" / "indicators.csv"

# The worked family: one row per indicator value of family "F1" in 2014.
WORKED_FAMILY = {
    "bijstand": 1,
    "ww": 1,
    "low_income": 1,
    "moves": 3,  # not a municipal cost
    "debt_help": 1,  # uncosted
    "adult_ggz_specialised_eur": 1200.50,
    "adult_police_assault": 1,
    "child_youth_care_ambulant": 2,
    "child_youth_care_residential_days": 30,
    "child_ots": 1,
    "child_foster_care_days": 100,
}
# The same family written out by hand: volume x 2014 price of the report, per item.
BY_HAND = {
    "bijstand_benefit": 1 * 16372.17,
    "bijstand_admin": 1 * 2597.72,
    "ww_benefit": 1 * 24700.90,
    "ww_admin": 1 * 2256.00,
    "low_income": 1 * 998.80,
    "ggz_specialised": 1200.50,  # euros claimed in 2014, price year 2014
    "crime_assault": 1 * 1661.90,
    "youth_care_ambulant": 2 * 2868.40,  # 5,736.80
    "youth_care_residential": 30 * 255.16,  # 7,654.80
    "supervision_order_ots": 1 * 8120.91,
    "foster_care_allowance": 100 * 17.91,  # 1,791.00 (child-days)
    "foster_care_guidance": 100 * 16.76,  # 1,676.00 (family-days = child-days here)
}
# 16372.17 + 2597.72 + 24700.90 + 2256.00 + 998.80 + 1200.50 + 1661.90 + 5736.80
# + 7654.80 + 8120.91 + 1791.00 + 1676.00
WORKED_TOTAL = 74_767.50


@pytest.fixture(scope="module")
def cpi():
    return load_cpi_csv()


@pytest.fixture(scope="module")
def indicators():
    return pd.read_csv(INDICATORS_CSV, keep_default_na=False)


@pytest.fixture(scope="module")
def catalogue(cpi):
    return indexed_catalogue(
        load_catalogue_csv(), base_year=2014, price_year=2014, cpi=cpi, version=1
    )


def volumes_of(values: dict, family="F1", period=2014) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "family": family,
            "period": period,
            "indicator": list(values),
            "value": [float(v) for v in values.values()],
        }
    )


def costs_of(values, catalogue, indicators, cpi, **options):
    return family_costs(
        volumes_of(values),
        catalogue,
        indicators,
        price_year=2014,
        cpi=cpi,
        required_indicators=options.pop("required_indicators", []),
        **options,
    )


def test_worked_family_costs_what_the_hand_calculation_says(catalogue, indicators, cpi):
    costs = costs_of(WORKED_FAMILY, catalogue, indicators, cpi)
    per_item = costs.set_index("item")["euros"].to_dict()
    assert per_item == pytest.approx(BY_HAND, abs=1e-9)
    assert sum(BY_HAND.values()) == pytest.approx(WORKED_TOTAL, abs=1e-9)
    totals = family_totals(costs)
    assert totals["total_eur"].tolist() == [WORKED_TOTAL]
    assert totals["complete"].tolist() == [True]
    assert totals["catalogue_version"].tolist() == [1]


def test_worked_family_broken_down_by_domain(catalogue, indicators, cpi):
    costs = costs_of(WORKED_FAMILY, catalogue, indicators, cpi)
    by_domain = domain_totals(costs).set_index("domain")["total_eur"].to_dict()
    assert by_domain == {
        "socio_economic": 46_925.59,  # 16372.17 + 2597.72 + 24700.90 + 2256.00 + 998.80
        "psychosocial": 2_862.40,  # 1200.50 + 1661.90
        "child": 24_979.51,  # 5736.80 + 7654.80 + 8120.91 + 1791.00 + 1676.00
    }


def test_indicator_with_two_cost_items_gets_both_with_the_same_volume(catalogue, indicators, cpi):
    costs = costs_of({"ww": 2}, catalogue, indicators, cpi)
    assert costs[["item", "volume", "euros"]].values.tolist() == [
        ["ww_benefit", 2.0, 49_401.80],
        ["ww_admin", 2.0, 4_512.00],
    ]


def test_moves_and_debt_help_are_not_costed(catalogue, indicators, cpi):
    costs = costs_of({"moves": 4, "debt_help": 1, "bijstand": 0}, catalogue, indicators, cpi)
    assert set(costs["indicator"]) == {"bijstand"}
    assert family_totals(costs)["total_eur"].tolist() == [0.0]


def test_ggz_euros_are_indexed_from_the_year_they_were_claimed(catalogue, indicators, cpi):
    volumes = volumes_of({"child_ggz_basic_eur": 1000.0}, period="T1")
    costs = family_costs(
        volumes,
        catalogue,
        indicators,
        price_year=2014,
        cpi=cpi,
        ggz_year_of={"T1": 2015}.get,
        required_indicators=[],
    )
    assert costs["euros"].tolist() == [994.04]  # 1000 / 1.006


def test_ggz_of_a_period_that_is_no_year_needs_ggz_year_of(catalogue, indicators, cpi):
    volumes = volumes_of({"child_ggz_basic_eur": 10.0}, period="T1")
    with pytest.raises(ValueError, match="ggz_year_of"):
        family_costs(volumes, catalogue, indicators, price_year=2014, cpi=cpi)


def test_foster_care_guidance_counts_family_days_capped_at_the_year():
    assert family_days_from_child_days(100) == 100
    assert family_days_from_child_days(500) == 366  # two children all year: one foster family
    assert pd.isna(family_days_from_child_days(float("nan")))


def test_missing_value_marks_the_family_period_incomplete(catalogue, indicators, cpi):
    costs = costs_of({"bijstand": 1, "ww": float("nan")}, catalogue, indicators, cpi)
    totals = family_totals(costs)
    assert totals["total_eur"].tolist() == [18_969.89]  # the known part only
    assert totals["complete"].tolist() == [False]
    assert totals["missing_indicators"].tolist() == ["ww"]


def test_absent_required_indicator_marks_the_family_period_incomplete(catalogue, indicators, cpi):
    costs = costs_of(
        {"bijstand": 1}, catalogue, indicators, cpi, required_indicators=["bijstand", "ww"]
    )
    totals = family_totals(costs)
    assert totals["complete"].tolist() == [False]
    assert totals["missing_indicators"].tolist() == ["ww"]


def test_by_default_every_costed_indicator_is_required(catalogue, indicators, cpi):
    costs = family_costs(volumes_of(WORKED_FAMILY), catalogue, indicators, price_year=2014, cpi=cpi)
    totals = family_totals(costs)
    assert totals["complete"].tolist() == [False]
    assert "adult_ggz_basic_eur" in totals["missing_indicators"].iloc[0]
    assert totals["total_eur"].tolist() == [WORKED_TOTAL]


def test_unknown_indicator_is_an_error_naming_it(catalogue, indicators, cpi):
    with pytest.raises(ValueError, match="'nonsense' is not in the indicator catalogue"):
        costs_of({"nonsense": 1}, catalogue, indicators, cpi)


def test_duplicate_indicator_rows_are_an_error(catalogue, indicators, cpi):
    volumes = pd.concat([volumes_of({"ww": 1}), volumes_of({"ww": 2})])
    with pytest.raises(ValueError, match="given twice"):
        family_costs(volumes, catalogue, indicators, price_year=2014, cpi=cpi)


def test_catalogue_of_another_price_year_is_refused(catalogue, indicators, cpi):
    with pytest.raises(ValueError, match="price year 2020"):
        family_costs(volumes_of({"ww": 1}), catalogue, indicators, price_year=2020, cpi=cpi)


def test_costs_in_a_later_price_year_use_the_indexed_prices(cpi, indicators):
    catalogue_2015 = indexed_catalogue(
        load_catalogue_csv(), base_year=2014, price_year=2015, cpi=cpi, version=1
    )
    costs = family_costs(
        volumes_of({"ww": 1}),
        catalogue_2015,
        indicators,
        price_year=2015,
        cpi=cpi,
        required_indicators=[],
    )
    # 24,700.90 x 1.006 = 24,849.11; 2,256.00 x 1.006 = 2,269.54 (2,269.536)
    assert costs["euros"].tolist() == [24_849.11, 2_269.54]
    assert set(costs["price_year"]) == {2015}


def test_scenario_prices(catalogue, cpi):
    scenarios = {scenario.code: scenario for scenario in REPORT_SCENARIOS}
    prices = {
        code: apply_scenario(catalogue, scenario, cpi).set_index("code")["price"]
        for code, scenario in scenarios.items()
    }
    assert prices["ww_minimum_wage"]["ww_benefit"] == 13_542.26  # 13,624 (2015) x 0.994
    assert prices["disability_alternative"]["disability_benefit"] == 14_440.80
    assert prices["other_benefit_alternative"]["other_benefit"] == 11_951.12
    # 1,661.90 x 1,811,180.67 / 1,001,975.62 = 3,004.07
    assert prices["crime_with_suffering"]["crime_assault"] == 3_004.07
    assert prices["crime_with_suffering"]["ww_benefit"] == 24_700.90


def test_crime_scenario_turns_the_direct_crime_total_into_the_total_with_suffering(
    catalogue, indicators, cpi
):
    offences = {
        "adult_police_property": 7,
        "adult_police_assault": 3,
        "adult_police_threat": 2,
        "adult_police_drugs": 1,
        "child_police_offences": 4,
    }
    scenario = next(s for s in REPORT_SCENARIOS if s.code == "crime_with_suffering")
    assert len(scenario.price_factors) == 10
    direct = family_totals(costs_of(offences, catalogue, indicators, cpi))["total_eur"].iloc[0]
    with_suffering = family_totals(
        costs_of(offences, catalogue, indicators, cpi, scenario=scenario)
    )["total_eur"].iloc[0]
    # 7 x 914.16 + 3 x 1661.90 + 2 x 229.71 + 784.07 + 4 x 914.16
    assert direct == 16_284.95
    # the report's ratio, up to one cent of rounding per item price
    assert with_suffering == pytest.approx(direct * 1_811_180.67 / 1_001_975.62, abs=0.17)


def test_report_rounding_of_1_3_trajectories_per_person():
    assert [trajectories_per_person(n) for n in (34, 152, 5, 19)] == [26, 117, 4, 15]


def test_sensitivity_range_of_the_worked_family(catalogue, indicators, cpi):
    frame = cost_range(
        volumes_of(WORKED_FAMILY),
        catalogue,
        indicators,
        price_year=2014,
        cpi=cpi,
        required_indicators=[],
    )
    row = frame.iloc[0]
    assert row["point"] == WORKED_TOTAL
    assert row["ww_minimum_wage"] == 63_608.86  # 74,767.50 - 24,700.90 + 13,542.26
    assert row["disability_alternative"] == WORKED_TOTAL  # no disability benefit
    assert row["other_benefit_alternative"] == WORKED_TOTAL
    assert row["crime_with_suffering"] == 76_109.67  # 74,767.50 - 1,661.90 + 3,004.07
    # ambulant 2 / 1.3 x 2,868.40 = 4,412.92: 74,767.50 - 5,736.80 + 4,412.92
    assert row["youth_care_1_3_trajectories"] == 73_443.62
    assert (row["low"], row["high"]) == (63_608.86, 76_109.67)
    assert row["catalogue_version"] == 1


def test_scenario_rows_name_their_scenario(catalogue, indicators, cpi):
    scenario = Scenario("half_ww", "Half WW", price_factors={"ww_benefit": 0.5})
    costs = costs_of({"ww": 1}, catalogue, indicators, cpi, scenario=scenario)
    assert set(costs["scenario"]) == {"half_ww"}
    assert costs["euros"].tolist() == [12_350.45, 2_256.00]


def test_scenario_with_an_unknown_item_is_refused(catalogue, cpi):
    with pytest.raises(ValueError, match="not_an_item"):
        apply_scenario(catalogue, Scenario("x", "X", price_factors={"not_an_item": 2}), cpi)


def test_baseline_per_family_in_2014_and_indexed(cpi):
    in_2014 = baseline_per_family(cpi, 2014)
    assert (in_2014.point, in_2014.low, in_2014.high) == (114_291.0, 108_000.0, 115_000.0)
    in_2015 = baseline_per_family(cpi, 2015)
    # x 1.006
    assert (in_2015.point, in_2015.low, in_2015.high) == (114_976.75, 108_648.0, 115_690.0)


def test_baseline_for_a_year_without_cpi_is_an_error(cpi):
    with pytest.raises(MissingCpiYearError, match="2026"):
        baseline_per_family(cpi, 2026)


def test_sensitivity_range_lines_up_per_family_and_period(catalogue, indicators, cpi):
    volumes = pd.concat(
        [
            volumes_of({"ww": 1}, family="B", period=2014),
            volumes_of({"child_youth_care_ambulant": 1}, family="A", period=2014),
            volumes_of({"ww": float("nan")}, family="A", period=2015),
        ]
    )
    frame = cost_range(
        volumes, catalogue, indicators, price_year=2014, cpi=cpi, required_indicators=["ww"]
    ).set_index(["family", "period"])
    assert frame.loc[("B", 2014), "point"] == 26_956.90  # 24,700.90 + 2,256.00
    assert frame.loc[("B", 2014), "ww_minimum_wage"] == 15_798.26  # 13,542.26 + 2,256.00
    assert frame.loc[("B", 2014), "youth_care_1_3_trajectories"] == 26_956.90
    assert frame.loc[("A", 2014), "point"] == 2_868.40
    assert frame.loc[("A", 2014), "youth_care_1_3_trajectories"] == 2_206.46  # 2,868.40 / 1.3
    assert frame.loc[("A", 2014), "missing_indicators"] == "ww"
    assert not frame.loc[("A", 2015), "complete"]
    assert frame.loc[("A", 2015), "point"] == 0.0


def test_only_uncosted_values_and_nothing_required_give_no_rows(catalogue, indicators, cpi):
    costs = costs_of({"moves": 2}, catalogue, indicators, cpi)
    assert costs.empty and family_totals(costs).empty


def test_breakdown_of_one_family_lists_costed_and_missing_rows(catalogue, indicators, cpi):
    costs = costs_of(
        {"ww": 1, "bijstand": 0, "child_ots": float("nan")}, catalogue, indicators, cpi
    )
    shaped = breakdown(costs)
    assert (shaped["price_year"], shaped["catalogue_version"]) == (2014, 1)
    (period,) = shaped["periods"]
    assert [(row["item"], row["missing"]) for row in period["rows"]] == [
        ("ww_benefit", False),
        ("ww_admin", False),
        ("supervision_order_ots", True),
    ]
    assert (period["total_eur"], period["complete"]) == (26_956.90, False)
