"""Recording wave surveys and professional surveys through the API: through the services, per
role, and with errors named by field."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from study.models import Professional, ProfessionalSurvey, WaveSurvey
from study.roles import Role
from study.services.families import MemberSpec
from study.services.studies import membership_grant
from study.services.surveys import wave_survey_record
from study.services.waves import wave_lock
from tests.factories import make_family, make_study, make_user
from tests.otp import api_verified

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    return api_verified(user)


@pytest.fixture
def professional(study):
    return Professional.objects.create(
        study=study, organisation="Wijkteam", approach=Professional.Approach.NEW
    )


def test_researcher_records_and_changes_a_wave_survey(researcher, family):
    wave = family.waves.get(index=0)
    client = api(researcher)
    response = client.post(
        "/api/wave-surveys/", {"wave": wave.pk, "satisfaction": 7, "qol_rating": 6}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["satisfaction"] == 7
    response = client.post(
        "/api/wave-surveys/", {"wave": wave.pk, "satisfaction": 8}, format="json"
    )
    assert response.status_code == 200
    survey = WaveSurvey.objects.get(wave=wave)
    assert (survey.satisfaction, survey.qol_rating, survey.source) == (8, 6, "api")
    assert survey.history.first().history_user == researcher  # audited through the service


def test_wave_survey_errors_name_the_field_and_save_nothing(researcher, family):
    wave = family.waves.get(index=0)
    response = api(researcher).post(
        "/api/wave-surveys/", {"wave": wave.pk, "satisfaction": 11}, format="json"
    )
    assert response.status_code == 400
    assert "satisfaction" in response.json()
    assert not WaveSurvey.objects.filter(wave=wave).exists()


def test_wave_survey_refused_on_a_pre_intake_year_and_a_locked_wave(researcher, family):
    pre = family.waves.filter(index__lt=0).first()
    if pre is not None:
        response = api(researcher).post(
            "/api/wave-surveys/", {"wave": pre.pk, "satisfaction": 5}, format="json"
        )
        assert response.status_code == 400 and response.json()
    locked = wave_lock(wave=family.waves.get(index=0), user=researcher)
    response = api(researcher).post(
        "/api/wave-surveys/", {"wave": locked.pk, "satisfaction": 5}, format="json"
    )
    assert response.status_code == 400 and response.json()
    assert not WaveSurvey.objects.filter(wave=locked).exists()


def test_wave_survey_of_another_study_is_not_found(researcher, study):
    stranger = make_user(Role.RESEARCHER)
    other = make_study()
    membership_grant(study=other, user=stranger, role=Role.RESEARCHER)
    wave = make_family(other, user=stranger).waves.get(index=0)
    response = api(researcher).post(
        "/api/wave-surveys/", {"wave": wave.pk, "satisfaction": 5}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"wave": ["not found"]}
    assert not WaveSurvey.objects.filter(wave=wave).exists()


@pytest.mark.parametrize("role", ["coach", "gemeente_user"])
def test_coach_and_gemeente_may_not_record_surveys(request, role, family, professional):
    user = request.getfixturevalue(role)
    client = api(user)
    wave = family.waves.get(index=0)
    response = client.post(
        "/api/wave-surveys/", {"wave": wave.pk, "satisfaction": 5}, format="json"
    )
    assert response.status_code == 403 and response.json()["detail"]
    response = client.post(
        "/api/professional-surveys/",
        {"professional": professional.pk, "year": 2022, "autonomy": 3},
        format="json",
    )
    assert response.status_code == 403 and response.json()["detail"]
    assert not WaveSurvey.objects.exists() and not ProfessionalSurvey.objects.exists()


def test_data_manager_records_a_professional_survey_once_per_year(data_manager, professional):
    client = api(data_manager)
    payload = {"professional": professional.pk, "year": 2022, "autonomy": 3, "pride": 4}
    assert client.post("/api/professional-surveys/", payload, format="json").status_code == 201
    payload["autonomy"] = 5
    response = client.post("/api/professional-surveys/", payload, format="json")
    assert response.status_code == 200
    survey = ProfessionalSurvey.objects.get(professional=professional, year=2022)
    assert (survey.autonomy, survey.pride) == (5, 4)


def test_professional_survey_range_and_scope_errors(researcher, professional):
    client = api(researcher)
    response = client.post(
        "/api/professional-surveys/",
        {"professional": professional.pk, "year": 2022, "autonomy": 6},
        format="json",
    )
    assert response.status_code == 400 and "autonomy" in response.json()
    foreign = Professional.objects.create(
        study=make_study(), organisation="Elders", approach=Professional.Approach.USUAL
    )
    response = client.post(
        "/api/professional-surveys/",
        {"professional": foreign.pk, "year": 2022, "autonomy": 3},
        format="json",
    )
    assert response.status_code == 400 and response.json() == {"professional": ["not found"]}
    assert not ProfessionalSurvey.objects.exists()


def test_members_show_no_identity(researcher, study):
    family = make_family(
        study,
        user=researcher,
        members=[
            MemberSpec("adult", 1980, "mother Fatima"),
            MemberSpec("child", 2013),
        ],
    )
    response = api(researcher).get("/api/members/", {"family": family.pk})
    rows = response.json()["results"]
    assert len(rows) == 2
    assert set(rows[0]) == {"id", "family", "role", "birth_year"}
    assert "Fatima" not in response.content.decode()


def test_professionals_do_not_show_the_login_account(researcher, professional):
    professional.user = make_user(None)
    professional.save()
    row = api(researcher).get(f"/api/professionals/{professional.pk}/").json()
    assert set(row) == {"id", "study", "code", "organisation", "approach"}


def test_filters_and_pagination(researcher, family, other_family):
    client = api(researcher)
    for f in (family, other_family):
        wave_survey_record(wave=f.waves.get(index=0), data={"satisfaction": 5})
    rows = client.get("/api/wave-surveys/", {"wave__family": family.pk}).json()["results"]
    assert [r["family"] for r in rows] == [family.pk]
    page = client.get("/api/members/", {"limit": 1}).json()
    assert page["count"] == family.members.count() + other_family.members.count()
    assert len(page["results"]) == 1 and page["next"]
    response = client.get("/api/members/", {"role": "nonsense"})
    assert response.status_code == 400 and "role" in response.json()


def test_missing_codes_only_for_survey_fields(researcher, family):
    wave = family.waves.get(index=0)
    response = api(researcher).post(
        "/api/wave-surveys/",
        {"wave": wave.pk, "missing_codes": {"shoe_size": "refused"}},
        format="json",
    )
    assert response.status_code == 400
    assert "shoe_size" in response.json()["missing_codes"][0]
    response = api(researcher).post(
        "/api/wave-surveys/",
        {"wave": wave.pk, "missing_codes": {"participation_step": "refused"}},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["missing_codes"] == {"participation_step": "refused"}
