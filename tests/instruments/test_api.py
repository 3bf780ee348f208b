"""The instruments' API per role: versions with items and scales, entering an administration
(researcher, the wijkcoach of the family) and reading its scores; the rest are refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from instruments.definition import read_definition_file
from instruments.models import Administration, InstrumentVersion
from instruments.services import instrument_version_add, instruments_ensure_shipped
from study.models import AccessEvent
from study.roles import Role
from study.services.care import caseload_assign
from tests.factories import make_family, make_member, make_study
from tests.otp import api_verified

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"


@pytest.fixture
def world():
    instruments_ensure_shipped()
    study = make_study()
    researcher = make_member(study, Role.RESEARCHER)
    coach = make_member(study, Role.WIJKCOACH)
    family = make_family(study, user=researcher)
    caseload_assign(family=family, coach=coach, start_date=date(2021, 3, 1), user=researcher)
    ladder = InstrumentVersion.objects.get(code="participatieladder", version=1)
    return study, researcher, coach, family, family.waves.get(index=0), ladder


def _enter(client, wave, version, **body):
    payload = {"wave": wave.pk, "instrument_version": version.pk, **body}
    return client.post("/api/administrations/", payload, format="json")


def test_versions_carry_items_scale_labels_scores_and_terms(world):
    _, researcher, *_ = world
    rows = api_verified(researcher).get("/api/instrument-versions/", {"code": "mansa12"}).json()
    (mansa,) = rows["results"] if isinstance(rows, dict) else rows
    assert mansa["version"] == 1 and len(mansa["items"]) == 12
    assert mansa["items"][0]["values"]["7"]["nl"] == "Kan niet beter"
    assert mansa["scores"][0] == {
        "code": "mean",
        "label": "kwaliteit van leven, gemiddelde tevredenheid (1-7)",
        "method": "mean",
        "items": mansa["scores"][0]["items"],
        "min_items": 10,
    }
    assert "Priebe" in mansa["source"] and mansa["licence"]


def test_a_studys_own_version_is_listed_only_to_that_study(world):
    study, researcher, *_ = world
    instrument_version_add(
        definition=read_definition_file(DATA / "zrm_fixture.v2.yaml"), study=study
    )
    outsider = make_member(make_study(), Role.RESEARCHER)
    codes = lambda user: {  # noqa: E731
        r["code"] for r in _rows(api_verified(user).get("/api/instrument-versions/").json())
    }
    assert "zrm_fixture" in codes(researcher) and "zrm_fixture" not in codes(outsider)


def _rows(data):
    return data["results"] if isinstance(data, dict) else data


def test_a_researcher_enters_and_gets_the_scores(world):
    _, researcher, _, _, wave, ladder = world
    response = _enter(api_verified(researcher), wave, ladder, answers={"step": 4})
    assert response.status_code == 201, response.json()
    assert response.json()["scores"] == {"step": 4.0} and response.json()["version"] == 1
    admin = Administration.objects.get()
    assert (admin.mode, admin.source) == ("researcher", "api")


def test_the_wijkcoach_of_the_family_enters_and_reads(world):
    _, _, coach, family, wave, ladder = world
    client = api_verified(coach)
    assert _enter(client, wave, ladder, missing_codes={"step": "refused"}).status_code == 201
    listed = _rows(client.get("/api/administrations/").json())
    assert [r["family"] for r in listed] == [family.pk] and listed[0]["scores"] == {"step": None}
    assert AccessEvent.objects.order_by("-pk").first().family_ids == [family.pk]


def test_others_can_neither_enter_nor_read(world):
    study, researcher, _, _, wave, ladder = world
    _enter(api_verified(researcher), wave, ladder, answers={"step": 2})
    admin = Administration.objects.get()
    for role in (Role.GEMEENTE, Role.COORDINATOR, Role.WIJKCOACH):
        client = api_verified(make_member(study, role))  # a coach without this family
        assert _enter(client, wave, ladder, answers={"step": 5}).status_code == 400
        assert _rows(client.get("/api/administrations/").json()) == []
        assert client.get(f"/api/administrations/{admin.pk}/").status_code == 404
    other = api_verified(make_member(make_study(), Role.DATA_MANAGER))
    assert other.get(f"/api/administrations/{admin.pk}/").status_code == 404
    assert Administration.objects.get().answers == {"step": 2}


def test_bad_answers_are_a_readable_400(world):
    _, researcher, _, _, wave, ladder = world
    response = _enter(api_verified(researcher), wave, ladder, answers={"step": 9})
    assert response.status_code == 400 and "step" in response.json()


def test_the_schema_lists_the_instrument_endpoints(world):
    _, researcher, *_ = world
    schema = api_verified(researcher).get("/api/schema/", {"format": "json"}).json()
    assert "/api/administrations/" in schema["paths"]
    assert "post" in schema["paths"]["/api/administrations/"]
    assert "/api/instrument-versions/{id}/" in schema["paths"]
