"""The /monitor/ pages per role: researchers and data managers see every stored report and
publish; the gemeente sees only published reports of its own municipality; others nothing."""

import pytest
from django.utils import translation

from analysis.monitor.models import MonitorReport
from analysis.monitor.services import monitor_report_publish

from .helpers_monitor import shown_counts, stored_reports

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def reports(tmp_path, researcher):
    stored = stored_reports(tmp_path)
    monitor_report_publish(report=stored["Almelo"], user=researcher)
    monitor_report_publish(report=stored["Borne"], user=researcher)
    draft = MonitorReport.objects.create(
        municipality="Almelo", year=2015, summary={"mpg": 12}, tables={}, cost={}
    )
    return {"almelo": stored["Almelo"], "borne": stored["Borne"], "draft": draft, **stored}


def listed(client):
    response = client.get("/monitor/")
    assert response.status_code == 200
    return {r.pk for r in response.context["reports"]}


@pytest.mark.parametrize("role", ["researcher", "data_manager"])
def test_researcher_and_data_manager_see_every_report(client, request, reports, role):
    client.force_login(request.getfixturevalue(role))
    assert listed(client) == set(MonitorReport.objects.values_list("pk", flat=True))
    response = client.get(f"/monitor/{reports['draft'].pk}/")
    assert response.status_code == 200
    assert b"Publish for the municipality" in response.content


def test_gemeente_sees_only_published_reports_of_its_own_municipality(
    client, study, gemeente_user, reports
):
    assert study.municipality == "Almelo"
    client.force_login(gemeente_user)
    assert listed(client) == {reports["almelo"].pk}
    assert client.get(f"/monitor/{reports['almelo'].pk}/").status_code == 200
    assert client.get(f"/monitor/{reports['borne'].pk}/").status_code == 404
    assert client.get(f"/monitor/{reports['draft'].pk}/").status_code == 404


def test_gemeente_without_a_study_membership_sees_nothing(client, reports):
    from tests.factories import make_user

    client.force_login(make_user("gemeente"))
    assert listed(client) == set()
    assert client.get(f"/monitor/{reports['almelo'].pk}/").status_code == 404


def test_inactive_gemeente_membership_gives_no_access(client, study, gemeente_user, reports):
    study.memberships.filter(user=gemeente_user).update(active=False)
    client.force_login(gemeente_user)
    assert listed(client) == set()


def test_wijkcoach_sees_no_monitor_report(client, coach, reports):
    client.force_login(coach)
    assert listed(client) == set()
    assert client.get(f"/monitor/{reports['almelo'].pk}/").status_code == 404


def test_anonymous_is_sent_to_login(client, reports):
    response = client.get("/monitor/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_gemeente_page_shows_tables_trend_and_cost_but_never_a_count_from_one_to_nine(
    client, study, gemeente_user, reports
):
    client.force_login(gemeente_user)
    response = client.get(f"/monitor/{reports['almelo'].pk}/")
    context = response.context
    counts = (
        shown_counts(context["headline"])
        + shown_counts(context["overlap"])
        + shown_counts(context["indicators"])
    )
    assert len(context["headline"]["rows"]) >= 2  # the wijken and the municipality's total
    assert "*" in counts
    assert not any(c in {str(n) for n in range(1, 10)} for c in counts)
    body = response.content.decode()
    assert "Cost per MPG per year" in body
    assert "Publish for the municipality" not in body
    assert "minimum" not in body.lower() and "maximum" not in body.lower()


def test_researcher_publishes_and_withdraws(client, researcher, study, gemeente_user, reports):
    draft = reports["draft"]
    client.force_login(researcher)
    client.post(f"/monitor/{draft.pk}/publish/")
    draft.refresh_from_db()
    assert draft.published_at is not None and draft.published_by == researcher
    client.force_login(gemeente_user)
    assert draft.pk in listed(client)
    client.force_login(researcher)
    client.post(f"/monitor/{draft.pk}/publish/", {"action": "withdraw"})
    draft.refresh_from_db()
    assert draft.published_at is None


def test_gemeente_cannot_publish(client, study, gemeente_user, reports):
    client.force_login(gemeente_user)
    response = client.post(f"/monitor/{reports['draft'].pk}/publish/")
    assert response.status_code == 404
    reports["draft"].refresh_from_db()
    assert reports["draft"].published_at is None
    # Not even a report it may read.
    response = client.post(f"/monitor/{reports['almelo'].pk}/publish/", {"action": "withdraw"})
    assert response.status_code == 404
    reports["almelo"].refresh_from_db()
    assert reports["almelo"].published_at is not None


def test_admin_lists_reports_read_only(client, data_manager, reports):
    data_manager.is_superuser = True
    data_manager.save(update_fields=["is_superuser"])
    client.force_login(data_manager)
    assert client.get("/admin/monitor/monitorreport/").status_code == 200
    assert client.get("/admin/monitor/monitorreport/add/").status_code == 403


def test_a_researcher_of_another_municipality_neither_sees_nor_manages_its_reports(client, reports):
    """The hole of the review: a researcher of another study only listed Almelo's reports,
    withdrew the published one and published a draft."""
    from tests.factories import make_member, make_study

    stranger = make_member(make_study(municipality="Hengelo"), "researcher")
    client.force_login(stranger)
    assert reports["almelo"].pk not in listed(client)
    assert reports["draft"].pk not in listed(client)
    for report, action in ((reports["almelo"], "withdraw"), (reports["draft"], "publish")):
        response = client.post(f"/monitor/{report.pk}/publish/", {"action": action})
        assert response.status_code == 404
    reports["almelo"].refresh_from_db()
    reports["draft"].refresh_from_db()
    assert reports["almelo"].published_at is not None
    assert reports["draft"].published_at is None
