"""The cost breakdown of one study family, from its recorded indicator values."""

from decimal import Decimal

import pytest

from analysis.costs.engine import family_totals
from analysis.costs.selectors import costs_for_families
from study.models import Family
from study.services.values import indicator_values_record

pytestmark = pytest.mark.django_db


def test_recorded_values_are_priced_in_the_study_price_year(family, researcher):
    wave = family.waves.get(index=0)  # calendar year 2021
    indicator_values_record(wave=wave, values={"bijstand": 1, "child_ots": 1}, user=researcher)
    costs = costs_for_families(Family.objects.filter(pk=family.pk), price_year=2014)
    totals = family_totals(costs).set_index("period")
    # 2014 prices of the report: bijstand 16,372.17 + admin 2,597.72; OTS 8,120.91
    expected = Decimal("16372.17") + Decimal("2597.72") + Decimal("8120.91")
    assert round(Decimal(str(totals.loc[2021, "total_eur"])), 2) == expected
    assert not totals.loc[2021, "complete"]  # the other costed indicators were not recorded


def test_researcher_sees_the_cost_page_and_a_coach_does_not(client, family, researcher, coach):
    indicator_values_record(wave=family.waves.get(index=0), values={"bijstand": 1}, user=researcher)
    client.force_login(researcher)
    response = client.get(f"/costs/families/{family.pk}/")
    page = response.content.decode()
    # The item in words in the reader's language, not its code (issue 20).
    assert response.status_code == 200 and "Social assistance (bijstand), couple" in page
    assert "bijstand_benefit" not in page
    client.force_login(coach)
    assert client.get(f"/costs/families/{family.pk}/").status_code == 403
