"""The data manager's access-log page: filters, the CSV of the filtered events, refused to
everyone else; the admin's family pages log their reads."""

import csv
import io

import pytest
from django.test import Client

from study.access_log import access_event_record
from study.models import AccessEvent
from study.roles import Role
from tests.factories import make_member
from tests.otp import login_verified

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def second_factor_required(settings):
    settings.OTP_REQUIRED = True


def test_the_data_manager_filters_the_log_and_downloads_it(study, family, researcher, coach):
    manager = make_member(study, Role.DATA_MANAGER)
    login_verified(Client(), researcher).get(f"/families/{family.pk}/")
    access_event_record(user=coach, action="family.care_workers", family=family)
    client = login_verified(Client(), manager)
    page = client.get(f"/studies/{study.pk}/access-log/", {"actor": researcher.username})
    assert page.status_code == 200
    events = page.context["events"]
    assert events and {e.actor_id for e in events} == {researcher.pk}
    assert "family.view" in page.content.decode()
    by_family = client.get(f"/studies/{study.pk}/access-log/", {"family": family.pk})
    assert {e.action for e in by_family.context["events"]} >= {"family.view", "family.care_workers"}
    answer = client.get(
        f"/studies/{study.pk}/access-log/", {"action": "family.care", "format": "csv"}
    )
    rows = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode())))
    assert rows[0][0] == "when" and len(rows) == 2
    assert rows[1][1] == coach.username and rows[1][5] == str(family.pk)


def test_nobody_but_the_data_manager_reads_the_access_log(study, researcher, coach):
    for user in (researcher, coach):
        answer = login_verified(Client(), user).get(f"/studies/{study.pk}/access-log/")
        assert answer.status_code in (403, 404)


def test_a_formula_in_the_log_is_neutralised_in_its_csv(study, family):
    manager = make_member(study, Role.DATA_MANAGER)
    access_event_record(user=manager, action="x", family=family, detail='=cmd|"/c calc"!A1')
    answer = login_verified(Client(), manager).get(
        f"/studies/{study.pk}/access-log/", {"format": "csv", "action": "x"}
    )
    text = b"".join(answer.streaming_content).decode()
    assert "'=cmd" in text and ",=cmd" not in text


def test_the_admins_family_pages_log_their_reads(family):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "r@example.nl", "pw-for-tests-123")
    client = login_verified(Client(), admin)
    before = AccessEvent.objects.count()
    assert client.get("/admin/study/family/").status_code == 200
    assert client.get(f"/admin/study/family/{family.pk}/change/").status_code == 200
    assert client.get(f"/admin/study/wave/{family.waves.first().pk}/change/").status_code == 200
    events = list(AccessEvent.objects.order_by("pk")[before:])
    assert [e.action for e in events] == [
        "admin.family.list",
        "admin.family.view",
        "admin.wave.view",
    ]
    assert all(family.pk in e.family_ids for e in events)
