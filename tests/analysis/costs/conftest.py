"""Users with and without the data-manager role for the cost-model tests (roles are per study:
the price catalogue is shared by every study, and a data manager of any study edits it)."""

import pytest

from study.services.studies import membership_grant
from tests.factories import make_study


@pytest.fixture
def data_manager(django_user_model):
    user = django_user_model.objects.create_user("dm", password="pw", is_staff=True)
    membership_grant(study=make_study(), user=user, role="datamanager")
    return user


@pytest.fixture
def researcher(django_user_model):
    user = django_user_model.objects.create_user("researcher", password="pw")
    membership_grant(study=make_study(), user=user, role="researcher")
    return user
