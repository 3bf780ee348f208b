"""The synthetic Almelo population reproduces the baseline report's tables."""

import csv

import numpy as np
import pytest

from analysis.monitor.report_columns import DOMAIN_COLUMNS, REPORT_COLUMNS
from analysis.monitor.synthetic import (
    ALMELO_TABLE,
    generate_almelo,
    generate_municipality,
    national_specs,
)


def published_rows():
    with ALMELO_TABLE.open(newline="", encoding="utf-8") as handle:
        return {row["wijk"]: row for row in csv.DictReader(handle)}


def as_count(cell):
    return 5 if cell == "*" else int(cell)


def test_households_with_a_child_and_in_total(almelo_population, almelo_counts):
    current = almelo_population[almelo_population["year"] == 2014]
    assert len(current) == 31_392
    assert almelo_counts["households_with_child"].sum() == 8_555
    assert set(almelo_population["year"]) == {2012, 2013, 2014}


def test_every_wijk_share_is_within_one_point_of_the_table(almelo_counts):
    rows = published_rows()
    wijken = almelo_counts.set_index("wijk")
    assert len(wijken) == 12
    columns = {
        **{col: col for col in REPORT_COLUMNS},
        **{col: f"domain{d}" for d, col in DOMAIN_COLUMNS.items()},
    }
    worst = 0.0
    for wijk, row in wijken.iterrows():
        published = rows[wijk]
        n = as_count(published["households_with_child"])
        assert row["households_with_child"] == n
        for table_col, our_col in columns.items():
            diff = abs(100 * row[our_col] / n - 100 * as_count(published[table_col]) / n)
            worst = max(worst, diff)
            assert diff <= 1.0, (wijk, table_col, row[our_col], published[table_col])
    assert worst <= 1.0


def test_domain_overlaps_follow_the_domain_brief(almelo_counts):
    total = almelo_counts.sum(numeric_only=True)
    # Per-wijk table: 3,719 socio-economic (the overlap table says 3,779: within 2 %).
    assert total["domain1"] == pytest.approx(3779, rel=0.02)
    assert total["domain2"] == 1289
    assert total["domain3"] == 1139
    assert total["domain12"] == pytest.approx(947, rel=0.03)
    assert total["domain13"] == pytest.approx(602, rel=0.03)
    assert total["domain23"] == pytest.approx(301, rel=0.03)


def test_support_in_the_preceding_years_follows_the_brief(almelo_counts):
    total = almelo_counts.sum(numeric_only=True)
    assert total["support_y2"] == pytest.approx(2046, rel=0.02)
    assert total["support_y1"] == pytest.approx(2097, rel=0.02)
    assert total["support_both"] == pytest.approx(1975, rel=0.02)
    assert total["mvp_support_y2"] == pytest.approx(181, rel=0.05)
    assert total["mvp_support_y1"] == pytest.approx(199, rel=0.05)


def test_mpg_count_is_within_ten_percent_of_174(almelo_counts):
    mpg = almelo_counts["mpg"].sum()
    assert mpg == pytest.approx(174, rel=0.10)
    # 0.55 % of all 31,392 households in the report.
    assert 100 * mpg / 31_392 == pytest.approx(0.55, abs=0.06)


def test_same_seed_gives_the_same_population_and_another_seed_does_not(almelo_population):
    again = generate_almelo(seed=2014)
    assert again.equals(almelo_population)
    other = generate_almelo(seed=7)
    assert not other.equals(almelo_population)


def test_national_specs_add_up_to_the_country():
    specs = national_specs(seed=1)
    assert len(specs) == 342
    assert sum(s.total_households for s in specs) == 7_590_229
    designed = sum(s.mpg for s in specs if s.mpg is not None) + 174
    assert designed == 25_896
    assert specs[0].name == "Almelo"


def test_a_synthetic_municipality_gets_its_designed_mpg_count():
    from analysis.monitor.classify import classify_households

    spec = next(s for s in national_specs(seed=1) if s.name == "Enschede")
    frame = generate_municipality(spec, year=2014, seed=3)
    out = classify_households(frame, 2014)
    assert len(out) == 76_773
    assert out["mpg"].sum() == pytest.approx(333, rel=0.05)
    share_with_child = out["in_scope"].mean()
    assert 0.23 < share_with_child < 0.32
    assert np.issubdtype(frame["household_id"].dtype, np.integer)
