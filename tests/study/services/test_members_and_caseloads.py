"""People and caseloads of a study through the services: invitations (own password, one-time
authenticator link), role changes and ends; caseloads assigned, handed over and ended, one
family or many, by a coordinator."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from study import access
from study.models import CaseloadAssignment, Professional, StudyMembership
from study.roles import Role
from study.services import care, members, professionals
from tests.factories import make_family, make_member, make_study, make_user

pytestmark = pytest.mark.django_db


def test_an_invited_person_sets_their_own_password_then_enrols_an_authenticator(
    data_manager, study, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.OTP_REQUIRED = True
    with django_capture_on_commit_callbacks(execute=True):
        invitation = members.member_invite(
            study=study,
            email="Onderzoeker@Hogeschool.nl",
            role=Role.RESEARCHER,
            invited_by=data_manager,
        )
    user = invitation.user
    assert invitation.created and user.email == "onderzoeker@hogeschool.nl"
    assert not user.has_usable_password()  # nobody but the person knows a password
    assert access.study_roles(user, study) == {Role.RESEARCHER}
    [mail] = mailoutbox
    assert mail.to == ["onderzoeker@hogeschool.nl"]
    assert invitation.password_url in mail.body and invitation.enrolment_url in mail.body

    client = Client()
    path = invitation.password_url.removeprefix(settings.SITE_URL)
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Twente-gezinnen-2026!", "new_password2": "Twente-gezinnen-2026!"},
    )
    assert response.status_code == 302, response.content[:300]
    user.refresh_from_db()
    assert user.check_password("Twente-gezinnen-2026!")
    assert client.get(path).status_code in (200, 302)  # the link is used up:
    assert "new_password1" not in client.get(path, follow=True).content.decode()


def test_an_existing_account_just_gets_the_role(data_manager, study, researcher, mailoutbox):
    researcher.email = "r@example.nl"
    researcher.save()
    invitation = members.member_invite(
        study=study, email="r@example.nl", role=Role.COORDINATOR, invited_by=data_manager
    )
    assert invitation.user == researcher and not invitation.created
    assert not invitation.password_url
    assert access.study_roles(researcher, study) == {Role.RESEARCHER, Role.COORDINATOR}


@pytest.mark.parametrize("email", ["", "not-an-address"])
def test_a_bad_address_is_refused(data_manager, study, email):
    before = get_user_model().objects.count()
    with pytest.raises(ValidationError):
        members.member_invite(
            study=study, email=email, role=Role.WIJKCOACH, invited_by=data_manager
        )
    assert get_user_model().objects.count() == before


def test_only_the_studys_data_manager_invites(study, researcher):
    coordinator = make_member(study, Role.COORDINATOR)
    for user in (researcher, coordinator):
        with pytest.raises(PermissionDenied):
            members.member_invite(
                study=study, email="x@example.nl", role=Role.WIJKCOACH, invited_by=user
            )
    assert not get_user_model().objects.filter(email="x@example.nl").exists()


def test_a_role_changes_and_a_membership_ends_audited(data_manager, study, researcher):
    membership = StudyMembership.objects.get(study=study, user=researcher)
    new = members.member_change_role(
        membership=membership, role=Role.DATA_MANAGER, changed_by=data_manager
    )
    assert access.study_roles(researcher, study) == {Role.DATA_MANAGER}
    with pytest.raises(ValidationError):
        members.member_end(membership=new, ended_by=data_manager, reason="")
    members.member_end(membership=new, ended_by=data_manager, reason="left the project")
    assert access.study_roles(researcher, study) == set()
    assert new.history.first().history_change_reason == "membership ended: left the project"


# --- caseloads ---------------------------------------------------------------------------------


@pytest.fixture
def coordinator(study):
    return make_member(study, Role.COORDINATOR)


def test_a_coordinator_assigns_many_families_at_once(study, coordinator, researcher):
    coach = make_member(study, Role.WIJKCOACH)
    families = [make_family(study, user=researcher) for _ in range(3)]
    assert (
        care.caseloads_assign(
            families=families, coach=coach, start_date=date(2026, 1, 5), user=coordinator
        )
        == 3
    )
    assert set(access.caseload_families(coach)) == set(families)
    with pytest.raises(ValidationError):  # a family with a coach is handed over instead
        care.caseloads_assign(
            families=families[:1],
            coach=make_user(Role.WIJKCOACH),
            start_date=date(2026, 2, 1),
            user=coordinator,
        )


def test_after_a_hand_over_the_old_coach_no_longer_sees_the_family(study, coordinator, researcher):
    old, new = make_member(study, Role.WIJKCOACH), make_member(study, Role.WIJKCOACH)
    family = make_family(study, user=researcher)
    start = timezone.localdate() - timedelta(days=30)
    care.caseloads_assign(families=[family], coach=old, start_date=start, user=coordinator)
    today = timezone.localdate()
    care.caseloads_hand_over(families=[family], coach=new, on=today, user=coordinator)
    assert family not in access.visible_families(old)
    assert family in access.visible_families(new)
    assert family in access.visible_families(old, on=today - timedelta(days=1))
    history = list(CaseloadAssignment.objects.filter(family=family).order_by("start_date"))
    assert [(a.coach, a.end_date) for a in history] == [
        (old, today - timedelta(days=1)),
        (new, None),
    ]
    assert history[0].history.first().history_change_reason == "caseload handed over"


def test_a_hand_over_is_all_or_none(study, coordinator, researcher):
    coach = make_member(study, Role.WIJKCOACH)
    with_coach = make_family(study, user=researcher)
    without = make_family(study, user=researcher)
    care.caseloads_assign(
        families=[with_coach], coach=coach, start_date=date(2026, 1, 1), user=coordinator
    )
    with pytest.raises(ValidationError):
        care.caseloads_hand_over(
            families=[with_coach, without],
            coach=make_member(study, Role.WIJKCOACH),
            on=date(2026, 3, 1),
            user=coordinator,
        )
    assert CaseloadAssignment.objects.get(family=with_coach).end_date is None


def test_ending_caseloads_keeps_their_history(study, coordinator, researcher):
    coach = make_member(study, Role.WIJKCOACH)
    families = [make_family(study, user=researcher) for _ in range(2)]
    care.caseloads_assign(
        families=families, coach=coach, start_date=date(2026, 1, 1), user=coordinator
    )
    assert care.caseloads_end(families=families, on=date(2026, 6, 30), user=coordinator) == 2
    assert (
        CaseloadAssignment.objects.filter(family__in=families, end_date=date(2026, 6, 30)).count()
        == 2
    )
    assert not access.caseload_families(coach).exists()


def test_coaches_researchers_and_other_studies_do_not_manage_caseloads(
    study, researcher, coach, family
):
    other_coordinator = make_member(make_study(), Role.COORDINATOR)
    for user in (coach, researcher, other_coordinator):
        with pytest.raises(PermissionDenied):
            care.caseloads_end(families=[family], on=date(2026, 1, 1), user=user)


# --- professionals -------------------------------------------------------------------------------


def test_professionals_are_registered_and_deactivated_with_a_reason(
    study, researcher, gemeente_user
):
    professional = professionals.professional_register(
        study=study,
        organisation="Wijkteam Hengelo",
        approach=Professional.Approach.NEW,
        user=researcher,
    )
    assert professional.code.startswith("G-") and professional.active
    with pytest.raises(ValidationError):
        professionals.professional_deactivate(
            professional=professional, on=date(2026, 5, 1), reason="", user=researcher
        )
    professionals.professional_deactivate(
        professional=professional, on=date(2026, 5, 1), reason="left the team", user=researcher
    )
    professional.refresh_from_db()
    assert (professional.active, professional.ended_on) == (False, date(2026, 5, 1))
    with pytest.raises(PermissionDenied):
        professionals.professional_register(
            study=study, organisation="X", approach=Professional.Approach.NEW, user=gemeente_user
        )
