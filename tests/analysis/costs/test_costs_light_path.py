"""The cost pages' plain-row path gives exactly what the frame functions give (issue 21): the
catalogue rows are ``indexed_catalogue(...).to_dict("records")``, a family's records are
``family_costs``' rows in its order and its breakdown is ``breakdown(family_costs(...))``."""

from __future__ import annotations

import math
import random
from decimal import Decimal

import pandas as pd
import pytest

from analysis.costs import engine, pricing, selectors
from analysis.costs.models import CpiYear, PriceItem
from study.models import Family
from study.services.values import indicator_values_record
from tests.analysis.costs.test_costs_engine import INDICATORS_CSV


def same(a, b) -> bool:
    """Equal, NaN equal to NaN, numbers whatever their type (numpy or Python)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return (math.isnan(a) and math.isnan(b)) or a == b
    return a == b and bool(a) == bool(b)


@pytest.fixture(scope="module")
def cpi():
    return pricing.load_cpi_csv()


@pytest.fixture(scope="module")
def indicators():
    return pd.read_csv(INDICATORS_CSV, keep_default_na=False)


def _items():
    return pricing.load_catalogue_csv().to_dict("records")


@pytest.mark.parametrize("price_year", [2014, 2015, 2020, 2024])
def test_catalogue_rows_are_the_indexed_frame_as_records(cpi, price_year):
    frame = pricing.indexed_catalogue(
        pricing.load_catalogue_csv(), base_year=2014, price_year=price_year, cpi=cpi, version=3
    )
    rows = pricing.indexed_catalogue_rows(
        _items(), base_year=2014, price_year=price_year, cpi=cpi, version=3
    )
    assert same(rows, frame.to_dict("records"))
    assert [list(row) for row in rows] == [list(frame.columns)] * len(frame)


def test_catalogue_rows_of_stored_decimals_and_a_missing_cpi_year(cpi):
    items = [
        {**item, "price_base_year": None, "price_at_reference_year": Decimal("12.345")}
        if item["code"] == "ww_admin"
        else item
        for item in _items()
    ]
    frame = pd.DataFrame.from_records(items)
    for column in ("price_at_reference_year", "index_factor_to_base", "price_base_year"):
        frame[column] = pd.to_numeric(frame[column].astype(object), errors="coerce")
    expected = pricing.indexed_catalogue(frame, base_year=2014, price_year=2016, cpi=cpi)
    rows = pricing.indexed_catalogue_rows(items, base_year=2014, price_year=2016, cpi=cpi)
    assert same(rows, expected.to_dict("records"))
    with pytest.raises(pricing.MissingCpiYearError) as missing:
        pricing.indexed_catalogue_rows(items, base_year=2014, price_year=2090, cpi=cpi)
    with pytest.raises(pricing.MissingCpiYearError) as frame_missing:
        pricing.indexed_catalogue(frame, base_year=2014, price_year=2090, cpi=cpi)
    assert missing.value.year == frame_missing.value.year


def _volumes(rng: random.Random, codes: list[str], families, periods) -> list[tuple]:
    rows = []
    for family in families:
        for period in periods:
            for code in codes:
                draw = rng.random()
                if draw < 0.15:
                    continue  # not recorded: the grid's NaN
                if draw < 0.25:
                    value = float("nan")  # a missing-data code
                elif draw < 0.5:
                    value = 0.0
                elif code.endswith("_eur"):
                    value = round(rng.uniform(0, 20_000), 2)
                elif code.endswith("_days"):
                    value = float(rng.choice([1, 45, 200, 366, 500, 731]))
                else:
                    value = float(rng.randint(1, 4))
                rows.append((family, period, code, value))
    rng.shuffle(rows)
    return rows


def _frame(volumes: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(volumes, columns=["family", "period", "indicator", "value"])


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("price_year", [2014, 2019])
def test_family_records_and_breakdown_are_the_frames(cpi, indicators, seed, price_year):
    rng = random.Random(seed)
    catalogue = pricing.indexed_catalogue_rows(
        _items(), base_year=2014, price_year=price_year, cpi=cpi, version=2
    )
    pairs = list(zip(indicators["code"], indicators["cost_items"], strict=True))
    codes = list(indicators["code"])
    periods = rng.sample(range(2014, 2024), rng.randint(1, 5))
    volumes = _volumes(rng, codes, [7, 3] if seed % 3 == 0 else [7], periods)
    options = {"price_year": price_year, "cpi": cpi, "ggz_year_of": int}
    expected = engine.family_costs(_frame(volumes), pd.DataFrame(catalogue), indicators, **options)
    records = engine.family_cost_records(volumes, catalogue, pairs, **options)
    assert records is not None
    assert same(records, expected.to_dict("records"))
    if seed % 3:
        assert same(engine.breakdown_of_records(records), engine.breakdown(expected))
    else:
        assert engine.breakdown_of_records(records) is None  # two families: not a page


def test_records_are_none_where_the_frames_refuse(cpi, indicators):
    catalogue = pricing.indexed_catalogue_rows(_items(), base_year=2014, price_year=2014, cpi=cpi)
    pairs = list(zip(indicators["code"], indicators["cost_items"], strict=True))
    options = {"price_year": 2014, "cpi": cpi}
    refused = [
        [(1, 2014, "no_such_indicator", 1.0)],
        [(1, 2014, "ww", 1.0), (1, 2014, "ww", 2.0)],
        [(1, 2014, "ww", -1.0)],
    ]
    for volumes in refused:
        assert engine.family_cost_records(volumes, catalogue, pairs, **options) is None
        with pytest.raises(ValueError):
            engine.family_costs(_frame(volumes), pd.DataFrame(catalogue), indicators, **options)
    other_year = {**options, "price_year": 2015}
    assert engine.family_cost_records([], catalogue, pairs, **other_year) is None
    assert engine.family_cost_records([], catalogue, pairs, **options) == []


def test_a_ggz_year_without_cpi_raises_as_the_frames_do(cpi, indicators):
    catalogue = pricing.indexed_catalogue_rows(_items(), base_year=2014, price_year=2014, cpi=cpi)
    pairs = list(zip(indicators["code"], indicators["cost_items"], strict=True))
    volumes = [(1, 2090, "adult_ggz_basic_eur", 100.0), (1, 2080, "child_ggz_basic_eur", 5.0)]
    options = {"price_year": 2014, "cpi": cpi, "ggz_year_of": int}
    with pytest.raises(pricing.MissingCpiYearError) as light:
        engine.family_cost_records(volumes, catalogue, pairs, **options)
    with pytest.raises(pricing.MissingCpiYearError) as frames:
        engine.family_costs(_frame(volumes), pd.DataFrame(catalogue), indicators, **options)
    assert str(light.value) == str(frames.value)


@pytest.mark.django_db
def test_catalogue_rows_of_the_stored_catalogue_are_its_frame():
    current = selectors.catalogue_current()
    PriceItem.objects.filter(catalogue=current, code="ww_admin").update(price_base_year=None)
    for year in (None, 2014, 2017, 2024):
        rows = selectors.catalogue_rows(current, year)
        assert same(rows, selectors.catalogue_frame(current, year).to_dict("records"))


@pytest.mark.django_db
@pytest.mark.parametrize("price_year", [2014, 2022])
def test_family_breakdown_is_the_breakdown_of_its_costs(family, researcher, price_year):
    rng = random.Random(price_year)
    costed = [s for s in selectors.catalogue_specs() if s.cost_items]
    for wave in family.waves.order_by("index"):
        values: dict = {}
        for spec in costed:
            draw = rng.random()
            if draw < 0.3:
                continue
            high = min(int(spec.max_value), 400)
            values[spec.code] = 0 if draw < 0.5 else rng.randint(1, max(high, 1))
        indicator_values_record(wave=wave, values=values, user=researcher)
    families = Family.objects.filter(pk=family.pk)
    years = set(family.waves.values_list("year", flat=True))
    for year in range(2010, max(years) + 1):
        CpiYear.objects.get_or_create(year=year, defaults={"annual_change_pct": Decimal("1.7")})

    def outcome(function):
        try:
            return "ok", function()
        except pricing.MissingCpiYearError as missing:
            return "missing", str(missing)

    def frames():
        return engine.breakdown(selectors.costs_for_families(families, price_year=price_year))

    def light():
        return selectors.family_breakdown(families, price_year=price_year)

    assert outcome(light)[0] == "ok"
    assert same(outcome(light), outcome(frames))
    # A claim year the CPI series lacks: the same error as the frames.
    CpiYear.objects.filter(year=max(years)).delete()
    assert same(outcome(light), outcome(frames))


@pytest.mark.django_db
def test_family_without_values_has_no_breakdown(family):
    families = Family.objects.filter(pk=family.pk)
    assert selectors.family_breakdown(families, price_year=2014) is None
    assert len(selectors.costs_for_families(families, price_year=2014)) == 0


#: The catalogue page's row loop before it became {% catalogue_item_rows %} (kept to pin it).
OLD_ROWS = """{% load i18n l10n cost_labels amounts %}{% for item in items %}
  <tr>
    <td>{{ item.code|cost_item:item.description }}<br><small class="muted"><code>{{ item.code }}</code></small></td><td>{{ item.domain|cost_domain }}</td><td>{{ item.unit|cost_unit }}</td><td>{{ item.reference_year|unlocalize }}</td>
    <td class="num">{{ item.price_at_reference_year|amount }}</td><td class="num">{% if item.index_factor_to_base is not None %}{{ item.index_factor_to_base|amount:4 }}{% endif %}</td>
    <td class="num">{{ item.price_base_year|amount }}</td><td class="num">{% if item.unit == "euros_claimed" %}{% translate "euros claimed, indexed" %}{% else %}{{ item.price|amount }}{% endif %}</td>
  </tr>
  {% endfor %}"""


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("price_year", [2014, 2021])
def test_catalogue_item_rows_are_the_old_template_loop(cpi, language, price_year):
    from django.template import Context, Template
    from django.utils import translation

    rows = pricing.indexed_catalogue_rows(
        _items(), base_year=2014, price_year=price_year, cpi=cpi, version=1
    )
    typed = {
        **rows[0],
        "code": "own_item",
        "description": 'Eigen <b>"item"</b> & co',
        "domain": "<other>",
        "unit": "per_day",
        "index_factor_to_base": None,
        "price": float("nan"),
    }
    items = [*rows, typed]
    with translation.override(language):
        old = Template(OLD_ROWS).render(Context({"items": items}))
        new = Template("{% load cost_labels %}{% catalogue_item_rows items %}").render(
            Context({"items": items})
        )
    assert new == old
    assert "&lt;b&gt;" in new and "<b>" not in new
