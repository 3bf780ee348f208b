"""The set-up pages as their users use them: the installation administrator sets up a study, a
data manager invites people, a coordinator manages caseloads, a researcher records a family's
status and registers professionals, a randomised study's enrolment reveals the arm."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.formats import localize

from study.models import AllocationRecord, CaseloadAssignment, Family, Professional, Study
from study.roles import Role
from tests.factories import make_family, make_member, make_study
from tests.study.views.test_enrol import _data as enrol_data

pytestmark = pytest.mark.django_db

SET_UP = {
    "name": "Hengelo 30+30",
    "municipality_code": "GM0164",
    "start_date": "2026-01-01",
    "n_waves": "4",
    "wave_interval_months": "12",
    "wave_window_days": "60",
    "pre_intake_years": "2",
    "price_year": "2024",
    "intervention_name": "Gezin Centraal",
    "comparison_name": "Gebruikelijke zorg",
    "allocation_method": "randomised",
    "allocation_strata": "",
    "enrolment_target": "60",
    "eligibility_rule": "mpg",
}


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("beheer", "beheer@example.nl", "pw-x-123456")


def test_the_administrator_sets_up_a_study_from_the_page(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("study_new")).status_code == 200
    response = client.post(reverse("study_new"), SET_UP)
    study = Study.objects.get(name="Hengelo 30+30")
    assert response.status_code == 302 and response.url == reverse(
        "study:study_detail", args=[study.pk]
    )
    assert (study.municipality_code, study.municipality, study.enrolment_target) == (
        "GM0164",
        "Hengelo",
        60,
    )
    assert sorted(study.arms.values_list("name", flat=True)) == [
        "Gebruikelijke zorg",
        "Gezin Centraal",
    ]


def test_a_wrong_set_up_shows_its_errors_and_saves_nothing(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("study_new"), {**SET_UP, "enrolment_target": "", "pre_intake_years": "1"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "one enrolment target for both arms" in body
    assert "pre-trends" in body
    assert not Study.objects.filter(name="Hengelo 30+30").exists()


def test_a_data_manager_creates_a_study_and_becomes_its_data_manager(client, data_manager):
    client.force_login(data_manager)
    response = client.post(reverse("study_new"), {**SET_UP, "name": "Tweede"})
    assert response.status_code == 302
    study = Study.objects.get(name="Tweede")
    assert study.memberships.filter(user=data_manager, role=Role.DATA_MANAGER, active=True).exists()


def test_researchers_coaches_and_the_gemeente_set_up_no_study(
    client, researcher, coach, gemeente_user
):
    for user in (researcher, coach, gemeente_user):
        client.force_login(user)
        assert client.get(reverse("study_new")).status_code == 403
        assert client.post(reverse("study_new"), SET_UP).status_code == 403
    assert not Study.objects.filter(name="Hengelo 30+30").exists()


def test_the_data_manager_invites_from_the_members_page(
    client, data_manager, study, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(data_manager)
    url = reverse("study:study_members", args=[study.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"email": "coach@wijkteam.nl", "role": Role.WIJKCOACH})
    assert response.status_code == 200
    # The links go to the person only: the data manager cannot take over the new account.
    [mail] = mailoutbox
    body = response.content.decode()
    assert "/accounts/reset/" in mail.body and "/accounts/reset/" not in body
    assert "/accounts/2fa/enrol/" in mail.body and "/accounts/2fa/enrol/" not in body
    invited = get_user_model().objects.get(email="coach@wijkteam.nl")
    assert study.memberships.filter(user=invited, role=Role.WIJKCOACH, active=True).exists()
    membership = study.memberships.get(user=invited)
    end = reverse("study:membership_change", args=[study.pk, membership.pk])
    assert client.post(end, {"action": "end", "reason": "moved"}).status_code == 302
    membership.refresh_from_db()
    assert not membership.active


def test_the_coordinator_assigns_and_hands_over_from_the_caseload_page(client, study, researcher):
    coordinator = make_member(study, Role.COORDINATOR)
    first, second = make_member(study, Role.WIJKCOACH), make_member(study, Role.WIJKCOACH)
    families = [make_family(study, user=researcher) for _ in range(3)]
    client.force_login(coordinator)
    url = reverse("study:caseloads", args=[study.pk])
    page = client.get(url)
    assert page.status_code == 200 and families[0].pseudonym in page.content.decode()
    response = client.post(
        url,
        {
            "action": "assign",
            "coach": first.pk,
            "on": "2026-01-05",
            "families": [f.pk for f in families],
        },
    )
    assert response.status_code == 302
    assert CaseloadAssignment.objects.filter(coach=first).count() == 3
    response = client.post(
        url,
        {
            "action": "hand_over",
            "coach": second.pk,
            "on": "2026-03-01",
            "families": [families[0].pk],
        },
    )
    assert response.status_code == 302
    old = CaseloadAssignment.objects.get(coach=first, family=families[0])
    assert old.end_date == date(2026, 2, 28)
    response = client.post(
        url, {"action": "hand_over", "on": "2026-03-01", "families": [families[1].pk]}
    )
    assert response.status_code == 400  # no coach chosen
    # The refused form keeps the ticked family ticked, and only that one; each row names the
    # coach today and the caseload history.
    html = response.content.decode()

    def row(family):
        return html.split(f'data-family="{family.pseudonym}"')[1].split("</tr>")[0]

    assert f'id="f-{families[1].pk}" checked>' in row(families[1])
    assert " checked" not in row(families[0]) and " checked" not in row(families[2])
    assert f"<td>{second.username}</td>" in row(families[0])
    day = [localize(date(2026, 1, 5)), localize(date(2026, 2, 28)), localize(date(2026, 3, 1))]
    history = f"{first.username} {day[0]}–{day[1]}; {second.username} {day[2]}–</td>"
    assert history in row(families[0])


def test_a_coach_and_a_researcher_do_not_open_the_caseload_page(
    client, study, coach, family, researcher
):
    for user in (coach, researcher):
        client.force_login(user)
        assert client.get(reverse("study:caseloads", args=[study.pk])).status_code == 403


def test_a_researcher_records_a_drop_out_from_the_family_page(client, researcher, family):
    client.force_login(researcher)
    assert (
        'id="change-status"'
        in client.get(reverse("study:family_detail", args=[family.pk])).content.decode()
    )
    url = reverse("study:family_status", args=[family.pk])
    response = client.post(url, {"status": "dropped_out", "on": "2026-04-01", "reason": ""})
    assert response.status_code == 400 and "Give a reason" in response.content.decode()
    response = client.post(
        url, {"status": "dropped_out", "on": "2026-04-01", "reason": "no longer wants"}
    )
    assert response.status_code == 302
    family.refresh_from_db()
    assert (family.status, family.status_date, family.status_reason) == (
        "dropped_out",
        date(2026, 4, 1),
        "no longer wants",
    )


def test_the_coach_does_not_change_a_status(client, coach, family):
    client.force_login(coach)
    url = reverse("study:family_status", args=[family.pk])
    assert (
        client.post(url, {"status": "moved_away", "on": "2026-04-01", "reason": "x"}).status_code
        == 403
    )


def test_professionals_are_registered_and_deactivated_from_their_page(client, researcher, study):
    client.force_login(researcher)
    url = reverse("study:study_professionals", args=[study.pk])
    assert client.post(url, {"organisation": "Wijkteam", "approach": "new"}).status_code == 302
    professional = Professional.objects.get(study=study)
    stop = reverse("study:professional_deactivate", args=[study.pk, professional.pk])
    assert client.post(stop, {"on": "2026-05-01", "reason": "left"}).status_code == 302
    professional.refresh_from_db()
    assert not professional.active


def test_randomised_enrolment_reveals_the_arm_only_once_enrolled(client, researcher):
    study = make_study(
        municipality="",
        municipality_code="GM0164",
        allocation_method="randomised",
        enrolment_target=10,
    )
    make_member(study, Role.RESEARCHER, username="lead")
    lead = get_user_model().objects.get(username="lead")
    client.force_login(lead)
    url = reverse("study:family_enrol", args=[study.pk])
    page = client.get(url).content.decode()
    assert 'id="randomised-note"' in page and 'name="arm"' not in page
    data = enrol_data()
    data.pop("arm"), data.pop("allocation")
    response = client.post(url, data, follow=True)
    family = Family.objects.get(study=study)
    assert f"Allocated by randomisation to: {family.arm}" in response.content.decode()
    assert AllocationRecord.objects.get(family=family).allocated_by == lead


def test_the_set_up_page_changes_with_a_reason_and_freezes_after_enrolment(
    client, researcher, study
):
    client.force_login(researcher)
    url = reverse("study:study_edit", args=[study.pk])
    form = {
        **SET_UP,
        "name": study.name,
        "allocation_method": "matched",
        "enrolment_target": "",
        "intervention_cap": "40",
        "match_variables": "wijk",
    }
    assert client.post(url, {**form, "reason": ""}).status_code == 400
    assert client.post(url, {**form, "reason": "matched on wijk"}).status_code == 302
    study.refresh_from_db()
    assert (study.municipality_code, study.match_variables) == ("GM0164", "wijk")
    make_family(study, user=researcher)
    response = client.post(url, {**form, "n_waves": "2", "reason": "shorter"})
    assert response.status_code == 400 and "Families are enrolled" in response.content.decode()
    assert (
        client.post(url, {**form, "price_year": "2025", "reason": "new prices"}).status_code == 302
    )
    study.refresh_from_db()
    assert (study.n_waves, study.price_year) == (4, 2025)


def test_the_gemeente_does_not_open_the_set_up_page(client, gemeente_user, study):
    client.force_login(gemeente_user)
    assert client.get(reverse("study:study_edit", args=[study.pk])).status_code == 403


def test_a_withdrawal_under_the_remove_policy_returns_to_the_study_page(client, researcher, family):
    """The family leaves every page under the "remove" policy: the status page does not send
    the researcher to a family page that now answers 404."""
    from study.models import StudyDataPolicy

    StudyDataPolicy.objects.create(study=family.study, withdrawal=StudyDataPolicy.Withdrawal.REMOVE)
    client.force_login(researcher)
    url = reverse("study:family_status", args=[family.pk])
    response = client.post(url, {"status": "withdrawn", "on": "2026-04-01", "reason": "consent"})
    assert response.status_code == 302
    assert response["Location"] == reverse("study:study_detail", args=[family.study_id])
    assert client.get(reverse("study:family_detail", args=[family.pk])).status_code == 404
