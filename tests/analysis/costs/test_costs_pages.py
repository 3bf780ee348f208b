"""The price-catalogue page and the family cost-breakdown partial."""

import pandas as pd
import pytest
from django.template.loader import render_to_string

from analysis.costs import engine
from analysis.costs.pricing import indexed_catalogue, load_catalogue_csv, load_cpi_csv
from tests.analysis.costs.test_costs_engine import INDICATORS_CSV

pytestmark = pytest.mark.django_db


def test_researcher_sees_the_catalogue_in_a_price_year_with_the_baseline(
    client, researcher, settings
):
    settings.LANGUAGE_CODE = "nl"  # the product default; test settings use English
    client.force_login(researcher)
    response = client.get("/costs/?price_year=2015")
    assert response.status_code == 200
    text = response.content.decode()
    assert "youth_care_residential" in text
    assert "256,69" in text  # 255.16 x 1.006 = 256.69 (Dutch by default)
    assert "114.977" in text  # baseline 114,976.75 in 2015 prices, whole euros


def test_catalogue_page_says_when_the_cpi_year_is_missing(client, researcher):
    client.force_login(researcher)
    response = client.get("/costs/?price_year=2030")
    assert response.status_code == 200
    assert "2026" in response.content.decode()


def test_catalogue_page_is_closed_to_other_roles(client, django_user_model):
    user = django_user_model.objects.create_user("plain", password="pw")
    client.force_login(user)
    assert client.get("/costs/").status_code == 403


def test_family_breakdown_partial_renders_totals_and_missing():
    cpi = load_cpi_csv()
    catalogue = indexed_catalogue(
        load_catalogue_csv(), base_year=2014, price_year=2014, cpi=cpi, version=1
    )
    indicators = pd.read_csv(INDICATORS_CSV, keep_default_na=False)
    volumes = pd.DataFrame(
        {"family": "F", "period": 2014, "indicator": ["ww", "child_ots"], "value": [1.0, None]}
    )
    costs = engine.family_costs(
        volumes, catalogue, indicators, price_year=2014, cpi=cpi, required_indicators=[]
    )
    html = render_to_string(
        "costs/partials/family_breakdown.html", {"breakdown": engine.breakdown(costs)}
    )
    # Items and missing indicators in words (issue 20), never as code names.
    assert "ww_benefit" not in html and "child_ots" not in html
    assert "Unemployment benefit (WW)" in html or "WW-uitkering" in html
    assert "incomplete, missing" in html or "onvolledig" in html
    assert "26956" in html.replace(".", "").replace(",", "")[:100000]
