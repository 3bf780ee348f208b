"""Users with and without the data-manager role for the cost-model tests."""

import pytest
from django.contrib.auth.models import Group


@pytest.fixture
def data_manager(django_user_model):
    user = django_user_model.objects.create_user("dm", password="pw", is_staff=True)
    group, _ = Group.objects.get_or_create(name="datamanager")
    user.groups.add(group)
    return user


@pytest.fixture
def researcher(django_user_model):
    user = django_user_model.objects.create_user("researcher", password="pw")
    group, _ = Group.objects.get_or_create(name="researcher")
    user.groups.add(group)
    return user
