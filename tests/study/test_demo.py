"""The demo study: realistic shape, idempotent, one user per role."""

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from study.demo import DEMO_USERS, seed_demo
from study.models import Family, IndicatorValue, Wave


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    # One seed for the module, rolled back afterwards so no demo row leaks into other tests.
    with django_db_blocker.unblock(), transaction.atomic():
        study, _ = seed_demo(seed=7)
        yield study
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_demo_has_40_families_per_arm_over_12_wijken(demo):
    families = Family.objects.filter(study=demo)
    assert families.filter(arm__kind="intervention").count() == 40
    assert families.filter(arm__kind="comparison").count() == 40
    assert families.values("wijk").distinct().count() == 12
    assert sorted({f.intake_date.year for f in families}) == [2020, 2021, 2022]


@pytest.mark.django_db
def test_demo_attrition_is_between_10_and_20_percent(demo):
    left = Family.objects.filter(study=demo).exclude(status="active").count()
    assert 8 <= left <= 16


@pytest.mark.django_db
def test_demo_has_pre_intake_years_with_values(demo):
    assert IndicatorValue.objects.filter(wave__family__study=demo, wave__index=-2).exists()
    assert Wave.objects.filter(family__study=demo, index=4, status="completed").exists()


@pytest.mark.django_db
def test_demo_is_idempotent_and_has_every_login(demo):
    again, created = seed_demo(seed=7)
    assert again == demo and not created
    names = set(get_user_model().objects.values_list("username", flat=True))
    assert set(DEMO_USERS) <= names


@pytest.mark.django_db
def test_demo_researcher_sees_the_study(client, demo):
    client.login(username="onderzoeker", password="demo")
    response = client.get(f"/studies/{demo.pk}/")
    assert response.status_code == 200
    assert demo.name in response.content.decode()
