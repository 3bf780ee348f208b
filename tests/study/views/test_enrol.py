"""The enrolment page: eligibility, arm and members through the service, its refusals shown."""

from __future__ import annotations

import pytest
from django.urls import reverse

from study.models import Family
from tests.factories import make_family, make_user

ELIGIBLE = {
    "elig_socio_economic": "on",
    "elig_adult_psychosocial": "on",
    "elig_child_psychosocial": "on",
    "elig_chronic": "on",
}


def _data(**overrides) -> dict:
    data = {
        "arm": "intervention",
        "intake_date": "2022-04-01",
        "wijk": "Noord",
        "allocation": "matched",
        **ELIGIBLE,
        "members-TOTAL_FORMS": "4",
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "15",
        "members-0-role": "adult",
        "members-0-birth_year": "1984",
        "members-1-role": "child",
        "members-1-birth_year": "2014",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _url(study) -> str:
    return reverse("study:family_enrol", args=[study.pk])


def test_researcher_enrols_an_eligible_family_with_members(client, researcher, study):
    client.force_login(researcher)
    response = client.post(_url(study), _data(identifier="111222333"))
    assert response.status_code == 302
    family = Family.objects.get(study=study)
    assert response.url == reverse("study:family_detail", args=[family.pk])
    assert family.arm.kind == "intervention" and family.wijk == "Noord"
    assert sorted(family.members.values_list("role", flat=True)) == ["adult", "child"]
    assert family.waves.count() == len(study.wave_indices)
    assert family.linkage_key and "111222333" not in family.linkage_key


def test_the_bsn_is_never_sent_back_to_the_browser(client, researcher, study):
    client.force_login(researcher)
    response = client.post(_url(study), _data(identifier="111222333", elig_chronic=None))
    assert response.status_code == 400
    assert "111222333" not in response.content.decode()


def test_an_ineligible_family_is_refused_with_the_missing_criterion(client, researcher, study):
    client.force_login(researcher)
    response = client.post(_url(study), _data(elig_chronic=None))
    assert response.status_code == 400
    assert not Family.objects.filter(study=study).exists()
    assert 'class="errorlist nonfield"' in response.content.decode()


def test_a_41st_intervention_family_is_refused_next_to_the_arm(client, researcher, study):
    study.intervention_cap = 1
    study.save()
    make_family(study)
    client.force_login(researcher)
    response = client.post(_url(study), _data())
    assert response.status_code == 400
    assert 'id="error-arm"' in response.content.decode()
    assert Family.objects.filter(study=study).count() == 1


def test_a_family_without_a_child_is_refused_at_the_members(client, researcher, study):
    client.force_login(researcher)
    response = client.post(_url(study), _data(**{"members-1-role": "adult"}))
    assert response.status_code == 400
    assert 'id="members-errors"' in response.content.decode()


def test_data_manager_may_enrol(client, data_manager, study):
    client.force_login(data_manager)
    assert client.get(_url(study)).status_code == 200


@pytest.mark.parametrize("who", ["coach", "gemeente_user"])
def test_coach_and_gemeente_cannot_enrol(client, request, study, family, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(_url(study)).status_code == 403
    assert client.post(_url(study), _data()).status_code == 403
    assert Family.objects.filter(study=study).count() == 1


def test_researcher_of_another_study_gets_404(client, study):
    client.force_login(make_user("researcher"))
    assert client.get(_url(study)).status_code == 404


def test_anonymous_is_sent_to_login(client, study):
    response = client.get(_url(study))
    assert response.status_code == 302 and "/accounts/login/" in response.url
