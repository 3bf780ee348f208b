"""The family page's registry table: each indicator's value per wave as the pages show it (a
number without trailing zeros, or the words of its missing code)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from study.services.values import indicator_values_record

pytestmark = pytest.mark.django_db


def test_the_registry_table_shows_numbers_and_missing_codes_per_wave(client, researcher, family):
    t0, t1 = family.waves.get(index=0), family.waves.get(index=1)
    indicator_values_record(wave=t0, values={"bijstand": 2, "moves": 0}, user=researcher)
    indicator_values_record(wave=t1, values={"bijstand": "not_delivered"}, user=researcher)
    client.force_login(researcher)
    response = client.get(reverse("study:family_detail", args=[family.pk]))
    assert response.status_code == 200
    waves = response.context["waves"]
    rows = {r["code"]: r["cells"] for r in response.context["indicator_rows"]}
    column = {wave.index: i for i, wave in enumerate(waves)}
    assert rows["bijstand"][column[0]] == "2"  # stored as 2.00
    assert rows["bijstand"][column[1]] == "not delivered by the registry"
    assert rows["moves"][column[0]] == "0"
    assert rows["moves"][column[1]] == ""
