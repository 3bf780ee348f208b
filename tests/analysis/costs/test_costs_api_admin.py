"""The cost-model API (read for everyone signed in, write for data managers) and the admin."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from analysis.costs.models import CpiYear, PriceCatalogue, PriceItem

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_normal_user_reads_catalogues_and_their_items(researcher):
    listing = api(researcher).get("/api/costs/catalogues/")
    assert listing.status_code == 200
    assert [row["version"] for row in listing.json()["results"]] == [1]
    detail = api(researcher).get("/api/costs/catalogues/1/")
    assert detail.status_code == 200
    items = {item["code"]: item for item in detail.json()["items"]}
    assert len(items) == 32
    assert items["youth_care_residential"]["price_base_year"] == "255.16"


def test_normal_user_reads_the_cpi_series(researcher):
    response = api(researcher).get("/api/costs/cpi-years/")
    assert response.status_code == 200
    rows = {row["year"]: row["annual_change_pct"] for row in response.json()["results"]}
    assert rows[2014] == "1.00" and rows[2022] == "10.00"


def test_anonymous_user_reads_nothing():
    assert api().get("/api/costs/catalogues/").status_code in (401, 403)
    assert api().get("/api/costs/cpi-years/").status_code in (401, 403)


def test_non_data_manager_cannot_write_cpi_years(researcher):
    response = api(researcher).post(
        "/api/costs/cpi-years/", {"year": 2026, "annual_change_pct": "3.3"}
    )
    assert response.status_code == 403
    response = api(researcher).patch("/api/costs/cpi-years/2014/", {"annual_change_pct": "9"})
    assert response.status_code == 403
    assert not CpiYear.objects.filter(year=2026).exists()
    assert CpiYear.objects.get(year=2014).annual_change_pct == Decimal("1.00")


def test_data_manager_adds_and_corrects_cpi_years(data_manager):
    created = api(data_manager).post(
        "/api/costs/cpi-years/", {"year": 2026, "annual_change_pct": "3.3"}
    )
    assert created.status_code == 201, created.content
    assert CpiYear.objects.get(year=2026).annual_change_pct == Decimal("3.30")
    updated = api(data_manager).patch("/api/costs/cpi-years/2026/", {"annual_change_pct": "3.1"})
    assert updated.status_code == 200, updated.content
    assert CpiYear.objects.get(year=2026).annual_change_pct == Decimal("3.10")


def test_catalogues_are_read_only_over_the_api(data_manager):
    response = api(data_manager).post("/api/costs/catalogues/", {"name": "x"})
    assert response.status_code == 405


def test_api_schema_includes_the_cost_endpoints(researcher):
    response = api(researcher).get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/costs/cpi-years/" in response.content


def test_editing_a_price_in_the_admin_creates_a_new_version(client, django_user_model):
    admin = django_user_model.objects.create_superuser("admin", password="pw")
    client.force_login(admin)
    item = PriceItem.objects.get(catalogue__version=1, code="bijstand_admin")
    url = f"/admin/costs/priceitem/{item.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "description": item.description,
            "unit": item.unit,
            "reference_year": 2013,
            "price_at_reference_year": "2600.00",
            "index_factor_to_base": "1.01",
            "source_note": item.source_note,
            "revision_note": "Divosa 2015",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    new = PriceCatalogue.objects.get(version=2)
    assert (new.note, new.created_by, new.parent.version) == ("Divosa 2015", admin, 1)
    assert new.items.get(code="bijstand_admin").price_base_year == Decimal("2626.00")
    item.refresh_from_db()
    assert item.price_at_reference_year == Decimal("2572.00")


def test_admin_is_closed_to_non_data_managers(client, django_user_model):
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)
    assert client.get("/admin/costs/cpiyear/").status_code == 403


def test_data_manager_edits_cpi_years_in_the_admin(client, data_manager):
    client.force_login(data_manager)
    cpi = CpiYear.objects.get(year=2024)
    assert client.get("/admin/costs/cpiyear/").status_code == 200
    response = client.post(
        f"/admin/costs/cpiyear/{cpi.pk}/change/",
        {"year": 2024, "annual_change_pct": "3.4", "source": "CBS 2025"},
    )
    assert response.status_code == 302
    cpi.refresh_from_db()
    assert cpi.annual_change_pct == Decimal("3.40")


def test_catalogue_prices_indexed_to_a_price_year(researcher):
    response = api(researcher).get("/api/costs/catalogues/1/prices/?price_year=2015")
    assert response.status_code == 200
    prices = {row["code"]: row for row in response.json()}
    assert prices["ww_admin"]["price"] == 2269.54  # 2,256.00 x 1.006
    assert prices["ggz_basic"]["price"] is None
    assert prices["ww_admin"]["catalogue_version"] == 1


def test_catalogue_prices_for_a_year_without_cpi_is_a_clear_400(researcher):
    response = api(researcher).get("/api/costs/catalogues/1/prices/?price_year=2030")
    assert response.status_code == 400
    assert "2026" in response.json()["price_year"][0]


def test_baseline_indexed_to_a_price_year(researcher):
    response = api(researcher).get("/api/costs/baseline/?price_year=2015")
    assert response.status_code == 200
    body = response.json()
    assert (body["point"], body["low"], body["high"]) == (114_976.75, 108_648.0, 115_690.0)
