"""Access rules: one module (study.access) decides who sees which family, and pages follow it."""

from datetime import date

import pytest

from study import access, selectors
from study.models import Family
from study.services.care import care_involvement_add, caseload_end
from study.services.families import family_soft_delete
from tests.factories import make_family, make_study, make_user


def test_wijkcoach_sees_only_own_caseload(coach, family, other_family):
    assert list(access.visible_families(coach)) == [family]


def test_wijkcoach_cannot_open_other_coachs_family_page(client, coach, family, other_family):
    client.force_login(coach)
    assert client.get(f"/families/{other_family.pk}/").status_code == 404
    assert client.get(f"/families/{family.pk}/").status_code == 200


def test_wijkcoach_cannot_change_other_coachs_family(coach, other_family):
    with pytest.raises(Exception) as excinfo:
        care_involvement_add(
            family=other_family,
            organisation="X",
            discipline="Y",
            start_date=date(2022, 1, 1),
            user=coach,
        )
    assert "caseload" in str(excinfo.value)
    assert other_family.care_involvements.count() == 0


def test_ended_caseload_assignment_hides_the_family(coach, family):
    assignment = family.assignments.get()
    caseload_end(assignment=assignment, end_date=date(2022, 1, 1))
    assert not access.visible_families(coach, on=date(2023, 1, 1)).exists()
    assert access.visible_families(coach, on=date(2021, 6, 1)).exists()


def test_gemeente_cannot_read_any_family(client, gemeente_user, family, other_family):
    assert not access.visible_families(gemeente_user).exists()
    client.force_login(gemeente_user)
    for f in (family, other_family):
        assert client.get(f"/families/{f.pk}/").status_code == 404


def test_researcher_sees_own_study_only(researcher, family, other_family):
    foreign = make_family(make_study(), user=None)
    visible = set(access.visible_families(researcher))
    assert visible == {family, other_family}
    assert foreign not in visible


def test_researcher_of_other_study_gets_404(client, family):
    stranger = make_user("researcher")
    client.force_login(stranger)
    assert client.get(f"/families/{family.pk}/").status_code == 404
    assert client.get(f"/studies/{family.study_id}/").status_code == 404


def test_data_manager_sees_every_family_of_their_study_only(data_manager, family, other_family):
    foreign = make_family(make_study(), user=None)
    assert set(access.visible_families(data_manager)) == {family, other_family}
    assert foreign not in set(access.visible_families(data_manager))


def test_installation_administrator_sees_every_family(family, other_family):
    admin = make_user(None)
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    foreign = make_family(make_study(), user=None)
    assert set(access.visible_families(admin)) == {family, other_family, foreign}


def test_anonymous_user_is_sent_to_login(client, family):
    response = client.get(f"/families/{family.pk}/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_soft_deleted_family_disappears_but_is_kept(researcher, family, data_manager):
    family_soft_delete(family=family, reason="enrolled twice", user=data_manager)
    assert not access.visible_families(researcher).filter(pk=family.pk).exists()
    assert Family.objects.filter(pk=family.pk, is_deleted=True).exists()


def test_soft_delete_needs_a_reason(family, data_manager):
    with pytest.raises(Exception, match="reason"):
        family_soft_delete(family=family, reason=" ", user=data_manager)


def test_family_page_read_is_logged(client, researcher, family):
    from study.models import AccessEvent

    client.force_login(researcher)
    client.get(f"/families/{family.pk}/")
    event = AccessEvent.objects.get(action="family.view")
    assert event.actor == researcher and event.pseudonym == family.pseudonym


def test_study_list_for_coach_follows_caseload(coach, family):
    assert list(selectors.study_list(coach)) == [family.study]


def test_the_monitor_is_scoped_by_the_studys_gemeentecode(db):
    """A study set up with a CBS code counts for the municipality the code names, whatever
    name was typed; one without a code counts for its own name."""
    from study.roles import Role
    from study.services.studies import membership_grant

    researcher = make_user(Role.RESEARCHER)
    coded = make_study(municipality="Almelo (pilot)", municipality_code="GM0141")
    membership_grant(study=coded, user=researcher, role=Role.RESEARCHER)
    assert access.municipality_of(coded) == "Almelo"
    assert access.monitor_municipalities(researcher) == frozenset({"Almelo"})
    assert access.may_manage_monitor(researcher, "Almelo")
    assert not access.may_manage_monitor(researcher, "Almelo (pilot)")
    uncoded = make_study(municipality="Borne")
    membership_grant(study=uncoded, user=researcher, role=Role.RESEARCHER)
    assert access.monitor_municipalities(researcher) == frozenset({"Almelo", "Borne"})
    assert not access.may_manage_monitor(make_user(Role.RESEARCHER), "Almelo")
